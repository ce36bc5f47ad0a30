#include <happy_dial/detail/system_lookup.hpp>
#include <happy_dial/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <cctype>

namespace happy_dial::detail {
namespace {

namespace asio = boost::asio;

// Enough for several dials' AAAA and A lookups to run at once; each blocks in getaddrinfo.
constexpr std::size_t resolver_threads = 4;

asio::thread_pool& resolver_pool() {
    static asio::thread_pool pool(resolver_threads);
    return pool;
}

}  // namespace

void system_lookup(lookup_query query, dial_transport::answer_handler done) {
    asio::post(resolver_pool(), [query = std::move(query), done = std::move(done)]() mutable {
        asio::ip::tcp::resolver resolver(resolver_pool());
        const auto protocol =
            query.family == core::address_family::ipv6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4();
        boost::system::error_code ec;
        auto results = resolver.resolve(protocol, query.host, query.service, query.flags, ec);
        core::resolution_answer answer{query.family, {}, ec};
        if (ec == asio::error::service_not_found) {
            answer.error = error::invalid_service;
        }
        for (const auto& entry : results) {
            answer.endpoints.push_back(entry.endpoint());
        }
        done(std::move(answer));
    });
}

boost::system::error_code check_host(std::string_view host) {
    if (host.empty()) {
        return error::empty_host;
    }
    if (host.size() > 253) {
        return error::invalid_host;
    }
    for (const unsigned char c : host) {
        const bool ok = std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == ':' || c == '%';
        if (!ok) {
            return error::invalid_host;
        }
    }
    return {};
}

boost::system::error_code check_service(std::string_view service,
                                        std::optional<unsigned short>& port) {
    port.reset();
    if (service.empty()) {
        return error::invalid_service;
    }
    bool numeric = true;
    for (const unsigned char c : service) {
        numeric = numeric && std::isdigit(c);
    }
    if (!numeric) {
        return {};  // a name: getaddrinfo decides (service_not_found -> invalid_service)
    }
    // Saturating, so leading zeros ("00080" is port 80, as getaddrinfo reads it) and any length
    // are fine: a value past 65535 stays past it (issue #7; a length check rejected "000080").
    unsigned value = 0;
    for (const char c : service) {
        value = std::min(value * 10 + static_cast<unsigned>(c - '0'), 65536u);
    }
    if (value == 0 || value > 65535) {
        return error::invalid_service;
    }
    port = static_cast<unsigned short>(value);
    return {};
}

}  // namespace happy_dial::detail
