#include <happy_dial/core/target.hpp>
#include <happy_dial/detail/lookup_threads.hpp>
#include <happy_dial/detail/system_lookup.hpp>
#include <happy_dial/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cctype>
#include <cerrno>
#include <map>
#include <memory>
#include <mutex>
#include <netdb.h>
#include <string>
#include <sys/socket.h>
#include <vector>

namespace happy_dial::detail {
namespace {

namespace asio = boost::asio;

// getaddrinfo's error as happy_dial reports it. Unlike Asio's translation, EAI_NODATA (the name
// exists but has no record of this family) is not turned into host_not_found: it is a negative
// answer, an empty list with no error, and the dial goes on with the other family.
boost::system::error_code lookup_error(int rc, bool& no_data) {
    no_data = false;
    switch (rc) {
        case 0:
            return {};
#if defined(EAI_NODATA) && EAI_NODATA != EAI_NONAME
        case EAI_NODATA:
#endif
#if defined(EAI_ADDRFAMILY)
        case EAI_ADDRFAMILY:
#endif
            no_data = true;
            return {};
        case EAI_NONAME:
            return asio::error::host_not_found;
        case EAI_AGAIN:
            return asio::error::host_not_found_try_again;
        case EAI_FAIL:
            return asio::error::no_recovery;
        case EAI_SERVICE:
            return error::invalid_service;
        case EAI_MEMORY:
            return asio::error::no_memory;
        case EAI_FAMILY:
            return asio::error::address_family_not_supported;
        case EAI_SOCKTYPE:
            return asio::error::socket_type_not_supported;
        case EAI_BADFLAGS:
            return asio::error::invalid_argument;
        default:  // EAI_SYSTEM
            return {errno, asio::error::get_system_category()};
    }
}

core::resolution_answer resolve(const lookup_query& query) {
    addrinfo hints{};
    hints.ai_family = query.family == core::address_family::ipv6 ? AF_INET6 : AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = static_cast<int>(query.flags);
    addrinfo* list = nullptr;
    const int rc = ::getaddrinfo(query.host.c_str(), query.service.c_str(), &hints, &list);
    const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(list, &::freeaddrinfo);
    bool no_data = false;
    core::resolution_answer answer{query.family, {}, lookup_error(rc, no_data)};
    for (const addrinfo* ai = list; rc == 0 && ai; ai = ai->ai_next) {
        if (ai->ai_family != hints.ai_family) {
            continue;
        }
        asio::ip::tcp::endpoint ep;
        const auto size = std::min<std::size_t>(ai->ai_addrlen, ep.capacity());
        std::copy_n(reinterpret_cast<const unsigned char*>(ai->ai_addr),
                    size,
                    reinterpret_cast<unsigned char*>(ep.data()));
        ep.resize(size);
        answer.endpoints.push_back(ep);
    }
    return answer;
}

// Identical lookups in flight on one context (same host, service, family and flags) share
// one getaddrinfo call: a burst of dials to one name costs one thread, not one per dial.
class shared_lookups final : public asio::execution_context::service {
  public:
    using key_type = shared_lookups;
    inline static asio::execution_context::id id;

    struct state {
        std::mutex mutex;
        std::map<std::string, std::vector<dial_transport::answer_handler>> waiting;
    };

    explicit shared_lookups(asio::execution_context& context)
        : asio::execution_context::service(context), state_(std::make_shared<state>()) {}

    // Shared with the lookup threads, which may outlive the context.
    const std::shared_ptr<state>& shared() const noexcept { return state_; }

  private:
    void shutdown() override {}
    std::shared_ptr<state> state_;
};

std::string key_of(const lookup_query& query) {
    std::string key = query.host;
    key += '\0';
    key += query.service;
    key += '\0';  // (a "\0..." literal would append nothing: += stops at the NUL)
    key += query.family == core::address_family::ipv6 ? '6' : '4';
    key += std::to_string(static_cast<int>(query.flags));
    return key;
}

}  // namespace

void system_lookup(asio::execution_context& context,
                   lookup_query query,
                   dial_transport::answer_handler done) {
    const auto& shared = asio::use_service<shared_lookups>(context).shared();
    auto key = key_of(query);
    {
        std::lock_guard<std::mutex> lock(shared->mutex);
        auto [it, first] = shared->waiting.try_emplace(key);
        it->second.push_back(std::move(done));
        if (!first) {
            return;  // the call in flight answers this one too
        }
    }
    // The executor stays here: a lookup thread must not hold (or destroy) an executor of a
    // context that may be gone by the time getaddrinfo returns.
    query.executor = {};
    query.cancellation = {};
    asio::use_service<lookup_threads>(context).submit(
        [shared, key = std::move(key), query = std::move(query)] {
            const auto answer = resolve(query);
            std::vector<dial_transport::answer_handler> waiting;
            {
                std::lock_guard<std::mutex> lock(shared->mutex);
                auto it = shared->waiting.find(key);
                waiting.swap(it->second);
                shared->waiting.erase(it);
            }
            for (auto& waiter : waiting) {
                waiter(answer);
            }
        });
}

std::optional<unsigned short> service_port(std::string_view service) {
    std::optional<unsigned short> port;
    if (core::check_service(service, port) || port) {
        return port;
    }
    const std::string name(service);
    servent entry{};
    servent* found = nullptr;
    std::array<char, 1024> buffer{};
    if (::getservbyname_r(name.c_str(), "tcp", &entry, buffer.data(), buffer.size(), &found) != 0 ||
        !found) {
        return std::nullopt;
    }
    return static_cast<unsigned short>(ntohs(static_cast<std::uint16_t>(found->s_port)));
}

}  // namespace happy_dial::detail
