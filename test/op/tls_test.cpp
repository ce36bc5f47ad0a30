// Racing through the TLS handshake (issue 15): an attempt wins only once TLS is up.
#include "catch.hpp"
#include "op/loopback.hpp"
#include "op/tls_server.hpp"

#include <happy_dial/beast_tls.hpp>
#include <happy_dial/happy_dial.hpp>
#include <happy_dial/proxy.hpp>
#include <happy_dial/testing/proxy_server.hpp>
#include <happy_dial/tls.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <optional>
#include <thread>
#include <vector>

using namespace happy_dial;
using namespace happy_dial::test;
using namespace std::chrono_literals;
namespace beast = boost::beast;
using clock_type = std::chrono::steady_clock;

namespace {

const test_certificate& trusted_certificate() {
    static const test_certificate certificate("happy_dial trusted test");
    return certificate;
}

ssl::context trusting_client() {
    ssl::context context(ssl::context::tls_client);
    trusted_certificate().trust_in(context);
    return context;
}

struct tls_outcome {
    boost::system::error_code error;
    std::optional<tls_stream> stream;
    clock_type::duration elapsed{};
};

tls_outcome dial_tls(asio::io_context& ctx,
                     ssl::context& client,
                     std::vector<tcp::endpoint> targets,
                     dial_options options) {
    tls_outcome outcome;
    const auto start = clock_type::now();
    async_dial_tls(ctx,
                   client,
                   targets,
                   "localhost",
                   options,
                   [&](boost::system::error_code ec, tls_stream stream) {
                       outcome.error = ec;
                       outcome.stream.emplace(std::move(stream));
                       outcome.elapsed = clock_type::now() - start;
                   });
    ctx.run();
    return outcome;
}

// The stream carries the server's greeting: TLS is really up.
template <class Stream>
std::string greeting(Stream& stream) {
    char bytes[2] = {};
    asio::read(stream, asio::buffer(bytes));
    return std::string(bytes, 2);
}

}  // namespace

TEST_CASE("tls: IPv6 that completes TCP but never answers TLS loses to a real IPv4 server",
          "[op][tls]") {
    if (!has_ipv6_loopback()) {
        WARN("no ::1 on this machine: skipped");
        return;
    }
    accepting_listener dead(loopback_v6);  // the kernel completes TCP; nobody speaks TLS
    tls_server v4(loopback_v4, trusted_certificate());
    asio::io_context ctx;
    auto client = trusting_client();
    dial_report report;
    dial_options options;
    options.report = &report;
    auto outcome = dial_tls(ctx, client, {dead.endpoint(), v4.endpoint()}, options);

    REQUIRE_FALSE(outcome.error);
    CHECK(outcome.stream->next_layer().remote_endpoint() == v4.endpoint());
    CHECK(greeting(*outcome.stream) == "hi");
    CHECK(outcome.elapsed >= 240ms);  // the attempt delay, restarted at the TCP connect
    CHECK(outcome.elapsed < 300ms);
    REQUIRE(report.attempts.size() == 2);
    CHECK(report.attempts[0].tcp_connected.has_value());              // TCP connected, then ...
    CHECK(report.attempts[0].outcome == attempt_outcome::cancelled);  // ... lost the race
    CHECK(report.attempts[1].outcome == attempt_outcome::won);
    CHECK(report.attempts[1].tcp_connected.has_value());
    CHECK(report.winner == 1u);
}

TEST_CASE("tls: without the TLS stage the dial wins on the dead path (documented behaviour)",
          "[op][tls]") {
    if (!has_ipv6_loopback()) {
        WARN("no ::1 on this machine: skipped");
        return;
    }
    accepting_listener dead(loopback_v6);
    tls_server v4(loopback_v4, trusted_certificate());
    asio::io_context ctx;
    auto f = async_dial(
        ctx, std::vector<tcp::endpoint>{dead.endpoint(), v4.endpoint()}, asio::use_future);
    ctx.run();
    CHECK(f.get().remote_endpoint() == dead.endpoint());
}

TEST_CASE("tls: an IPv6 server 400 ms late with its ServerHello loses, nothing leaks",
          "[op][tls]") {
    if (!has_ipv6_loopback()) {
        WARN("no ::1 on this machine: skipped");
        return;
    }
    tls_server v6(loopback_v6, trusted_certificate(), 400ms);
    tls_server v4(loopback_v4, trusted_certificate());
    asio::io_context ctx;
    auto client = trusting_client();
    {
        tcp::socket warm_up(ctx);  // creates the reactor's descriptors before the count
        warm_up.open(tcp::v4());
    }
    const int fds_before = open_fd_count();
    dial_report report;
    dial_options options;
    options.report = &report;
    {
        auto outcome = dial_tls(ctx, client, {v6.endpoint(), v4.endpoint()}, options);
        REQUIRE_FALSE(outcome.error);
        CHECK(outcome.stream->next_layer().remote_endpoint() == v4.endpoint());
        CHECK(outcome.elapsed < 400ms);
        // The winner's socket, and the servers' ends of both connections (held until the
        // servers are destroyed): the loser's client socket is closed.
        CHECK(open_fd_count() == fds_before + 1 + v6.accepted() + v4.accepted());
    }
    CHECK(open_fd_count() == fds_before + v6.accepted() + v4.accepted());
    CHECK(v6.accepted() == 1);
    REQUIRE(report.attempts.size() == 2);
    CHECK(report.attempts[0].outcome == attempt_outcome::cancelled);
    CHECK(report.attempts[0].tcp_connected.has_value());
}

TEST_CASE("tls: a certificate that fails verification on one family loses at once", "[op][tls]") {
    if (!has_ipv6_loopback()) {
        WARN("no ::1 on this machine: skipped");
        return;
    }
    const test_certificate untrusted("happy_dial untrusted test");
    tls_server v6(loopback_v6, untrusted);
    tls_server v4(loopback_v4, trusted_certificate());
    asio::io_context ctx;
    auto client = trusting_client();
    dial_report report;
    dial_options options;
    options.report = &report;
    auto outcome = dial_tls(ctx, client, {v6.endpoint(), v4.endpoint()}, options);

    REQUIRE_FALSE(outcome.error);
    CHECK(outcome.stream->next_layer().remote_endpoint() == v4.endpoint());
    CHECK(outcome.elapsed < 200ms);  // a failed stage starts the next attempt at once
    REQUIRE(report.attempts.size() == 2);
    CHECK(report.attempts[0].outcome == attempt_outcome::failed);
    CHECK(report.attempts[0].tcp_connected.has_value());  // it failed in TLS, not in TCP
    CHECK(report.attempts[0].error.category() == asio::error::get_ssl_category());
    CHECK_THAT(report.attempts[0].error.message(), Catch::Contains("certificate verify failed"));
}

TEST_CASE("tls: the handshake timeout ends a stalled handshake", "[op][tls]") {
    accepting_listener dead(loopback_v4);
    asio::io_context ctx;
    auto client = trusting_client();
    dial_report report;
    dial_options options;
    options.report = &report;
    options.handshake_timeout = 100ms;
    auto outcome = dial_tls(ctx, client, {dead.endpoint()}, options);
    CHECK(outcome.error == error::handshake_timed_out);
    CHECK(outcome.elapsed >= 100ms);
    CHECK(outcome.elapsed < 200ms);
    REQUIRE(report.attempts.size() == 1);
    CHECK(report.attempts[0].outcome == attempt_outcome::timed_out);
}

TEST_CASE("tls: every completion token, and a caller's stream filled by async_connect",
          "[op][tls]") {
    tls_server v4(loopback_v4, trusted_certificate());
    const std::vector<tcp::endpoint> targets{v4.endpoint()};
    asio::io_context ctx;
    auto client = trusting_client();

    // On the io_context's own executor type: the stream comes back on that type.
    auto f = async_dial_tls(
        ctx.get_executor(), client, targets, "localhost", dial_options{}, asio::use_future);
    ctx.run();
    auto from_future = f.get();
    CHECK(greeting(from_future) == "hi");

    ctx.restart();
    std::optional<tls_stream> from_coroutine;
    asio::co_spawn(
        ctx,
        [&]() -> asio::awaitable<void> {
            const dial_options options;  // GCC 12 destroys a temporary in co_await twice
            from_coroutine.emplace(co_await async_dial_tls(
                ctx, client, targets, "localhost", options, asio::use_awaitable));
        },
        asio::detached);
    ctx.run();
    REQUIRE(from_coroutine);
    CHECK(greeting(*from_coroutine) == "hi");

    ctx.restart();
    auto op = async_dial_tls(ctx, client, targets, "localhost", dial_options{}, asio::deferred);
    boost::system::error_code deferred_error = asio::error::would_block;
    std::move(op)([&](boost::system::error_code ec, tls_stream) { deferred_error = ec; });
    ctx.run();
    CHECK_FALSE(deferred_error);

    ctx.restart();
    tls_stream mine(ctx.get_executor(), client);
    tcp::endpoint connected_to;
    // An IP literal: verified against the certificate's IP address (no SNI). "localhost" would
    // go through c-ares, whose 1.18.1 leaks the 10-byte copy of that name per lookup
    // (c-ares/c-ares#439), which LeakSanitizer reports in CI.
    async_connect(mine,
                  client,
                  "127.0.0.1",
                  std::to_string(v4.endpoint().port()),
                  dial_options{},
                  [&](boost::system::error_code ec, tcp::endpoint e) {
                      REQUIRE_FALSE(ec);
                      connected_to = e;
                  });
    ctx.run();
    CHECK(connected_to == v4.endpoint());
    CHECK(greeting(mine) == "hi");
}

TEST_CASE("tls: through a SOCKS5 proxy, TLS to the origin with the origin's name", "[op][tls]") {
    tls_server origin(loopback_v4, trusted_certificate());
    asio::io_context ctx;
    testing::proxy_server proxy(ctx.get_executor(), {loopback_v4, 0});
    auto client = trusting_client();
    dial_report report;
    dial_options options;
    options.report = &report;
    options.proxy.emplace();
    options.proxy->host = "127.0.0.1";
    options.proxy->port = std::to_string(proxy.endpoint().port());
    std::optional<tls_stream> stream;
    // "localhost" is sent to the proxy (socks5h) and used for SNI and verification; nothing
    // resolves it here.
    async_dial_tls(ctx,
                   client,
                   "localhost",
                   std::to_string(origin.endpoint().port()),
                   options,
                   [&](boost::system::error_code ec, tls_stream s) {
                       CHECK_FALSE(ec);
                       stream.emplace(std::move(s));
                       ctx.stop();  // the proxy always has an accept pending
                   });
    ctx.run_for(5s);
    REQUIRE(stream);
    CHECK(stream->next_layer().remote_endpoint() == proxy.endpoint());
    CHECK(proxy.last_target() == "localhost:" + std::to_string(origin.endpoint().port()));
    REQUIRE(report.attempts.size() == 1);
    REQUIRE(report.attempts[0].stages.size() == 2);
    CHECK(report.attempts[0].stages[0].name == "socks5");
    CHECK(report.attempts[0].stages[1].name == "tls");
    CHECK(report.attempts[0].stages[0].finished <= report.attempts[0].stages[1].finished);
    ctx.restart();
    std::string greeted;
    std::thread reader([&] {
        greeted = greeting(*stream);
        ctx.stop();
    });
    ctx.run_for(5s);  // the proxy relays
    reader.join();
    CHECK(greeted == "hi");
}

TEST_CASE("tls: a Beast ssl_stream filled with the TLS race, and its expiry honoured",
          "[op][tls][beast]") {
    asio::io_context ctx;
    auto client = trusting_client();
    SECTION("connects") {
        tls_server v4(loopback_v4, trusted_certificate());
        beast::ssl_stream<beast::tcp_stream> stream(ctx, client);
        beast::get_lowest_layer(stream).expires_after(5s);
        boost::system::error_code result = asio::error::would_block;
        async_connect(stream,
                      client,
                      "127.0.0.1",
                      std::to_string(v4.endpoint().port()),
                      [&](boost::system::error_code ec, tcp::endpoint) { result = ec; });
        ctx.run();
        REQUIRE_FALSE(result);
        CHECK(greeting(stream) == "hi");
    }
    SECTION("a server that never speaks TLS: beast::error::timeout at the expiry") {
        accepting_listener dead(loopback_v4);
        beast::ssl_stream<beast::tcp_stream> stream(ctx, client);
        beast::get_lowest_layer(stream).expires_after(300ms);
        boost::system::error_code result;
        const auto start = clock_type::now();
        async_connect(stream,
                      client,
                      "127.0.0.1",
                      std::to_string(dead.endpoint().port()),
                      [&](boost::system::error_code ec, tcp::endpoint) { result = ec; });
        ctx.run();
        const auto elapsed = clock_type::now() - start;
        CHECK(result == beast::error::timeout);
        CHECK(elapsed >= 290ms);
        CHECK(elapsed < 600ms);
    }
}

namespace {
namespace alpn_test {

// Tells the TLS stage that every attempt goes to an HTTPS service offering `alpns`, as a dial
// with HTTPS records would (dial_core::prepare_stage), and otherwise forwards to it.
class as_service final : public handshake_stage {
  public:
    as_service(std::shared_ptr<tls_handshake<>> tls, std::vector<std::string> alpns)
        : tls_(std::move(tls)), alpns_(std::move(alpns)) {}
    void prepare(core::attempt_id id, const attempt_service&) override {
        attempt_service service;
        service.priority = 1;
        service.alpns = alpns_;
        tls_->prepare(id, service);
    }
    void start(core::attempt_id id,
               tcp::socket& socket,
               const tcp::endpoint& peer,
               stage_completion done) override {
        tls_->start(id, socket, peer, std::move(done));
    }
    void cancel(core::attempt_id id) override { tls_->cancel(id); }
    void release(core::attempt_id id) noexcept override { tls_->release(id); }

  private:
    std::shared_ptr<tls_handshake<>> tls_;
    std::vector<std::string> alpns_;
};

}  // namespace alpn_test
}  // namespace

TEST_CASE("tls: an attempt to an HTTPS service offers the service's ALPN ids", "[op][tls]") {
    tls_server v4(loopback_v4, trusted_certificate());
    asio::io_context ctx;
    auto client = trusting_client();
    const unsigned char context_alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    REQUIRE(::SSL_CTX_set_alpn_protos(client.native_handle(), context_alpn, 9) == 0);
    const std::vector targets{v4.endpoint()};
    // RFC 9460 §7.1.2: the service's ids the caller speaks, not the context's list.
    dial_options to_service;
    auto tls = std::make_shared<tls_handshake<>>(ctx.get_executor(), client, "localhost");
    to_service.handshake =
        std::make_shared<alpn_test::as_service>(tls, std::vector<std::string>{"h2", "http/1.1"});
    boost::system::error_code first;
    async_dial(
        ctx, targets, to_service, [&](boost::system::error_code ec, tcp::socket) { first = ec; });
    ctx.run();
    CHECK_FALSE(first);
    // An attempt without a service (prepare gets an empty one) offers the context's list.
    ctx.restart();
    auto plain = dial_tls(ctx, client, targets, {});
    CHECK_FALSE(plain.error);
    const auto offered = v4.offered_alpns();
    REQUIRE(offered.size() == 2);
    CHECK(offered[0] == std::string("\x02h2\x08http/1.1", 12));
    CHECK(offered[1] == std::string(reinterpret_cast<const char*>(context_alpn), 9));
}
