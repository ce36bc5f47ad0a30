#include "catch.hpp"
#include "op/loopback.hpp"

#include <happy_dial/happy_dial.hpp>

#include <boost/asio/io_context.hpp>

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
