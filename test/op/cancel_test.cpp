// Per-operation cancellation at each phase, fd hygiene, and io_context destruction mid-dial.
#include "catch.hpp"
#include "op/loopback.hpp"

#include <happy_dial/happy_dial.hpp>
#include <happy_dial/testing/mock_network.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>

using namespace happy_dial;
using namespace happy_dial::test;
using namespace happy_dial::testing;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using core::address_family;

namespace {

struct result {
    int calls = 0;
    boost::system::error_code ec;
    bool socket_open = false;
    std::chrono::milliseconds at{};
};

// Starts a dial of `host` (mock) that is cancelled with `type` after `after`, runs the context.
result dial_and_cancel(asio::io_context& ctx,
                       mock_network& net,
                       asio::cancellation_type type,
                       std::chrono::milliseconds after,
                       dial_options options = {}) {
    result r;
    asio::cancellation_signal signal;
    const auto start = clock_type::now();
    async_dial(ctx,
               "svc.test",
               "443",
               net.options(options),
               asio::bind_cancellation_slot(
                   signal.slot(), [&](boost::system::error_code ec, tcp::socket s) {
                       ++r.calls;
                       r.ec = ec;
                       r.socket_open = s.is_open();
                       r.at = std::chrono::duration_cast<std::chrono::milliseconds>(
                           clock_type::now() - start);
                   }));
    asio::steady_timer timer(ctx, after);
    timer.async_wait([&](boost::system::error_code) {
        if (r.calls == 0) {
            signal.emit(type);
        }
    });
    ctx.run();
    return r;
}

}  // namespace

TEST_CASE("cancel: terminal during resolution completes at once and keeps nothing alive",
          "[op][cancel]") {
    for (auto type : {asio::cancellation_type::terminal, asio::cancellation_type::total}) {
        asio::io_context ctx;
        auto net = mock_network::create(ctx.get_executor());
        net->never_answer("svc.test", address_family::ipv6);
        net->never_answer("svc.test", address_family::ipv4);
        const auto r = dial_and_cancel(ctx, *net, type, 20ms);  // run() returning proves it
        CHECK(r.calls == 1);
        CHECK(r.ec == asio::error::operation_aborted);
        CHECK(r.at < 60ms);
    }
}

TEST_CASE("cancel: partial during resolution completes at once", "[op][cancel]") {
    asio::io_context ctx;
    auto net = mock_network::create(ctx.get_executor());
    net->never_answer("svc.test", address_family::ipv6);
    net->answer("svc.test", address_family::ipv4, {"192.0.2.1"}, 500ms);
    const auto r = dial_and_cancel(ctx, *net, asio::cancellation_type::partial, 20ms);
    CHECK(r.calls == 1);
    CHECK(r.ec == asio::error::operation_aborted);
    CHECK(r.at < 60ms);
    CHECK(net->connects().empty());
}

TEST_CASE("cancel: terminal during attempts aborts and closes every attempt", "[op][cancel]") {
    asio::io_context ctx;
    auto net = mock_network::create(ctx.get_executor());
    net->resolve("svc.test", {"2001:db8::1", "192.0.2.1"});
    net->endpoint("2001:db8::1", 443, behaviour::never);
    net->endpoint("192.0.2.1", 443, behaviour::never);
    const int fds = open_fd_count();
    const auto r = dial_and_cancel(ctx, *net, asio::cancellation_type::terminal, 300ms);
    CHECK(r.calls == 1);
    CHECK(r.ec == asio::error::operation_aborted);
    CHECK_FALSE(r.socket_open);
    CHECK(r.at < 350ms);
    CHECK(net->connects().size() == 2);
    CHECK(net->pending_connects() == 0);
    CHECK(open_fd_count() == fds);
}

TEST_CASE("cancel: partial during attempts lets a running attempt win, starts no new one",
          "[op][cancel]") {
    asio::io_context ctx;
    auto net = mock_network::create(ctx.get_executor());
    net->resolve("svc.test", {"2001:db8::1", "192.0.2.1", "2001:db8::2"});
    net->endpoint("2001:db8::1", 443, behaviour::never);
    net->endpoint("192.0.2.1", 443, behaviour::connects, 100ms);  // starts at 50, wins at 150
    net->endpoint("2001:db8::2", 443, behaviour::connects);
    dial_options options;
    options.connection_attempt_delay = 50ms;
    const auto r = dial_and_cancel(ctx, *net, asio::cancellation_type::partial, 80ms, options);
    CHECK(r.calls == 1);
    CHECK_FALSE(r.ec);
    CHECK(r.socket_open);
    CHECK(r.at >= 150ms);
    CHECK(net->connects().size() == 2);  // 2001:db8::2 never started
}

TEST_CASE("cancel: partial, then every running attempt fails -> operation_aborted",
          "[op][cancel]") {
    asio::io_context ctx;
    auto net = mock_network::create(ctx.get_executor());
    net->resolve("svc.test", {"2001:db8::1", "192.0.2.1"});
    net->endpoint("2001:db8::1", 443, behaviour::refuses, 100ms);
    const auto r = dial_and_cancel(ctx, *net, asio::cancellation_type::partial, 20ms);
    CHECK(r.calls == 1);
    CHECK(r.ec == asio::error::operation_aborted);
    CHECK(r.at >= 100ms);
    CHECK(net->connects().size() == 1);
}

TEST_CASE("cancel: racing with a win completes exactly once and leaks no fd", "[op][cancel]") {
    const int fds = open_fd_count();
    int successes = 0, aborts = 0;
    for (int i = 0; i < 40; ++i) {
        asio::io_context ctx;
        auto net = mock_network::create(ctx.get_executor());
        const int with_net = open_fd_count();
        net->resolve("svc.test", {"192.0.2.1"});
        net->endpoint("192.0.2.1", 443, behaviour::connects, 20ms);
        const auto r = dial_and_cancel(
            ctx, *net, asio::cancellation_type::terminal, std::chrono::milliseconds(19 + i % 3));
        REQUIRE(r.calls == 1);
        if (r.ec) {
            CHECK(r.ec == asio::error::operation_aborted);
            ++aborts;
        } else {
            ++successes;
        }
        CHECK(net->pending_connects() == 0);
        CHECK(open_fd_count() == with_net);
    }
    CHECK(successes + aborts == 40);
    CHECK(open_fd_count() == fds);
}

TEST_CASE("cancel: emitting after completion does nothing", "[op][cancel]") {
    accepting_listener l(loopback_v4);
    asio::io_context ctx;
    asio::cancellation_signal signal;
    int calls = 0;
    async_dial(
        ctx,
        std::vector<tcp::endpoint>{l.endpoint()},
        asio::bind_cancellation_slot(signal.slot(), [&](boost::system::error_code ec, tcp::socket) {
            CHECK_FALSE(ec);
            ++calls;
        }));
    ctx.run();
    signal.emit(asio::cancellation_type::terminal);
    ctx.restart();
    ctx.run();
    CHECK(calls == 1);
}

TEST_CASE("fds: back to baseline after success, failure and timeout", "[op][fd]") {
    accepting_listener ok(loopback_v4);
    refusing_port refused(loopback_v4);
    black_hole hole(loopback_v4);
    const int fds = open_fd_count();
    {
        asio::io_context ctx;
        asio::steady_timer reactor(ctx);       // creates the io_context's own descriptors now
        const int with_ctx = open_fd_count();  // ... and counts them
        dial_options options;
        options.connection_attempt_delay = 20ms;
        auto f = async_dial(ctx,
                            std::vector<tcp::endpoint>{hole.endpoint(), ok.endpoint()},
                            options,
                            asio::use_future);
        ctx.run();
        tcp::socket s = f.get();
        CHECK(open_fd_count() == with_ctx + 1);  // only the winner
    }
    CHECK(open_fd_count() == fds);
    {
        asio::io_context ctx;
        dial_report report;
        dial_options options;
        options.report = &report;
        boost::system::error_code result;
        async_dial(ctx,
                   std::vector<tcp::endpoint>{refused.endpoint(), refused.endpoint()},
                   options,
                   [&](boost::system::error_code ec, tcp::socket) { result = ec; });
        ctx.run();
        CHECK(result == asio::error::connection_refused);
        CHECK(report.attempts.size() == 1);  // duplicates removed
    }
    CHECK(open_fd_count() == fds);
    {
        asio::io_context ctx;
        dial_options options;
        options.timeout = 100ms;
        boost::system::error_code result;
        const auto start = clock_type::now();
        async_dial(ctx,
                   std::vector<tcp::endpoint>{hole.endpoint()},
                   options,
                   [&](boost::system::error_code ec, tcp::socket) { result = ec; });
        ctx.run();
        CHECK(result == error::timed_out);
        CHECK(clock_type::now() - start < 200ms);
    }
    CHECK(open_fd_count() == fds);
}

TEST_CASE("destroying the io_context with dials pending leaks and crashes nothing", "[op][fd]") {
    black_hole hole(loopback_v4);
    const int fds = open_fd_count();
    int calls = 0;
    {
        asio::io_context ctx;
        auto net = mock_network::create(ctx.get_executor());
        net->never_answer("svc.test", address_family::ipv6);
        net->answer("svc.test", address_family::ipv4, {"192.0.2.1"});
        net->endpoint("192.0.2.1", 443, behaviour::never);
        auto count = [&](boost::system::error_code, tcp::socket) { ++calls; };
        async_dial(ctx, std::vector<tcp::endpoint>{hole.endpoint()}, count);
        async_dial(ctx, "svc.test", "443", net->options(), count);
        // A real lookup through the resolver threads (a literal and a service name from
        // /etc/services: nothing leaves the machine); it may or may not have finished.
        int lookup_calls = 0;
        async_dial(ctx, "127.0.0.1", "http", [&](boost::system::error_code, tcp::socket) {
            ++lookup_calls;
        });
        ctx.run_for(100ms);
    }
    CHECK(calls == 0);
    CHECK(open_fd_count() == fds);
}
