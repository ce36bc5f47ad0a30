// Dialing through SOCKS5 and HTTP CONNECT proxies (issue 15): the test kit's proxy_server on
// loopback, the proxy's name answered by a scripted lookup with real connects.
#include "catch.hpp"
#include "op/loopback.hpp"

#include <happy_dial/happy_dial.hpp>
#include <happy_dial/proxy.hpp>
#include <happy_dial/testing/proxy_server.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>

using namespace happy_dial;
using namespace happy_dial::test;
using namespace std::chrono_literals;
using testing::proxy_behaviour;
using testing::proxy_server;
using testing::proxy_server_options;
using clock_type = std::chrono::steady_clock;

namespace {

// Answers every lookup with fixed addresses per family (the proxy's name on both loopbacks,
// which /etc/hosts may not give), and connects for real.
class scripted_names final : public dial_transport {
  public:
    std::map<core::address_family, std::vector<asio::ip::address>> addresses;

    void async_lookup(const lookup_query& query, answer_handler done) override {
        core::resolution_answer answer;
        answer.family = query.family;
        const auto port = static_cast<unsigned short>(std::stoi(query.service));
        for (const auto& a : addresses[query.family]) {
            answer.endpoints.emplace_back(a, port);
        }
        asio::post(query.executor,
                   [done = std::move(done), answer = std::move(answer)] { done(answer); });
    }
    connect_progress async_connect(tcp::socket& socket,
                                   const tcp::endpoint& target,
                                   connect_completion done) override {
        return system_network::instance()->async_connect(socket, target, std::move(done));
    }
};

// The origin: speaks first, as SMTP or MySQL servers do, so a proxy client that read past its
// proxy's reply would swallow the greeting.
class greeter {
  public:
    explicit greeter(asio::io_context& ctx) : acceptor_(ctx, {loopback_v4, 0}) { accept(); }
    unsigned short port() const { return acceptor_.local_endpoint().port(); }

  private:
    void accept() {
        acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
            if (ec) {
                return;
            }
            auto peer = std::make_shared<tcp::socket>(std::move(s));
            asio::async_write(*peer,
                              asio::buffer("220 ready\r\n", 11),
                              [peer](boost::system::error_code, std::size_t) {});
            accept();
        });
    }
    tcp::acceptor acceptor_;
};

struct dial_outcome {
    boost::system::error_code error;
    std::optional<tcp::socket> socket;
    clock_type::duration elapsed{};
};

// Dials `host`:`port` through `proxy`; the proxy's name is "proxy.test" unless `proxy.host`
// is a literal.
dial_outcome dial_via(asio::io_context& ctx,
                      const std::string& host,
                      unsigned short port,
                      dial_options options) {
    dial_outcome outcome;
    const auto start = clock_type::now();
    async_dial(
        ctx, host, std::to_string(port), options, [&](boost::system::error_code ec, tcp::socket s) {
            outcome.error = ec;
            outcome.socket.emplace(std::move(s));
            outcome.elapsed = clock_type::now() - start;
            ctx.stop();  // the proxies and the origin always have an accept pending
        });
    ctx.restart();
    ctx.run_for(5s);
    return outcome;
}

proxy_config proxy_at(proxy_protocol protocol, const tcp::endpoint& where) {
    proxy_config p;
    p.protocol = protocol;
    p.host = where.address().to_string();
    p.port = std::to_string(where.port());
    return p;
}

// The origin's greeting, read while `ctx` runs the proxy's relay.
std::string first_line(asio::io_context& ctx, tcp::socket& s) {
    char bytes[11] = {};
    asio::async_read(
        s, asio::buffer(bytes), [&](boost::system::error_code, std::size_t) { ctx.stop(); });
    ctx.restart();
    ctx.run_for(5s);
    return std::string(bytes, 11);
}

// A proxy on ::1 and another on 127.0.0.1 at the same port, so that one name reaches both.
struct dual_proxies {
    std::unique_ptr<proxy_server> v6;
    std::unique_ptr<proxy_server> v4;
};

dual_proxies pair_at_one_port(asio::io_context& ctx,
                              proxy_server_options v6_options,
                              proxy_server_options v4_options) {
    for (int tries = 0; tries < 20; ++tries) {  // bounded: another process may hold the port
        auto v6 = std::make_unique<proxy_server>(
            ctx.get_executor(), tcp::endpoint{loopback_v6, 0}, v6_options);
        try {
            auto v4 = std::make_unique<proxy_server>(
                ctx.get_executor(), tcp::endpoint{loopback_v4, v6->endpoint().port()}, v4_options);
            return {std::move(v6), std::move(v4)};
        } catch (const boost::system::system_error&) {
        }
    }
    FAIL("no port free on both loopbacks");
    return {};
}

std::shared_ptr<scripted_names> both_loopbacks() {
    auto names = std::make_shared<scripted_names>();
    names->addresses[core::address_family::ipv6] = {loopback_v6};
    names->addresses[core::address_family::ipv4] = {loopback_v4};
    return names;
}

}  // namespace

TEST_CASE("proxy: SOCKS5 opens a tunnel and leaves the origin's first bytes to the caller",
          "[op][proxy]") {
    asio::io_context ctx;
    greeter origin(ctx);
    proxy_server proxy(ctx.get_executor(), {loopback_v4, 0});
    dial_report report;
    dial_options options;
    options.proxy = proxy_at(proxy_protocol::socks5, proxy.endpoint());
    options.report = &report;
    auto outcome = dial_via(ctx, "localhost", origin.port(), options);

    REQUIRE_FALSE(outcome.error);
    ctx.restart();
    CHECK(first_line(ctx, *outcome.socket) == "220 ready\r\n");
    CHECK(outcome.socket->remote_endpoint() == proxy.endpoint());
    CHECK(proxy.last_target() == "localhost:" + std::to_string(origin.port()));  // socks5h
    REQUIRE(report.attempts.size() == 1);
    REQUIRE(report.attempts[0].stages.size() == 1);
    CHECK(report.attempts[0].stages[0].name == "socks5");
    CHECK_FALSE(report.attempts[0].stages[0].error);
    CHECK(report.attempts[0].stages[0].finished >= *report.attempts[0].tcp_connected);
}

TEST_CASE("proxy: socks5:// resolves the target here and sends its address", "[op][proxy]") {
    asio::io_context ctx;
    greeter origin(ctx);
    proxy_server proxy(ctx.get_executor(), {loopback_v4, 0});
    dial_options options;
    options.proxy = proxy_at(proxy_protocol::socks5, proxy.endpoint());
    options.proxy->remote_dns = false;
    auto outcome = dial_via(ctx, "localhost", origin.port(), options);
    REQUIRE_FALSE(outcome.error);
    CHECK(proxy.last_target() == "127.0.0.1:" + std::to_string(origin.port()));
}

TEST_CASE("proxy: SOCKS5 username and password (RFC 1929)", "[op][proxy]") {
    asio::io_context ctx;
    greeter origin(ctx);
    proxy_server_options server;
    server.username = "alice";
    server.password = "s3cret";
    proxy_server proxy(ctx.get_executor(), {loopback_v4, 0}, server);
    dial_options options;
    options.proxy = proxy_at(proxy_protocol::socks5, proxy.endpoint());
    options.proxy->username = "alice";
    SECTION("accepted") {
        options.proxy->password = "s3cret";
        CHECK_FALSE(dial_via(ctx, "127.0.0.1", origin.port(), options).error);
    }
    SECTION("rejected") {
        options.proxy->password = "wrong";
        CHECK(dial_via(ctx, "127.0.0.1", origin.port(), options).error ==
              error::proxy_auth_rejected);
    }
    SECTION("no credentials offered") {
        options.proxy->username.clear();
        CHECK(dial_via(ctx, "127.0.0.1", origin.port(), options).error ==
              error::proxy_no_acceptable_auth);
    }
}

TEST_CASE("proxy: HTTP CONNECT with Basic credentials, and its statuses as errors", "[op][proxy]") {
    asio::io_context ctx;
    greeter origin(ctx);
    proxy_server_options server;
    server.protocol = proxy_protocol::http_connect;
    server.username = "bob";
    server.password = "pw";
    proxy_server proxy(ctx.get_executor(), {loopback_v4, 0}, server);
    dial_options options;
    options.proxy = proxy_at(proxy_protocol::http_connect, proxy.endpoint());
    SECTION("authorized") {
        options.proxy->username = "bob";
        options.proxy->password = "pw";
        auto outcome = dial_via(ctx, "127.0.0.1", origin.port(), options);
        REQUIRE_FALSE(outcome.error);
        ctx.restart();
        CHECK(first_line(ctx, *outcome.socket) == "220 ready\r\n");
        CHECK(proxy.last_request().find("Proxy-Authorization: Basic Ym9iOnB3\r\n") !=
              std::string::npos);
    }
    SECTION("407 without credentials") {
        const auto outcome = dial_via(ctx, "127.0.0.1", origin.port(), options);
        CHECK(outcome.error == make_http_proxy_error(407));
        CHECK(outcome.error == boost::system::errc::permission_denied);
    }
}

TEST_CASE("proxy: refusals are distinct errors", "[op][proxy]") {
    struct refusal {
        proxy_protocol protocol;
        int code;  // SOCKS5 reply code or HTTP status
        boost::system::error_code expected;
    };
    const refusal cases[] = {
        {proxy_protocol::socks5, 2, socks5_reply::not_allowed},
        {proxy_protocol::socks5, 4, socks5_reply::host_unreachable},
        {proxy_protocol::socks5, 5, socks5_reply::connection_refused},
        {proxy_protocol::http_connect, 403, make_http_proxy_error(403)},
        {proxy_protocol::http_connect, 502, make_http_proxy_error(502)},
        {proxy_protocol::http_connect, 504, make_http_proxy_error(504)},
    };
    asio::io_context ctx;
    for (const auto& c : cases) {
        CAPTURE(c.code);
        proxy_server_options server;
        server.protocol = c.protocol;
        server.behaviour = proxy_behaviour::refuse;
        server.refuse_code = c.code;
        proxy_server proxy(ctx.get_executor(), {loopback_v4, 0}, server);
        dial_options options;
        options.proxy = proxy_at(c.protocol, proxy.endpoint());
        CHECK(dial_via(ctx, "127.0.0.1", 9, options).error == c.expected);
    }
}

TEST_CASE("proxy: garbage, a close mid-handshake and an endless header fail cleanly",
          "[op][proxy]") {
    struct broken {
        proxy_protocol protocol;
        proxy_behaviour behaviour;
        boost::system::error_code expected;
    };
    const broken cases[] = {
        {proxy_protocol::socks5, proxy_behaviour::garbage, error::proxy_protocol_error},
        {proxy_protocol::http_connect, proxy_behaviour::garbage, error::proxy_protocol_error},
        {proxy_protocol::socks5, proxy_behaviour::close_mid_handshake, error::proxy_closed},
        {proxy_protocol::http_connect, proxy_behaviour::close_mid_handshake, error::proxy_closed},
        {proxy_protocol::http_connect,
         proxy_behaviour::endless_header,
         error::proxy_reply_too_long},
    };
    asio::io_context ctx;
    {
        tcp::socket warm_up(ctx);  // creates the reactor's descriptors before the count
        warm_up.open(tcp::v4());
    }
    const int fds_before = open_fd_count();
    for (const auto& c : cases) {
        CAPTURE(static_cast<int>(c.protocol), static_cast<int>(c.behaviour));
        proxy_server_options server;
        server.protocol = c.protocol;
        server.behaviour = c.behaviour;
        proxy_server proxy(ctx.get_executor(), {loopback_v4, 0}, server);
        dial_options options;
        options.proxy = proxy_at(c.protocol, proxy.endpoint());
        options.timeout = 3s;
        ctx.restart();
        const auto outcome = dial_via(ctx, "127.0.0.1", 9, options);
        CHECK(outcome.error == c.expected);
        CHECK(outcome.elapsed < 1s);
    }
    ctx.restart();
    ctx.poll();  // the servers' closed connections
    CHECK(open_fd_count() == fds_before);
}

TEST_CASE("proxy: a black-holed proxy address loses the race to a working one", "[op][proxy]") {
    if (!has_ipv6_loopback()) {
        WARN("no ::1 on this machine: skipped");
        return;
    }
    asio::io_context ctx;
    greeter origin(ctx);
    std::optional<black_hole> hole;
    std::unique_ptr<proxy_server> v4;
    for (int tries = 0; tries < 20 && !v4; ++tries) {
        hole.emplace(loopback_v6);
        try {
            v4 = std::make_unique<proxy_server>(
                ctx.get_executor(), tcp::endpoint{loopback_v4, hole->endpoint().port()});
        } catch (const boost::system::system_error&) {
        }
    }
    REQUIRE(v4);
    dial_report report;
    dial_options options;
    options.transport = both_loopbacks();
    options.proxy = proxy_at(proxy_protocol::socks5, v4->endpoint());
    options.proxy->host = "proxy.test";
    options.report = &report;
    const auto outcome = dial_via(ctx, "127.0.0.1", origin.port(), options);
    REQUIRE_FALSE(outcome.error);
    CHECK(outcome.socket->remote_endpoint() == v4->endpoint());
    CHECK(outcome.elapsed >= 240ms);  // the attempt delay after the silent IPv6 SYN
    CHECK(outcome.elapsed < 500ms);
    REQUIRE(report.attempts.size() == 2);
    CHECK_FALSE(report.attempts[0].tcp_connected);
    CHECK(report.attempts[1].stages.size() == 1);
}

TEST_CASE("proxy: a proxy that stalls or refuses on IPv6 loses to a working IPv4 proxy",
          "[op][proxy]") {
    if (!has_ipv6_loopback()) {
        WARN("no ::1 on this machine: skipped");
        return;
    }
    asio::io_context ctx;
    greeter origin(ctx);
    proxy_server_options bad;
    dial_report report;
    dial_options options;
    options.transport = both_loopbacks();
    options.report = &report;
    SECTION("stalls after TCP: the attempt delay restarts at the connect, then IPv4 wins") {
        bad.behaviour = proxy_behaviour::silent;
        auto proxies = pair_at_one_port(ctx, bad, {});
        options.proxy = proxy_at(proxy_protocol::socks5, proxies.v4->endpoint());
        options.proxy->host = "proxy.test";
        const auto outcome = dial_via(ctx, "127.0.0.1", origin.port(), options);
        REQUIRE_FALSE(outcome.error);
        CHECK(outcome.socket->remote_endpoint() == proxies.v4->endpoint());
        CHECK(outcome.elapsed >= 240ms);
        CHECK(outcome.elapsed < 500ms);
        REQUIRE(report.attempts.size() == 2);
        CHECK(report.attempts[0].tcp_connected);
        CHECK(report.attempts[0].outcome == attempt_outcome::cancelled);
    }
    SECTION("refuses the target: the next attempt starts at once") {
        bad.behaviour = proxy_behaviour::refuse;
        auto proxies = pair_at_one_port(ctx, bad, {});
        options.proxy = proxy_at(proxy_protocol::socks5, proxies.v4->endpoint());
        options.proxy->host = "proxy.test";
        const auto outcome = dial_via(ctx, "127.0.0.1", origin.port(), options);
        REQUIRE_FALSE(outcome.error);
        CHECK(outcome.socket->remote_endpoint() == proxies.v4->endpoint());
        CHECK(outcome.elapsed < 150ms);
        REQUIRE(report.attempts.size() == 2);
        CHECK(report.attempts[0].error == socks5_reply::connection_refused);
        REQUIRE(report.attempts[0].stages.size() == 1);
        CHECK(report.attempts[0].stages[0].name == "socks5");
        CHECK(report.attempts[0].stages[0].error == socks5_reply::connection_refused);
    }
}

TEST_CASE("proxy: a silent proxy is cut off by handshake_timeout", "[op][proxy]") {
    asio::io_context ctx;
    proxy_server_options server;
    server.behaviour = proxy_behaviour::silent;
    server.protocol = proxy_protocol::http_connect;
    proxy_server proxy(ctx.get_executor(), {loopback_v4, 0}, server);
    dial_options options;
    options.proxy = proxy_at(proxy_protocol::http_connect, proxy.endpoint());
    options.handshake_timeout = 100ms;
    const auto outcome = dial_via(ctx, "127.0.0.1", 9, options);
    CHECK(outcome.error == error::handshake_timed_out);
    CHECK(outcome.elapsed >= 90ms);
    CHECK(outcome.elapsed < 400ms);
}

TEST_CASE("proxy: bad proxy settings are errors, not crashes", "[op][proxy]") {
    asio::io_context ctx;
    dial_options options;
    options.proxy = proxy_config{};  // no host, no port
    CHECK(dial_via(ctx, "127.0.0.1", 80, options).error == error::invalid_proxy);
    options.proxy->host = "127.0.0.1";
    options.proxy->port = "1";
    ctx.restart();
    std::optional<boost::system::error_code> ranged;
    async_dial(ctx,
               std::vector<tcp::endpoint>{{loopback_v4, 80}},
               options,
               [&](boost::system::error_code ec, tcp::socket) { ranged = ec; });
    ctx.run();
    CHECK(ranged == error::invalid_proxy);  // a proxy needs a host to ask for
    ctx.restart();
    CHECK(dial_via(ctx, "127.0.0.1", 0, options).error == error::invalid_service);
}
