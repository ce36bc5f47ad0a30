#include "resolve/ares_channel.hpp"
#include "resolve/ares_lookup.hpp"

#include <happy_dial/detail/system_lookup.hpp>
#include <happy_dial/error.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <memory>
#include <netdb.h>
#include <netinet/in.h>

namespace happy_dial::detail {
namespace {

namespace asio = boost::asio;

// getaddrinfo flags a dial may set, in c-ares's spelling.
int ares_flags(asio::ip::resolver_base::flags flags) {
    using rb = asio::ip::resolver_base;
    int out = 0;
    if (flags & rb::address_configured) {
        out |= ARES_AI_ADDRCONFIG;
    }
    if (flags & rb::v4_mapped) {
        out |= ARES_AI_V4MAPPED;
    }
    if (flags & rb::all_matching) {
        out |= ARES_AI_ALL;
    }
    return out;
}

class host_lookup final : public ares_request {
  public:
    host_lookup(lookup_query query, dial_transport::answer_handler done, unsigned short port)
        : query_(std::move(query)), done_(std::move(done)), port_(port) {
        answer_.family = query_.family;
        query_.executor = {};  // not needed past the start
    }

  private:
    void issue(ares_channel channel) override {
        ares_addrinfo_hints hints{};
        hints.ai_family = query_.family == core::address_family::ipv6 ? AF_INET6 : AF_INET;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_protocol = IPPROTO_TCP;
        hints.ai_flags = ares_flags(query_.flags);
        // No service: the port is known already (the c-ares service lookup would read
        // /etc/services again). The answer is sorted by RFC 6724 within the family, as
        // getaddrinfo sorts it.
        ares_getaddrinfo(channel, query_.host.c_str(), nullptr, &hints, &on_result, this);
    }

    static void on_result(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
        const std::unique_ptr<ares_addrinfo, decltype(&ares_freeaddrinfo)> owner(
            result, &ares_freeaddrinfo);
        auto* self = static_cast<host_lookup*>(arg);
        if (!self->delivered) {
            self->record(status, result);
        }
        self->runner->on_result(*self, ares_error(status));
    }

    void record(int status, const ares_addrinfo* result) {
        answer_.error = ares_error(status);
        const int family = query_.family == core::address_family::ipv6 ? AF_INET6 : AF_INET;
        for (auto* node = result ? result->nodes : nullptr; node && status == ARES_SUCCESS;
             node = node->ai_next) {
            if (node->ai_family != family) {
                continue;
            }
            asio::ip::tcp::endpoint ep;
            const auto size = std::min<std::size_t>(node->ai_addrlen, ep.capacity());
            std::copy_n(reinterpret_cast<const unsigned char*>(node->ai_addr),
                        size,
                        reinterpret_cast<unsigned char*>(ep.data()));
            ep.resize(size);
            ep.port(port_);
            answer_.endpoints.push_back(ep);
            const std::chrono::seconds ttl(std::max(node->ai_ttl, 0));
            answer_.ttl = answer_.ttl.count() < 0 ? ttl : std::min(answer_.ttl, ttl);
        }
    }

    void deliver(boost::system::error_code ec) override {
        if (ec) {
            answer_.error = ec;
            answer_.endpoints.clear();
            answer_.ttl = std::chrono::seconds(-1);
        }
        auto done = std::move(done_);
        done(std::move(answer_));
    }

    lookup_query query_;
    dial_transport::answer_handler done_;
    unsigned short port_;
    core::resolution_answer answer_;
};

class raw_query final : public ares_request {
  public:
    raw_query(std::string name, std::uint16_t type, raw_answer_handler done)
        : name_(std::move(name)), type_(type), done_(std::move(done)) {}

  private:
    void issue(ares_channel channel) override {
        ares_query(channel, name_.c_str(), 1 /* IN */, type_, &on_result, this);
    }

    static void on_result(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
        auto* self = static_cast<raw_query*>(arg);
        if (!self->delivered && abuf && alen > 0) {
            self->bytes_.assign(abuf, abuf + alen);
        }
        self->runner->on_result(*self, ares_error(status));
    }

    void deliver(boost::system::error_code ec) override {
        auto done = std::move(done_);
        done(ec, std::move(bytes_));
    }

    std::string name_;
    std::uint16_t type_;
    raw_answer_handler done_;
    std::vector<std::uint8_t> bytes_;
};

}  // namespace

void ares_host_lookup(lookup_query query, dial_transport::answer_handler done) {
    const auto port = service_port(query.service);
    if (!port) {
        // Through the executor, as every other outcome: never inside the initiating call.
        asio::post(query.executor, [family = query.family, done = std::move(done)] {
            done(core::resolution_answer{family, {}, error::invalid_service});
        });
        return;
    }
    auto runner = ares_channel_runner::of(query.executor);
    auto slot = query.cancellation;
    runner->submit(std::make_shared<host_lookup>(std::move(query), std::move(done), *port), slot);
}

void ares_raw_query(const asio::any_io_executor& executor,
                    std::string name,
                    std::uint16_t type,
                    asio::cancellation_slot slot,
                    raw_answer_handler done) {
    ares_channel_runner::of(executor)->submit(
        std::make_shared<raw_query>(std::move(name), type, std::move(done)), slot);
}

}  // namespace happy_dial::detail
