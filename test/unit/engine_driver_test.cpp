// The public fake-clock driver (happy_dial::testing::engine_driver) on RFC 8305 cases, and its
// contract checker (happy_dial::testing::engine_contract) catching wrong action sequences.
// The first test case is the example of docs/testing.md.
#include "catch.hpp"

#include <happy_dial/error.hpp>
#include <happy_dial/testing/engine_driver.hpp>

#include <boost/asio/error.hpp>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

using namespace std::chrono_literals;
using happy_dial::core::address_family;
using happy_dial::core::endpoint;
using happy_dial::core::engine_config;
using namespace happy_dial::testing;
namespace core = happy_dial::core;

namespace {

endpoint ep(const char* address) {
    return {boost::asio::ip::make_address(address), 443};
}

const endpoint v6 = ep("2001:db8::1");
const endpoint v6_2 = ep("2001:db8::2");
const endpoint v4 = ep("192.0.2.1");

// Whether one of `violations` contains `text`.
bool found(const std::vector<std::string>& violations, const std::string& text) {
    return std::any_of(violations.begin(), violations.end(), [&](const std::string& v) {
        return v.find(text) != std::string::npos;
    });
}

}  // namespace

// [snippet:driver]
TEST_CASE("driver: my policy reaches IPv4 100 ms after a black-holed IPv6", "[driver]") {
    engine_config policy;  // the policy under test (async_dial fills it from dial_options)
    policy.connection_attempt_delay = 100ms;
    policy.overall_timeout = 2s;

    engine_driver d{policy};
    d.answer(address_family::ipv6, {ep("2001:db8::1")});      // AAAA at once
    d.answer(address_family::ipv4, {ep("192.0.2.1")}, 20ms);  // A 20 ms later
    d.endpoint(ep("2001:db8::1"), never_answers());           // IPv6 black-holed
    d.endpoint(ep("192.0.2.1"), connects_after(30ms));
    const dial_result r = d.dial("app.test", "443");

    INFO(d.describe());           // the timeline and any violation, if a check fails
    CHECK(r.violations.empty());  // the engine kept its contract throughout
    CHECK(r.winner() == ep("192.0.2.1"));
    CHECK(r.started(1) == 100ms);  // IPv4 one Connection Attempt Delay after IPv6
    CHECK(r.elapsed == 130ms);
    CHECK(r.trace.attempts[0].outcome == core::attempt_outcome::cancelled);
}
// [/snippet:driver]

TEST_CASE("driver §5: IPv6 black-holed, IPv4 starts at 250 ms and wins", "[driver]") {
    engine_driver d;
    d.answer(address_family::ipv6, {v6}).answer(address_family::ipv4, {v4}, 5ms);
    d.endpoint(v6, never_answers()).endpoint(v4, connects_after(10ms));
    const auto r = d.dial("example.test", "443");
    INFO(d.describe());
    CHECK(r.violations.empty());
    REQUIRE(r.done);
    CHECK(r.winner() == v4);
    CHECK(r.started(0) == 0ms);
    CHECK(r.started(1) == 250ms);
    CHECK(r.elapsed == 260ms);

    // The whole timeline, exactly: the lookups, then the attempts and the wake-up.
    std::vector<std::string> lines;
    for (const auto& entry : d.timeline()) {
        std::ostringstream os;
        os << std::chrono::duration_cast<std::chrono::milliseconds>(entry.at - d.start_time())
                  .count()
           << " ";
        if (const auto* a = std::get_if<core::action>(&entry.what)) {
            if (const auto* t = std::get_if<core::set_timer>(a)) {
                os << "set_timer +"
                   << std::chrono::duration_cast<std::chrono::milliseconds>(t->at - d.start_time())
                          .count();
            } else {
                os << *a;
            }
        } else {
            os << std::get<engine_event>(entry.what);
        }
        lines.push_back(os.str());
    }
    CHECK(lines == std::vector<std::string>{
                       "0 start{example.test:443}",
                       "0 start_lookup{ipv6}",
                       "0 start_lookup{ipv4}",
                       "0 on_answer{ipv6 [2001:db8::1]:443}",
                       "0 start_attempt{0, [2001:db8::1]:443}",
                       "5 on_answer{ipv4 192.0.2.1:443}",
                       "5 set_timer +250",
                       "250 on_timer{}",
                       "250 start_attempt{1, 192.0.2.1:443}",
                       "260 on_attempt_result{1, connected}",
                       "260 cancel_attempt{0}",
                       "260 dial_done{Success, winner 1}",
                   });
}

TEST_CASE("driver §3: AAAA late, IPv4 goes after the 50 ms Resolution Delay", "[driver]") {
    SECTION("AAAA after 300 ms: IPv4 at 50 ms") {
        engine_driver d;
        d.answer(address_family::ipv6, {v6}, 300ms).answer(address_family::ipv4, {v4});
        d.endpoint(v4, connects_after(10ms));
        const auto r = d.dial("example.test", "443");
        INFO(d.describe());
        CHECK(r.violations.empty());
        CHECK(r.winner() == v4);
        CHECK(r.started(0) == 50ms);
        CHECK(r.elapsed == 60ms);
    }
    SECTION("AAAA within the delay: IPv6 first, at 30 ms") {
        engine_driver d;
        d.answer(address_family::ipv6, {v6}, 30ms).answer(address_family::ipv4, {v4});
        d.endpoint(v6, connects_after(10ms));
        const auto r = d.dial("example.test", "443");
        INFO(d.describe());
        CHECK(r.violations.empty());
        CHECK(r.winner() == v6);
        CHECK(r.started(0) == 30ms);
        CHECK(r.trace.attempts.size() == 1);
    }
    SECTION("AAAA never answers: IPv4 at exactly 50 ms") {
        engine_driver d;
        d.never_answer(address_family::ipv6).answer(address_family::ipv4, {v4});
        d.endpoint(v4, connects_after(1ms));
        const auto r = d.dial("example.test", "443");
        CHECK(r.violations.empty());
        CHECK(r.started(0) == 50ms);
    }
}

TEST_CASE("driver: a deadline ends the dial with error::timed_out exactly at it", "[driver]") {
    engine_config c;
    c.overall_timeout = 1s;
    engine_driver d{c};
    d.answer(address_family::ipv6, {v6, v6_2}).answer(address_family::ipv4, {v4});
    d.unscripted_endpoints(never_answers());  // every address black-holed
    const auto r = d.dial("example.test", "443");
    INFO(d.describe());
    CHECK(r.violations.empty());
    CHECK(r.outcome.error == happy_dial::error::timed_out);
    CHECK(r.elapsed == 1s);
    // Three addresses share the second: starts at 0, 250 and 500 ms (the delay is short enough).
    REQUIRE(r.trace.attempts.size() == 3);
    CHECK(r.started(1) == 250ms);
    CHECK(r.started(2) == 500ms);
    for (const auto& a : r.trace.attempts) {
        CHECK(a.outcome == core::attempt_outcome::cancelled);
    }
}

TEST_CASE("driver: scripted events by hand: cancellation, stale reports, manual stepping",
          "[driver]") {
    SECTION("a partial cancel lets the running attempt win, starts nothing new") {
        engine_driver d;
        d.endpoint(v6, connects_after(400ms)).endpoint(v4, connects_after(10ms));
        d.cancel_at(100ms, core::cancel_kind::partial);
        const auto r = d.dial_endpoints({v6, v4});
        CHECK(r.violations.empty());
        CHECK(r.winner() == v6);
        CHECK(r.trace.attempts.size() == 1);
    }
    SECTION("results of cancelled attempts reported anyway are ignored") {
        engine_config c;
        c.attempt_timeout = 100ms;
        engine_driver d{c};
        d.endpoint(v6, connects_after(150ms)).endpoint(v4, fails_after(20ms));
        d.report_cancelled([](core::attempt_id) { return true; });
        d.report_at(300ms, 7, {});  // an id never handed out
        const auto r = d.dial_endpoints({v6, v4});
        INFO(d.describe());
        CHECK(r.violations.empty());
        CHECK(r.outcome.error == happy_dial::error::attempt_timed_out);  // attempt 0's (F.29)
        CHECK(r.trace.attempts[0].outcome == core::attempt_outcome::timed_out);
    }
    SECTION("stepping by hand, with wake-ups fed by the test") {
        engine_driver d;
        d.manual_timers().unscripted_endpoints(never_answers());
        d.feed(start_event{start_event::kind::expected, {}, {address_family::ipv6}, {}});
        d.advance(10ms);
        d.feed(answer_event{{address_family::ipv6, {v6, v6_2}, {}}});
        REQUIRE(d.contract().running() == std::vector<core::attempt_id>{0});
        REQUIRE(d.contract().armed() == d.start_time() + 260ms);
        d.run_until(*d.contract().armed());
        d.feed(timer_event{});
        CHECK(d.contract().running() == std::vector<core::attempt_id>{0, 1});
        d.feed(result_event{1, {}});
        const auto r = d.finish();
        CHECK(r.violations.empty());
        CHECK(r.winner() == v6_2);
    }
}

TEST_CASE("contract: a deliberately wrong action sequence is caught", "[driver][contract]") {
    engine_config c;
    c.overall_timeout = 1s;
    engine_contract check{c};
    const core::time_point t0 = engine_driver::default_start();
    start_event start{start_event::kind::endpoints, {}, {}, {v6, v4}};
    using actions = std::vector<core::action>;
    // Two starts at once, the second with a skipped id; a wake-up past the deadline.
    check.check(
        t0,
        start,
        actions{core::start_attempt{0, v6}, core::start_attempt{2, v4}, core::set_timer{t0 + 2s}});
    // A cancel for an attempt that already failed, a wake-up in the past.
    check.check(t0 + 100ms,
                result_event{0, boost::asio::error::connection_refused},
                actions{core::cancel_attempt{0}, core::set_timer{t0 + 50ms}});
    // A winner that did not connect, with a wake-up armed, then a second dial_done.
    check.check(t0 + 200ms,
                answer_event{{address_family::ipv6, {}, {}}},
                actions{core::dial_done{{}, 1}, core::dial_done{{}, 1}});
    const auto& v = check.violations();
    INFO(Catch::Detail::stringify(v));
    CHECK(found(v, "ids are dense from 0"));
    CHECK(found(v, "less than 10 ms"));
    CHECK(found(v, "past the deadline"));
    CHECK(found(v, "cancel_attempt{0} for an attempt that is not running"));
    CHECK(found(v, "set_timer at or before now"));
    CHECK(found(v, "the winner is not the attempt whose success was just reported"));
    CHECK(found(v, "while attempt 1 still runs"));
    CHECK(found(v, "with a wake-up still armed"));
    CHECK(found(v, "action after dial_done"));
}

TEST_CASE("contract: fed by hand next to dial_engine, a correct dial passes",
          "[driver][contract]") {
    // A driver of one's own: feed each event to the engine and to the checker with its reply.
    core::dial_engine engine{{}};
    engine_contract check{{}};
    const core::time_point t0 = engine_driver::default_start();
    auto step = [&](core::time_point now, const engine_event& e) {
        feed(engine, now, e);
        std::vector<core::action> reply;
        while (auto a = engine.next_action()) {
            reply.push_back(*a);
        }
        check.check(now, e, reply);
        return reply;
    };
    step(t0, start_event{start_event::kind::endpoints, {}, {}, {v6, v4}});
    step(t0 + 3ms, result_event{0, boost::asio::error::network_unreachable});
    step(t0 + 10ms, timer_event{});
    step(t0 + 40ms, result_event{1, {}});
    check.finish(engine);
    CHECK(check.violations().empty());
    CHECK(check.result() == core::dial_done{{}, 1});
    CHECK(check.done_at() == t0 + 40ms);
}
