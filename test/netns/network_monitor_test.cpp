// network_monitor on a real kernel: rtnetlink address and route notifications, in the test's
// own namespace (run-in-netns.sh), flush the dial history. Only lo and documentation
// addresses (2001:db8::/32) are touched; every wait is bounded in steps and in time.
#include "catch.hpp"
#include "netns/bench.hpp"

#include <happy_dial/history.hpp>
#include <happy_dial/network_monitor.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace happy_dial;
using namespace happy_dial::netns;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

using steady = std::chrono::steady_clock;

constexpr double bump_within_ms = 200;  // an rtnetlink notification is sent synchronously
constexpr auto step = 10ms;             // one run_for() of a wait loop
constexpr int max_steps = 200;          // 2 s at most per wait

double ms_since(steady::time_point t0) {
    return std::chrono::duration<double, std::milli>(steady::now() - t0).count();
}

/// Runs `ip args...` and requires it to succeed.
void ip(std::vector<std::string> args) {
    args.insert(args.begin(), "ip");
    std::string out;
    INFO("ip command: " << args[1] << " " << (args.size() > 2 ? args[2] : ""));
    REQUIRE(run_command(args, &out) == 0);
}

/// The namespace starts with lo down; bring it up before any monitor listens, so that its own
/// notifications (127.0.0.1, ::1 and their routes) are not seen by the test's monitor.
void loopback_up() {
    ip({"link", "set", "lo", "up"});
}

/// Runs `ctx` in steps until the history's epoch is past `before` (at most 2 s); the time from
/// `t0` to the step that saw it, or nothing.
std::optional<double> wait_for_bump(asio::io_context& ctx,
                                    const dial_history& history,
                                    std::uint64_t before,
                                    steady::time_point t0) {
    const auto deadline = steady::now() + step * max_steps;
    for (int i = 0; i < max_steps && steady::now() < deadline; ++i) {
        if (ctx.stopped()) {
            ctx.restart();
        }
        ctx.run_for(step);
        if (history.epoch() > before) {
            return ms_since(t0);
        }
    }
    return std::nullopt;
}

/// Runs `ctx` for `d` in steps (handlers of datagrams already queued run too).
void run_for(asio::io_context& ctx, std::chrono::milliseconds d) {
    const auto deadline = steady::now() + d;
    for (int i = 0; i < max_steps && steady::now() < deadline; ++i) {
        if (ctx.stopped()) {
            ctx.restart();
        }
        ctx.run_for(step);
    }
}

const history_key key{"", "monitored.hd.test", 443};

/// The history remembers one destination: hints() adds it.
void remember_one(dial_history& history) {
    [[maybe_unused]] const auto hints = history.hints(core::clock::now(), key);
    REQUIRE(history.size() == 1);
}

/// lo up, a history remembering one destination, and a started monitor on `ctx`.
struct watched {
    asio::io_context ctx;
    std::shared_ptr<dial_history> history = std::make_shared<dial_history>();
    network_monitor monitor{ctx.get_executor(), history};
    std::uint64_t before = 0;  ///< the epoch once started

    watched() {
        loopback_up();
        REQUIRE_FALSE(monitor.start());
        REQUIRE(monitor.running());
        remember_one(*history);
        before = history->epoch();
    }
};

/// `change` (an ip command) bumps the epoch within bump_within_ms and forgets the destination;
/// every bump comes from the monitor.
void check_change_flushes(const std::string& what, const std::vector<std::string>& change) {
    watched w;
    auto& [ctx, history, monitor, before] = w;

    const auto t0 = steady::now();
    ip(change);
    const auto waited = wait_for_bump(ctx, *history, before, t0);
    REQUIRE(waited.has_value());
    std::cout << "[monitor] " << what << ": epoch bumped after " << *waited << " ms\n";
    CHECK(*waited <= bump_within_ms);
    CHECK(history->size() == 0);
    // Let the rest of the notifications (e.g. the local route of an address) arrive: each
    // datagram with a change is one network_changed() call, made by this monitor only.
    run_for(ctx, 50ms);
    CHECK(monitor.changes() >= 1);
    CHECK(monitor.changes() == history->epoch() - before);
}

}  // namespace

TEST_CASE("network monitor: an address added to lo flushes the history", "[netns][history]") {
    check_change_flushes("ip addr add 2001:db8::99/128 dev lo",
                         {"addr", "add", "2001:db8::99/128", "dev", "lo"});
}

TEST_CASE("network monitor: an address removed from lo flushes the history", "[netns][history]") {
    loopback_up();
    ip({"addr", "add", "2001:db8::98/128", "dev", "lo"});  // before the monitor listens
    check_change_flushes("ip addr del 2001:db8::98/128 dev lo",
                         {"addr", "del", "2001:db8::98/128", "dev", "lo"});
}

TEST_CASE("network monitor: an IPv6 route added on lo flushes the history", "[netns][history]") {
    check_change_flushes("ip -6 route add 2001:db8:1::/64 dev lo",
                         {"-6", "route", "add", "2001:db8:1::/64", "dev", "lo"});
}

TEST_CASE("network monitor: an IPv4 address added to lo flushes the history", "[netns][history]") {
    check_change_flushes("ip addr add 127.0.0.99/32 dev lo",
                         {"addr", "add", "127.0.0.99/32", "dev", "lo"});
}

TEST_CASE("network monitor: nothing changes, no flush within 300 ms", "[netns][history]") {
    watched w;
    auto& [ctx, history, monitor, before] = w;
    const auto t0 = steady::now();
    run_for(ctx, 300ms);
    CHECK(ms_since(t0) >= 300);
    CHECK(history->epoch() == before);
    CHECK(history->size() == 1);
    CHECK(monitor.changes() == 0);
    CHECK(monitor.running());
}

TEST_CASE("network monitor: stop() leaves no pending work and sees no more changes",
          "[netns][history]") {
    watched w;
    auto& [ctx, history, monitor, before] = w;
    monitor.stop();
    CHECK_FALSE(monitor.running());
    monitor.stop();  // harmless twice

    // A change after stop() is not reported.
    ip({"addr", "add", "2001:db8::97/128", "dev", "lo"});
    const auto t0 = steady::now();
    ctx.run_for(2s);  // returns as soon as the aborted receive's handler ran
    const double took = ms_since(t0);
    std::cout << "[monitor] run() after stop() returned after " << took << " ms\n";
    CHECK(ctx.stopped());
    CHECK(took < 500);
    CHECK(history->epoch() == before);
    CHECK(history->size() == 1);
    CHECK(monitor.changes() == 0);
    CHECK(history.use_count() == 2);  // the test and the monitor: the handler let go

    // start() again: it sees changes again; a second start() is refused.
    ctx.restart();
    REQUIRE_FALSE(monitor.start());
    CHECK(monitor.start() == asio::error::already_started);
    const auto t1 = steady::now();
    ip({"addr", "add", "2001:db8::96/128", "dev", "lo"});
    const auto waited = wait_for_bump(ctx, *history, before, t1);
    REQUIRE(waited.has_value());
    CHECK(*waited <= bump_within_ms);
    CHECK(history->size() == 0);
}

TEST_CASE("network monitor: destroyed with a receive pending, the context still returns",
          "[netns][history]") {
    loopback_up();
    asio::io_context ctx;
    auto history = std::make_shared<dial_history>();
    {
        network_monitor monitor(ctx.get_executor(), history);
        REQUIRE_FALSE(monitor.start());
        ctx.poll();  // the receive is pending
        CHECK(history.use_count() == 2);
    }
    remember_one(*history);
    ip({"addr", "add", "2001:db8::95/128", "dev", "lo"});
    const auto t0 = steady::now();
    ctx.run_for(2s);
    CHECK(ctx.stopped());
    CHECK(ms_since(t0) < 500);
    CHECK(history->size() == 1);      // the destroyed monitor's handler did nothing
    CHECK(history.use_count() == 1);  // and freed the shared state with it
}

TEST_CASE("network monitor: without a history start() fails without throwing", "[netns][history]") {
    asio::io_context ctx;
    network_monitor monitor(ctx.get_executor(), nullptr);
    CHECK(monitor.start() == asio::error::invalid_argument);
    CHECK_FALSE(monitor.running());
    CHECK(ctx.poll() == 0);
}
