// The proxy handshakes as stages: core::socks5_client and core::http_connect_client driven on an
// attempt's socket. Replies are peeked and only their own bytes consumed, so the origin's first
// bytes (a server that speaks first) stay in the socket for the caller.
#include <happy_dial/core/proxy_client.hpp>
#include <happy_dial/error.hpp>
#include <happy_dial/proxy.hpp>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace happy_dial {

namespace {
namespace proxy_io {  // named: the unity build joins sources

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// One attempt's handshake with the proxy. Its handlers hold it; the stage holds it to cancel.
struct proxy_attempt {
    tcp::socket* socket = nullptr;
    std::unique_ptr<core::proxy_client> client;
    stage_completion done;
    stage_completion::allocator_type allocator;
    std::optional<tcp::resolver> resolver;  // SOCKS5 with local resolution of the target
    std::array<std::uint8_t, 512> buffer{};

    proxy_attempt(tcp::socket& s, stage_completion d)
        : socket(&s), done(std::move(d)), allocator(done.get_allocator()) {}
};

using attempt_ptr = std::shared_ptr<proxy_attempt>;

void finish(const attempt_ptr& a, boost::system::error_code ec) {
    auto done = std::move(a->done);
    done(ec);  // may end the dial (and the stage): nothing of it is touched after this
}

void drive(attempt_ptr a);

// Takes the reply bytes the client claims out of the socket; the peek showed they are there.
boost::system::error_code consume(proxy_attempt& a, std::size_t count) {
    while (count > 0) {
        boost::system::error_code ec;
        const auto n = a.socket->receive(asio::buffer(a.buffer.data(), count), 0, ec);
        if (ec) {
            return ec;
        }
        count -= n;
    }
    return {};
}

void on_readable(attempt_ptr a, boost::system::error_code ec) {
    if (ec) {
        finish(a, ec);
        return;
    }
    const auto n = a->socket->receive(asio::buffer(a->buffer), tcp::socket::message_peek, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
        drive(std::move(a));
        return;
    }
    if (ec == asio::error::eof || (!ec && n == 0)) {
        a->client->closed();
    } else if (ec) {
        finish(a, ec);
        return;
    } else if (const auto taken = a->client->input(std::span(a->buffer.data(), n)); taken > 0) {
        if (auto consumed = consume(*a, taken)) {
            finish(a, consumed);
            return;
        }
    }
    drive(std::move(a));
}

// One step of the handshake: send what the client has to say, or wait for the proxy's reply.
void drive(attempt_ptr a) {
    auto& client = *a->client;
    switch (client.step()) {
        case core::proxy_step::write: {
            const auto bytes = client.output();
            auto& socket = *a->socket;
            const auto allocator = a->allocator;
            asio::async_write(
                socket,
                asio::buffer(bytes.data(), bytes.size()),
                asio::bind_allocator(allocator,
                                     [a = std::move(a)](boost::system::error_code ec, std::size_t) {
                                         if (ec) {
                                             finish(a, ec);
                                             return;
                                         }
                                         a->client->written();
                                         drive(a);
                                     }));
            return;
        }
        case core::proxy_step::read: {
            auto& socket = *a->socket;
            const auto allocator = a->allocator;
            socket.async_wait(
                tcp::socket::wait_read,
                asio::bind_allocator(allocator, [a = std::move(a)](boost::system::error_code ec) {
                    on_readable(a, ec);
                }));
            return;
        }
        case core::proxy_step::done:
            finish(a, {});
            return;
        case core::proxy_step::failed:
            finish(a, client.error());
            return;
    }
}

class proxy_stage final : public handshake_stage {
  public:
    proxy_stage(const proxy_config& proxy, std::string_view host, std::uint16_t port)
        : proxy_(proxy), host_(host), port_(port) {}

    void start(core::attempt_id id,
               tcp::socket& socket,
               const tcp::endpoint&,
               stage_completion done) override {
        if (attempts_.size() <= id) {
            attempts_.resize(id + 1);
        }
        auto a = std::make_shared<proxy_attempt>(socket, std::move(done));
        attempts_[id] = a;
        boost::system::error_code ec;
        asio::ip::make_address(host_, ec);
        const bool resolve_here =
            proxy_.protocol == proxy_protocol::socks5 && !proxy_.remote_dns && ec;
        if (!resolve_here) {
            a->client = make_client(host_);
            if (a->client->step() == core::proxy_step::failed) {
                // Never complete inside start(): post the configuration error.
                asio::post(socket.get_executor(),
                           asio::bind_allocator(a->allocator, [a] { drive(a); }));
                return;
            }
            drive(std::move(a));
            return;
        }
        // socks5:// (not socks5h://): resolve the target here, send its first address.
        auto& resolver = a->resolver.emplace(socket.get_executor());
        const auto allocator = a->allocator;
        resolver.async_resolve(
            host_,
            "",
            asio::bind_allocator(
                allocator,
                [this_stage = this, a = std::move(a)](boost::system::error_code rec,
                                                      const tcp::resolver::results_type& results) {
                    if (!rec && results.empty()) {
                        rec = error::no_endpoints;
                    }
                    if (rec) {
                        finish(a, rec);
                        return;
                    }
                    a->client =
                        this_stage->make_client(results.begin()->endpoint().address().to_string());
                    drive(a);
                }));
    }

    void cancel(core::attempt_id id) override {
        if (id < attempts_.size() && attempts_[id] && attempts_[id]->resolver) {
            attempts_[id]->resolver->cancel();  // the dial closes the socket itself
        }
    }

    void release(core::attempt_id id) noexcept override {
        if (id < attempts_.size()) {
            attempts_[id].reset();
        }
    }

    std::string_view name() const noexcept override {
        return proxy_.protocol == proxy_protocol::socks5 ? "socks5" : "http_connect";
    }

  private:
    std::unique_ptr<core::proxy_client> make_client(std::string_view host) const {
        if (proxy_.protocol == proxy_protocol::socks5) {
            return std::make_unique<core::socks5_client>(
                host, port_, proxy_.username, proxy_.password);
        }
        return std::make_unique<core::http_connect_client>(
            host, port_, proxy_.username, proxy_.password, proxy_.max_reply_bytes);
    }

    proxy_config proxy_;
    std::string host_;
    std::uint16_t port_;
    std::vector<attempt_ptr> attempts_;  // by attempt id
};

}  // namespace proxy_io
}  // namespace

std::shared_ptr<handshake_stage> make_proxy_stage(const proxy_config& proxy,
                                                  std::string_view target_host,
                                                  std::uint16_t target_port) {
    return std::make_shared<proxy_io::proxy_stage>(proxy, target_host, target_port);
}

std::shared_ptr<handshake_stage> make_socks5_stage(proxy_config proxy,
                                                   std::string_view target_host,
                                                   std::uint16_t target_port) {
    proxy.protocol = proxy_protocol::socks5;
    return make_proxy_stage(proxy, target_host, target_port);
}

std::shared_ptr<handshake_stage> make_http_connect_stage(proxy_config proxy,
                                                         std::string_view target_host,
                                                         std::uint16_t target_port) {
    proxy.protocol = proxy_protocol::http_connect;
    return make_proxy_stage(proxy, target_host, target_port);
}

}  // namespace happy_dial
