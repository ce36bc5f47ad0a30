// Asio's conventions beyond the completion tokens: any executor type for the socket, default
// completion tokens, initiation objects with an executor, composition with Asio's own
// combinators, and the blocking forms.
#include "catch.hpp"
#include "op/loopback.hpp"

#include <happy_dial/happy_dial.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <type_traits>
#include <variant>

using namespace happy_dial;
using namespace happy_dial::test;
using namespace std::chrono_literals;

namespace {
using context_executor = asio::io_context::executor_type;
using typed_socket = asio::basic_stream_socket<tcp, context_executor>;
using strand_socket = asio::basic_stream_socket<tcp, asio::strand<context_executor>>;

std::vector<tcp::endpoint> one_listener(const accepting_listener& l) {
    return {l.endpoint()};
}

// The initiation objects follow asio::async_connect's: they name their executor.
static_assert(
    std::is_same_v<detail::initiate_dial<context_executor>::executor_type, context_executor>);
static_assert(
    std::is_same_v<detail::initiate_connect<context_executor>::executor_type, context_executor>);
}  // namespace

TEST_CASE("executors: async_connect fills sockets of any executor type", "[op][executor]") {
    accepting_listener l(loopback_v4);
    asio::io_context ctx;
    typed_socket typed(ctx.get_executor());
    strand_socket stranded(asio::make_strand(ctx));
    int calls = 0;
    auto check = [&](boost::system::error_code ec, tcp::endpoint e) {
        CHECK_FALSE(ec);
        CHECK(e == l.endpoint());
        ++calls;
    };
    happy_dial::async_connect(typed, one_listener(l), check);
    happy_dial::async_connect(stranded, "127.0.0.1", std::to_string(l.endpoint().port()), check);
    ctx.run();
    CHECK(calls == 2);
    CHECK(typed.is_open());
    CHECK(stranded.is_open());
    CHECK(typed.remote_endpoint() == l.endpoint());
}

TEST_CASE("executors: async_dial hands the socket back on the executor's type", "[op][executor]") {
    accepting_listener l(loopback_v4);
    asio::io_context ctx;
    bool called = false;
    happy_dial::async_dial(
        ctx.get_executor(), one_listener(l), [&](boost::system::error_code ec, typed_socket s) {
            CHECK_FALSE(ec);
            CHECK(s.is_open());
            CHECK(s.remote_endpoint() == l.endpoint());
            called = true;
        });
    ctx.run();
    CHECK(called);
}

TEST_CASE("executors: default completion tokens and as_default_on sockets", "[op][executor]") {
    accepting_listener l(loopback_v4);
    asio::io_context ctx;
    using awaitable_executor = asio::use_awaitable_t<>::executor_with_default<context_executor>;
    bool done = false;
    asio::co_spawn(
        ctx,
        [&]() -> asio::awaitable<void> {
            // No token: the executor's default (use_awaitable) applies.
            auto ex = awaitable_executor(ctx.get_executor());
            auto dialled = co_await happy_dial::async_dial(ex, one_listener(l));
            CHECK(dialled.is_open());
            auto socket = asio::use_awaitable.as_default_on(tcp::socket(ctx));
            const auto endpoint = co_await happy_dial::async_connect(socket, one_listener(l));
            CHECK(endpoint == l.endpoint());
            done = true;
        },
        asio::detached);
    ctx.run();
    CHECK(done);
}

TEST_CASE("executors: redirect_error, parallel_group and awaitable operators compose",
          "[op][executor]") {
    accepting_listener l(loopback_v4);
    refusing_port refused(loopback_v4);
    asio::io_context ctx;
    int steps = 0;
    asio::co_spawn(
        ctx,
        [&]() -> asio::awaitable<void> {
            boost::system::error_code ec;
            std::vector<tcp::endpoint> bad{refused.endpoint()};
            co_await happy_dial::async_dial(
                ctx, bad, asio::redirect_error(asio::use_awaitable, ec));
            CHECK(ec == asio::error::connection_refused);
            ++steps;

            using namespace asio::experimental::awaitable_operators;
            asio::steady_timer timer(ctx, 5s);
            auto first =
                co_await (happy_dial::async_dial(ctx, one_listener(l), asio::use_awaitable) ||
                          timer.async_wait(asio::use_awaitable));
            CHECK(first.index() == 0);  // the dial won; the timer wait was cancelled
            ++steps;
        },
        asio::detached);
    auto group = asio::experimental::make_parallel_group(
        happy_dial::async_dial(ctx, one_listener(l), asio::deferred),
        happy_dial::async_dial(ctx, one_listener(l), asio::deferred));
    group.async_wait(asio::experimental::wait_for_all(),
                     [&](std::array<std::size_t, 2>,
                         boost::system::error_code e1,
                         tcp::socket s1,
                         boost::system::error_code e2,
                         tcp::socket s2) {
                         CHECK_FALSE(e1);
                         CHECK_FALSE(e2);
                         CHECK(s1.is_open());
                         CHECK(s2.is_open());
                         ++steps;
                     });
    ctx.run();
    CHECK(steps == 3);
}

TEST_CASE("blocking: connect and dial like asio::connect, with error_code or exceptions",
          "[op][blocking]") {
    accepting_listener l(loopback_v4);
    refusing_port refused(loopback_v4);
    asio::io_context ctx;  // never run: the blocking forms run their own
    const auto port = std::to_string(l.endpoint().port());

    typed_socket socket(ctx.get_executor());
    CHECK(happy_dial::connect(socket, "127.0.0.1", port) == l.endpoint());
    CHECK(socket.remote_endpoint() == l.endpoint());

    boost::system::error_code ec;
    std::vector<tcp::endpoint> bad{refused.endpoint()};
    CHECK(happy_dial::connect(socket, bad, {}, ec) == tcp::endpoint{});
    CHECK(ec == asio::error::connection_refused);
    CHECK_FALSE(socket.is_open());
    CHECK_THROWS_AS(happy_dial::connect(socket, bad), boost::system::system_error);

    auto dialled = happy_dial::dial(ctx.get_executor(), "127.0.0.1", port);
    CHECK(dialled.remote_endpoint() == l.endpoint());
    auto failed = happy_dial::dial(ctx.get_executor(), "", port, {}, ec);
    CHECK(ec == error::empty_host);
    CHECK_FALSE(failed.is_open());
}
