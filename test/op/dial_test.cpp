#include "catch.hpp"
#include "op/loopback.hpp"

#include <happy_dial/happy_dial.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>

using namespace happy_dial;
using namespace happy_dial::test;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

TEST_CASE("async_dial: black-holed IPv6 falls back to IPv4 after the attempt delay", "[op]") {
    if (!has_ipv6_loopback()) {
        WARN("no ::1 on this machine: skipped");
        return;
    }
    black_hole v6(loopback_v6);
    accepting_listener v4(loopback_v4);
    asio::io_context ctx;
    dial_report report;
    dial_options options;
    options.report = &report;
    const std::vector<tcp::endpoint> targets{v6.endpoint(), v4.endpoint()};

    boost::system::error_code result = asio::error::would_block;
    tcp::socket socket(ctx);
    const auto start = clock_type::now();
    async_dial(ctx, targets, options, [&](boost::system::error_code ec, tcp::socket s) {
        result = ec;
        socket = std::move(s);
    });
    ctx.run();
    const auto elapsed = clock_type::now() - start;

    REQUIRE_FALSE(result);
    CHECK(socket.remote_endpoint() == v4.endpoint());
    CHECK(elapsed >= 250ms);
    CHECK(elapsed < 300ms);
    REQUIRE(report.attempts.size() == 2);
    CHECK(report.attempts[0].outcome == attempt_outcome::cancelled);
    CHECK(report.attempts[1].outcome == attempt_outcome::won);
    CHECK(report.winner == 1u);
}

TEST_CASE("async_dial: refused IPv6 falls back to IPv4 at once", "[op]") {
    if (!has_ipv6_loopback()) {
        WARN("no ::1 on this machine: skipped");
        return;
    }
    refusing_port v6(loopback_v6);
    accepting_listener v4(loopback_v4);
    asio::io_context ctx;
    const auto start = clock_type::now();
    auto f =
        async_dial(ctx, std::vector<tcp::endpoint>{v6.endpoint(), v4.endpoint()}, asio::use_future);
    ctx.run();
    const auto elapsed = clock_type::now() - start;
    CHECK(f.get().remote_endpoint() == v4.endpoint());
    CHECK(elapsed >= 10ms);  // RFC 8305 §5: never two starts within 10 ms
    CHECK(elapsed < 40ms);
}

// The attempt started last fails inside connect() (loopback RST), so the Asio layer defers the
// timer that step asked for; the engine's next wakeup (the deadline) is unchanged by the
// failure, so no new timer action follows and the deferred one must still be armed, or the
// dial would wait on the black hole for the OS timeout.
TEST_CASE("async_dial: a deadline still ends a dial whose last attempt failed inside connect()",
          "[op]") {
    black_hole hang(loopback_v4);
    refusing_port refuse(asio::ip::make_address("127.0.0.2"));
    asio::io_context ctx;
    dial_report report;
    dial_options options;
    options.report = &report;
    options.connection_attempt_delay = 100ms;
    options.timeout = 400ms;
    boost::system::error_code result = asio::error::would_block;
    const auto start = clock_type::now();
    async_dial(ctx,
               std::vector<tcp::endpoint>{hang.endpoint(), refuse.endpoint()},
               options,
               [&](boost::system::error_code ec, tcp::socket) { result = ec; });
    ctx.run_for(3s);  // bounded: without the deferred timer this would wait ~127 s
    const auto elapsed = clock_type::now() - start;
    CHECK(result == error::timed_out);
    CHECK(elapsed >= 400ms);
    CHECK(elapsed < 500ms);
    REQUIRE(report.attempts.size() == 2);
    CHECK(report.attempts[0].outcome == attempt_outcome::cancelled);
    CHECK(report.attempts[1].outcome == attempt_outcome::failed);
    CHECK(report.attempts[1].error == asio::error::connection_refused);
}

TEST_CASE("async_dial: all refused reports the first attempt's error, every attempt recorded",
          "[op]") {
    refusing_port a(loopback_v4), b(asio::ip::make_address("127.0.0.2"));
    asio::io_context ctx;
    dial_report report;
    dial_options options;
    options.report = &report;
    boost::system::error_code result;
    async_dial(ctx,
               std::vector<tcp::endpoint>{a.endpoint(), b.endpoint()},
               options,
               [&](boost::system::error_code ec, tcp::socket s) {
                   result = ec;
                   CHECK_FALSE(s.is_open());
               });
    ctx.run();
    CHECK(result == asio::error::connection_refused);
    CHECK(report.error == result);
    CHECK_FALSE(report.winner);
    REQUIRE(report.attempts.size() == 2);
    for (const auto& attempt : report.attempts) {
        CHECK(attempt.outcome == attempt_outcome::failed);
        CHECK(attempt.error == asio::error::connection_refused);
        CHECK(attempt.ended);
    }
    CHECK(report.attempts[0].endpoint == a.endpoint());
    CHECK(report.attempts[1].started - report.attempts[0].started >= 10ms);
}

TEST_CASE("async_dial: socket setup hook runs before connect and its error fails the attempt",
          "[op]") {
    accepting_listener ok(loopback_v4);
    asio::io_context ctx;
    dial_report report;
    dial_options options;
    options.report = &report;
    int calls = 0;
    options.socket_setup =
        [&](tcp::socket& s, const tcp::endpoint& target, boost::system::error_code& ec) {
            ++calls;
            CHECK(s.is_open());
            if (target.address() == asio::ip::make_address("127.0.0.3")) {
                ec = asio::error::access_denied;  // refuse the first one
                return;
            }
            s.set_option(tcp::no_delay(true));
            s.bind({loopback_v4, 0});
        };
    auto f = async_dial(
        ctx,
        std::vector<tcp::endpoint>{{asio::ip::make_address("127.0.0.3"), 9}, ok.endpoint()},
        options,
        asio::use_future);
    ctx.run();
    tcp::socket s = f.get();
    tcp::no_delay nd;
    s.get_option(nd);
    CHECK(nd.value());
    CHECK(calls == 2);
    REQUIRE(report.attempts.size() == 2);
    CHECK(report.attempts[0].error == asio::error::access_denied);
}

TEST_CASE("async_dial: a throwing setup hook fails that attempt with setup_hook_threw", "[op]") {
    accepting_listener ok(loopback_v4);
    asio::io_context ctx;
    dial_options options;
    options.socket_setup = [](tcp::socket&, const tcp::endpoint&, boost::system::error_code&) {
        throw std::runtime_error("boom");
    };
    boost::system::error_code result;
    async_dial(ctx,
               std::vector<tcp::endpoint>{ok.endpoint()},
               options,
               [&](boost::system::error_code ec, tcp::socket) { result = ec; });
    ctx.run();
    CHECK(result == error::setup_hook_threw);
}

TEST_CASE("async_dial: the endpoint filter refuses before any packet is sent", "[op]") {
    accepting_listener ok(loopback_v4);
    asio::io_context ctx;
    dial_options options;
    options.endpoint_filter = [](const tcp::endpoint& e) { return !e.address().is_loopback(); };
    dial_report report;
    options.report = &report;
    boost::system::error_code result;
    async_dial(ctx,
               std::vector<tcp::endpoint>{ok.endpoint()},
               options,
               [&](boost::system::error_code ec, tcp::socket) { result = ec; });
    ctx.run();
    CHECK(result == error::all_endpoints_filtered);
    CHECK(report.attempts.empty());
}

TEST_CASE("async_dial: bad input gets its own error", "[op]") {
    asio::io_context ctx;
    auto dial = [&](std::string host, std::string service, dial_options options = {}) {
        boost::system::error_code result;
        async_dial(ctx, host, service, options, [&](boost::system::error_code ec, tcp::socket) {
            result = ec;
        });
        ctx.restart();
        ctx.run();
        return result;
    };
    CHECK(dial("", "80") == error::empty_host);
    CHECK(dial(std::string(254, 'a'), "80") == error::invalid_host);
    CHECK(dial("bad host!", "80") == error::invalid_host);
    CHECK(dial("127.0.0.1", "") == error::invalid_service);
    CHECK(dial("127.0.0.1", "0") == error::invalid_service);
    CHECK(dial("127.0.0.1", "65536") == error::invalid_service);
    CHECK(dial("127.0.0.1", "no-such-service-name") == error::invalid_service);
    dial_options negative_delay, zero_timeout, zero_count;
    negative_delay.connection_attempt_delay = -1ms;
    zero_timeout.timeout = 0ms;
    zero_count.first_address_family_count = 0;
    CHECK(dial("127.0.0.1", "80", negative_delay) == error::invalid_delay);
    CHECK(dial("127.0.0.1", "80", zero_timeout) == error::invalid_timeout);
    CHECK(dial("127.0.0.1", "80", zero_count) == error::invalid_family_count);
    CHECK(dial("0.0.0.0", "80") == error::invalid_endpoint);
    boost::system::error_code empty_range;
    async_dial(ctx, std::vector<tcp::endpoint>{}, [&](boost::system::error_code ec, tcp::socket) {
        empty_range = ec;
    });
    ctx.restart();
    ctx.run();
    CHECK(empty_range == error::no_endpoints);
}

TEST_CASE("async_dial: resolver results are accepted as a range, IP literals skip DNS", "[op]") {
    accepting_listener ok(loopback_v4);
    asio::io_context ctx;
    tcp::resolver resolver(ctx);
    auto results = resolver.resolve("127.0.0.1", std::to_string(ok.endpoint().port()));
    auto f = async_dial(ctx, results, asio::use_future);
    auto g = async_dial(ctx, "127.0.0.1", std::to_string(ok.endpoint().port()), asio::use_future);
    ctx.run();
    CHECK(f.get().remote_endpoint() == ok.endpoint());
    CHECK(g.get().remote_endpoint() == ok.endpoint());
}
