// Every completion token style, and the Asio contract: no completion inside the initiating
// function, the handler's executor and allocator, exactly one completion.
#include "catch.hpp"
#include "op/loopback.hpp"
#include "support/counting_allocator.hpp"

#include <happy_dial/happy_dial.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <tuple>

using namespace happy_dial;
using namespace happy_dial::test;

namespace {

std::vector<tcp::endpoint> one_listener(const accepting_listener& l) {
    return {l.endpoint()};
}

}  // namespace

TEST_CASE("tokens: callback, never completing inside the initiating function", "[op][token]") {
    accepting_listener l(loopback_v4);
    asio::io_context ctx;
    bool initiated = false;
    int calls = 0;
    async_dial(ctx, one_listener(l), [&](boost::system::error_code ec, tcp::socket s) {
        CHECK(initiated);
        CHECK_FALSE(ec);
        CHECK(s.is_open());
        ++calls;
    });
    initiated = true;
    ctx.run();
    CHECK(calls == 1);
}

TEST_CASE("tokens: bad input completes through the executor, not inline", "[op][token]") {
    asio::io_context ctx;
    bool initiated = false;
    boost::system::error_code result;
    async_dial(ctx, "", "80", [&](boost::system::error_code ec, tcp::socket) {
        CHECK(initiated);
        result = ec;
    });
    initiated = true;
    ctx.run();
    CHECK(result == error::empty_host);
}

TEST_CASE("tokens: use_future", "[op][token]") {
    accepting_listener l(loopback_v4);
    asio::io_context ctx;
    auto f = async_dial(ctx, one_listener(l), asio::use_future);
    ctx.run();
    tcp::socket s = f.get();
    CHECK(s.remote_endpoint() == l.endpoint());
}

TEST_CASE("tokens: use_future reports errors as exceptions", "[op][token]") {
    refusing_port r(loopback_v4);
    asio::io_context ctx;
    auto f = async_dial(ctx, std::vector<tcp::endpoint>{r.endpoint()}, asio::use_future);
    ctx.run();
    CHECK_THROWS_AS(f.get(), boost::system::system_error);
}

TEST_CASE("tokens: use_awaitable and as_tuple(use_awaitable)", "[op][token]") {
    accepting_listener l(loopback_v4);
    refusing_port r(loopback_v4);
    asio::io_context ctx;
    bool done = false;
    asio::co_spawn(
        ctx,
        [&]() -> asio::awaitable<void> {
            auto targets = one_listener(l);
            tcp::socket s = co_await async_dial(ctx, targets, asio::use_awaitable);
            CHECK(s.remote_endpoint() == l.endpoint());
            std::vector<tcp::endpoint> refused{r.endpoint()};
            auto [ec, s2] = co_await async_dial(ctx, refused, asio::as_tuple(asio::use_awaitable));
            CHECK(ec == asio::error::connection_refused);
            CHECK_FALSE(s2.is_open());
            done = true;
        },
        asio::detached);
    ctx.run();
    CHECK(done);
}

TEST_CASE("tokens: deferred runs only when invoked, and composes with as_tuple", "[op][token]") {
    accepting_listener l(loopback_v4);
    asio::io_context ctx;
    auto targets = one_listener(l);
    auto op = async_dial(ctx, targets, asio::deferred);
    ctx.run();  // nothing started yet
    ctx.restart();
    int calls = 0;
    std::move(op)([&](boost::system::error_code ec, tcp::socket s) {
        CHECK_FALSE(ec);
        CHECK(s.is_open());
        ++calls;
    });
    ctx.run();
    CHECK(calls == 1);

    ctx.restart();
    auto tupled = async_dial(ctx, targets, asio::as_tuple(asio::deferred));
    std::move(tupled)([&](std::tuple<boost::system::error_code, tcp::socket> t) {
        CHECK_FALSE(std::get<0>(t));
        ++calls;
    });
    ctx.run();
    CHECK(calls == 2);
}

TEST_CASE("tokens: async_connect fills the caller's socket like asio::async_connect",
          "[op][token]") {
    accepting_listener l(loopback_v4);
    asio::io_context ctx;
    tcp::socket socket(ctx);
    tcp::endpoint connected;
    happy_dial::async_connect(
        socket, one_listener(l), [&](boost::system::error_code ec, tcp::endpoint ep) {
            CHECK_FALSE(ec);
            connected = ep;
        });
    ctx.run();
    CHECK(connected == l.endpoint());
    CHECK(socket.remote_endpoint() == l.endpoint());

    // Host + service form with an IP literal (no DNS).
    ctx.restart();
    tcp::socket socket2(ctx);
    auto f = happy_dial::async_connect(
        socket2, "127.0.0.1", std::to_string(l.endpoint().port()), asio::use_future);
    ctx.run();
    CHECK(f.get() == l.endpoint());
    CHECK(socket2.is_open());
}

TEST_CASE("tokens: dialer holds options and dials every way", "[op][token]") {
    accepting_listener l(loopback_v4);
    asio::io_context ctx;
    dialer d(ctx);
    d.options().connection_attempt_delay = std::chrono::milliseconds(100);
    dial_report report;
    int calls = 0;
    d.async_dial("127.0.0.1",
                 std::to_string(l.endpoint().port()),
                 report,
                 [&](boost::system::error_code ec, tcp::socket) {
                     CHECK_FALSE(ec);
                     ++calls;
                 });
    d.async_dial(one_listener(l), [&](boost::system::error_code ec, tcp::socket) {
        CHECK_FALSE(ec);
        ++calls;
    });
    ctx.run();
    CHECK(calls == 2);
    CHECK(report.attempts.size() == 1);
}

TEST_CASE("tokens: handler runs on its associated executor", "[op][token]") {
    accepting_listener l(loopback_v4);
    asio::io_context ctx;
    auto strand = asio::make_strand(ctx);
    bool on_strand = false;
    async_dial(ctx,
               one_listener(l),
               asio::bind_executor(strand, [&](boost::system::error_code, tcp::socket) {
                   on_strand = strand.running_in_this_thread();
               }));
    ctx.run();
    CHECK(on_strand);
}

TEST_CASE("tokens: state uses the associated allocator and is freed before the upcall",
          "[op][token]") {
    black_hole hole(loopback_v4);
    accepting_listener l(loopback_v4);
    asio::io_context ctx;
    allocation_counters counters;
    long live_at_upcall = -1;
    std::vector<tcp::endpoint> targets{hole.endpoint(), l.endpoint()};
    dial_options options;
    options.connection_attempt_delay = std::chrono::milliseconds(20);
    async_dial(ctx,
               targets,
               options,
               asio::bind_allocator(counting_allocator<void>(&counters),
                                    [&](boost::system::error_code ec, tcp::socket) {
                                        CHECK_FALSE(ec);
                                        live_at_upcall = counters.live.load();
                                    }));
    ctx.run();
    CHECK(counters.allocations > 0);
    CHECK(live_at_upcall == 0);
    CHECK(counters.live == 0);
}
