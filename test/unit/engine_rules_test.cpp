// Rule-by-rule tests of the sans-I/O engine against RFC 8305 and the peers' pitfalls
// (/work/shared/reference/happy-eyeballs-spec.md, peers-and-pitfalls.md). Every test drives the
// engine with the fake clock t(ms) and checks the exact actions it asks for, and when.
#include "catch.hpp"
#include "unit/engine_harness.hpp"

#include <happy_dial/error.hpp>
#include <happy_dial/testing/engine_driver.hpp>

#include <boost/asio/error.hpp>

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

using namespace happy_dial;
using namespace happy_dial::test;
using namespace happy_dial::core;

namespace {

using seq = std::vector<action>;
namespace aerr = boost::asio::error;

const endpoint v6_1 = ep("2001:db8::1");
const endpoint v6_2 = ep("2001:db8::2");
const endpoint v6_3 = ep("2001:db8::3");
const endpoint v4_1 = ep("192.0.2.1");
const endpoint v4_2 = ep("192.0.2.2");
const endpoint v4_3 = ep("192.0.2.3");

const std::initializer_list<address_family> both = {address_family::ipv6, address_family::ipv4};

action won_by(attempt_id id) {
    return dial_done{{}, id};
}
action failed_with(error_code ec) {
    return dial_done{ec, std::nullopt};
}
action failed_with(happy_dial::error e) {
    return dial_done{make_error_code(e), std::nullopt};
}
action aborted() {
    return dial_done{aerr::operation_aborted, std::nullopt};
}

error_code ec(happy_dial::error e) {
    return make_error_code(e);
}

resolution_answer aaaa_error(error_code e) {
    return {address_family::ipv6, {}, e};
}
resolution_answer a_error(error_code e) {
    return {address_family::ipv4, {}, e};
}

engine_config with_delay(duration d) {
    engine_config c;
    c.connection_attempt_delay = d;
    return c;
}

// When each attempt of a driven dial started (since the start), and where to.
std::vector<std::pair<duration, endpoint>> starts(const testing::dial_result& r) {
    std::vector<std::pair<duration, endpoint>> out;
    for (const auto& a : r.trace.attempts) {
        out.emplace_back(a.started - r.trace.started, a.target);
    }
    return out;
}

std::size_t count_set_timers(const seq& actions) {
    return static_cast<std::size_t>(std::count_if(actions.begin(), actions.end(), [](auto& x) {
        return std::holds_alternative<set_timer>(x);
    }));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Resolution (§3)
// ---------------------------------------------------------------------------------------------

TEST_CASE("§3: a positive AAAA answer first starts IPv6 at once", "[engine]") {
    dial_engine e{{}};
    e.start(t(0), both);
    CHECK(drain(e).empty());
    e.on_answer(t(20), aaaa({v6_1}));
    CHECK(drain(e) == seq{start_attempt{0, v6_1}});
    CHECK(e.trace().attempts.at(0).started == t(20));
}

TEST_CASE("§3: a positive A answer first waits the 50 ms Resolution Delay for AAAA", "[engine]") {
    dial_engine e{{}};
    e.start(t(0), both);
    CHECK(drain(e).empty());
    e.on_answer(t(10), a({v4_1}));
    CHECK(drain(e) == seq{set_timer{t(60)}});
    // An early wake-up changes nothing.
    e.on_timer(t(59));
    CHECK(drain(e).empty());
    CHECK(e.trace().attempts.empty());
}

TEST_CASE("§3: AAAA arriving within the Resolution Delay starts IPv6 at that moment", "[engine]") {
    dial_engine e{{}};
    e.start(t(0), both);
    e.on_answer(t(10), a({v4_1}));
    CHECK(drain(e) == seq{set_timer{t(60)}});
    e.on_answer(t(30), aaaa({v6_1}));
    CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(280)}});
    e.on_timer(t(280));
    CHECK(drain(e) == seq{start_attempt{1, v4_1}});
}

TEST_CASE("§3: a negative AAAA answer (NODATA) within the Resolution Delay starts IPv4 at once",
          "[engine]") {
    dial_engine e{{}};
    e.start(t(0), both);
    e.on_answer(t(10), a({v4_1}));
    CHECK(drain(e) == seq{set_timer{t(60)}});
    e.on_answer(t(25), aaaa({}));
    CHECK(drain(e) == seq{start_attempt{0, v4_1}, cancel_timer{}});
}

TEST_CASE("§3: a failed AAAA query within the Resolution Delay starts IPv4 at once", "[engine]") {
    dial_engine e{{}};
    e.start(t(0), both);
    e.on_answer(t(10), a({v4_1}));
    CHECK(drain(e) == seq{set_timer{t(60)}});
    e.on_answer(t(25), aaaa_error(aerr::host_not_found));
    CHECK(drain(e) == seq{start_attempt{0, v4_1}, cancel_timer{}});
}

TEST_CASE("§3 pitfall 9: AAAA never answers -> IPv4 at exactly +50 ms", "[engine]") {
    dial_engine e{{}};
    e.start(t(0), both);
    e.on_answer(t(0), a({v4_1}));
    CHECK(drain(e) == seq{set_timer{t(50)}});
    e.on_timer(t(50));
    CHECK(drain(e) == seq{start_attempt{0, v4_1}});
    e.on_attempt_result(t(90), 0, {});
    CHECK(drain(e) == seq{won_by(0)});
}

TEST_CASE("§3: a Resolution Delay of 0 does not wait for AAAA", "[engine]") {
    engine_config c;
    c.resolution_delay = 0ms;
    dial_engine e{c};
    e.start(t(0), both);
    e.on_answer(t(10), a({v4_1}));
    CHECK(drain(e) == seq{start_attempt{0, v4_1}});
}

TEST_CASE(
    "§3 §6: a late AAAA is merged into the untried part (v4#1 at 50, AAAA at 120 -> v6 at 300)",
    "[engine]") {
    dial_engine e{{}};
    e.start(t(0), both);
    e.on_answer(t(0), a({v4_1, v4_2}));
    CHECK(drain(e) == seq{set_timer{t(50)}});
    e.on_timer(t(50));
    CHECK(drain(e) == seq{start_attempt{0, v4_1}, set_timer{t(300)}});
    e.on_answer(t(120), aaaa({v6_1}));
    CHECK(drain(e).empty());  // the next start stays one attempt delay after the last one
    e.on_timer(t(300));
    CHECK(drain(e) == seq{start_attempt{1, v6_1}, set_timer{t(550)}});
    e.on_timer(t(550));
    CHECK(drain(e) == seq{start_attempt{2, v4_2}});
}

TEST_CASE("§3: all answers negative -> error::no_endpoints and no attempt", "[engine]") {
    dial_engine e{{}};
    e.start(t(0), both);
    e.on_answer(t(10), aaaa({}));
    CHECK(drain(e).empty());
    e.on_answer(t(20), a({}));
    CHECK(drain(e) == seq{failed_with(error::no_endpoints)});
    CHECK(e.done());
    CHECK(e.trace().attempts.empty());
    CHECK(e.trace().answers.size() == 2);
}

TEST_CASE("§3: resolver errors are passed through, the preferred family's error first",
          "[engine]") {
    const error_code v6_err = aerr::host_not_found_try_again;
    const error_code v4_err = aerr::host_not_found;

    SECTION("AAAA error arrives first") {
        dial_engine e{{}};
        e.start(t(0), both);
        e.on_answer(t(10), aaaa_error(v6_err));
        CHECK(drain(e).empty());
        e.on_answer(t(20), a_error(v4_err));
        CHECK(drain(e) == seq{failed_with(v6_err)});
    }
    SECTION("A error arrives first") {
        dial_engine e{{}};
        e.start(t(0), both);
        e.on_answer(t(10), a_error(v4_err));
        CHECK(drain(e).empty());
        e.on_answer(t(20), aaaa_error(v6_err));
        CHECK(drain(e) == seq{failed_with(v6_err)});
    }
    SECTION("only the A query fails, AAAA is NODATA") {
        dial_engine e{{}};
        e.start(t(0), both);
        e.on_answer(t(10), aaaa({}));
        e.on_answer(t(20), a_error(v4_err));
        CHECK(drain(e) == seq{failed_with(v4_err)});
    }
    SECTION("prefer_ipv4 reports the A error first") {
        engine_config c;
        c.preference = family_preference::prefer_ipv4;
        dial_engine e{c};
        e.start(t(0), both);
        e.on_answer(t(10), aaaa_error(v6_err));
        e.on_answer(t(20), a_error(v4_err));
        CHECK(drain(e) == seq{failed_with(v4_err)});
    }
}

TEST_CASE("§3 spec A.2: A never answers, AAAA at 10 ms -> first connect at 10 ms", "[engine]") {
    dial_engine e{{}};
    e.start(t(0), both);
    CHECK(drain(e).empty());
    e.on_answer(t(10), aaaa({v6_1}));
    CHECK(drain(e) == seq{start_attempt{0, v6_1}});
    // The lost A answer does not stall the dial: IPv6 wins on its own.
    e.on_attempt_result(t(40), 0, {});
    CHECK(drain(e) == seq{won_by(0)});
}

TEST_CASE("§3 §5: answers after the dial is done are ignored", "[engine]") {
    dial_engine e{{}};
    e.start(t(0), both);
    e.on_answer(t(10), aaaa({v6_1}));
    CHECK(drain(e) == seq{start_attempt{0, v6_1}});
    e.on_attempt_result(t(30), 0, {});
    CHECK(drain(e) == seq{won_by(0)});
    e.on_answer(t(40), a({v4_1}));
    e.on_answer(t(50), aaaa({v6_2}));
    CHECK(drain(e).empty());
    CHECK(e.trace().answers.size() == 1);
    CHECK(e.trace().attempts.size() == 1);
}

// ---------------------------------------------------------------------------------------------
// Ordering (§4)
// ---------------------------------------------------------------------------------------------

TEST_CASE("§4: interleave 6,6,6,4,4 -> 6,4,6,4,6 with first address family count 1", "[engine]") {
    dial_engine e{{}};
    e.start_with_endpoints(t(0), {v6_1, v6_2, v6_3, v4_1, v4_2});
    CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(250)}});
    e.on_timer(t(250));
    CHECK(drain(e) == seq{start_attempt{1, v4_1}, set_timer{t(500)}});
    e.on_timer(t(500));
    CHECK(drain(e) == seq{start_attempt{2, v6_2}, set_timer{t(750)}});
    e.on_timer(t(750));
    CHECK(drain(e) == seq{start_attempt{3, v4_2}, set_timer{t(1000)}});
    e.on_timer(t(1000));
    CHECK(drain(e) == seq{start_attempt{4, v6_3}});
}

TEST_CASE("§4: interleave 6,6,6,4,4 -> 6,6,4,6,4 with first address family count 2", "[engine]") {
    engine_config c;
    c.first_address_family_count = 2;
    dial_engine e{c};
    e.start_with_endpoints(t(0), {v6_1, v6_2, v6_3, v4_1, v4_2});
    CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(250)}});
    e.on_timer(t(250));
    CHECK(drain(e) == seq{start_attempt{1, v6_2}, set_timer{t(500)}});
    e.on_timer(t(500));
    CHECK(drain(e) == seq{start_attempt{2, v4_1}, set_timer{t(750)}});
    e.on_timer(t(750));
    CHECK(drain(e) == seq{start_attempt{3, v6_3}, set_timer{t(1000)}});
    e.on_timer(t(1000));
    CHECK(drain(e) == seq{start_attempt{4, v4_2}});
}

TEST_CASE("§4: prefer_ipv4 starts with IPv4", "[engine]") {
    engine_config c;
    c.preference = family_preference::prefer_ipv4;

    SECTION("from a list") {
        dial_engine e{c};
        e.start_with_endpoints(t(0), {v6_1, v6_2, v4_1, v4_2});
        CHECK(drain(e) == seq{start_attempt{0, v4_1}, set_timer{t(250)}});
        e.on_timer(t(250));
        CHECK(drain(e) == seq{start_attempt{1, v6_1}, set_timer{t(500)}});
        e.on_timer(t(500));
        CHECK(drain(e) == seq{start_attempt{2, v4_2}, set_timer{t(750)}});
    }
    SECTION("from resolution: AAAA first waits the Resolution Delay for A") {
        dial_engine e{c};
        e.start(t(0), both);
        e.on_answer(t(5), aaaa({v6_1}));
        CHECK(drain(e) == seq{set_timer{t(55)}});
        e.on_answer(t(15), a({v4_1}));
        CHECK(drain(e) == seq{start_attempt{0, v4_1}, set_timer{t(265)}});
    }
}

TEST_CASE("§4: ipv6_only and ipv4_only exclude the other family", "[engine]") {
    SECTION("ipv6_only") {
        engine_config c;
        c.preference = family_preference::ipv6_only;
        dial_engine e{c};
        e.start_with_endpoints(t(0), {v4_1, v6_1, v4_2});
        CHECK(drain(e) == seq{start_attempt{0, v6_1}});
        e.on_attempt_result(t(30), 0, aerr::connection_refused);
        CHECK(drain(e) == seq{failed_with(aerr::connection_refused)});
        CHECK(e.trace().attempts.size() == 1);
    }
    SECTION("ipv4_only") {
        engine_config c;
        c.preference = family_preference::ipv4_only;
        dial_engine e{c};
        e.start_with_endpoints(t(0), {v6_1, v4_1, v6_2});
        CHECK(drain(e) == seq{start_attempt{0, v4_1}});
        e.on_attempt_result(t(30), 0, aerr::connection_refused);
        CHECK(drain(e) == seq{failed_with(aerr::connection_refused)});
        CHECK(e.trace().attempts.size() == 1);
    }
    SECTION("ipv4_only does not wait for the AAAA query") {
        engine_config c;
        c.preference = family_preference::ipv4_only;
        dial_engine e{c};
        e.start(t(0), both);
        e.on_answer(t(10), a({v4_1}));
        CHECK(drain(e) == seq{start_attempt{0, v4_1}});
    }
}

TEST_CASE("§4: a family policy excluding every address fails with error::family_excluded",
          "[engine]") {
    SECTION("ipv6_only over IPv4 addresses") {
        engine_config c;
        c.preference = family_preference::ipv6_only;
        dial_engine e{c};
        e.start_with_endpoints(t(0), {v4_1, v4_2});
        CHECK(drain(e) == seq{failed_with(error::family_excluded)});
    }
    SECTION("ipv4_only over resolved IPv6 addresses") {
        engine_config c;
        c.preference = family_preference::ipv4_only;
        dial_engine e{c};
        e.start(t(0), both);
        e.on_answer(t(5), aaaa({v6_1}));
        CHECK(drain(e).empty());
        e.on_answer(t(10), a({}));
        CHECK(drain(e) == seq{failed_with(error::family_excluded)});
    }
}

TEST_CASE("§4: duplicate addresses are removed", "[engine]") {
    SECTION("within one list") {
        dial_engine e{{}};
        e.start_with_endpoints(t(0), {v6_1, v6_1, v4_1, v4_1, v6_1});
        CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(250)}});
        e.on_timer(t(250));
        CHECK(drain(e) == seq{start_attempt{1, v4_1}});
        CHECK(e.trace().answers.at(0).addresses == 5);
        CHECK(e.trace().answers.at(0).accepted == 2);
    }
    SECTION("across answers") {
        dial_engine e{{}};
        e.start(t(0), both);
        e.on_answer(t(5), aaaa({v6_1}));
        CHECK(drain(e) == seq{start_attempt{0, v6_1}});
        e.on_answer(t(10), a({v4_1}));
        CHECK(drain(e) == seq{set_timer{t(255)}});
        e.on_answer(t(20), resolution_answer{std::nullopt, {v6_1, v4_1}, {}});
        CHECK(drain(e).empty());
        CHECK(e.trace().answers.at(2).accepted == 0);
        e.on_timer(t(255));
        CHECK(drain(e) == seq{start_attempt{1, v4_1}});
        e.on_attempt_result(t(300), 0, aerr::connection_refused);
        e.on_attempt_result(t(310), 1, aerr::connection_refused);
        CHECK(drain(e) == seq{failed_with(aerr::connection_refused)});
        CHECK(e.trace().attempts.size() == 2);
    }
}

TEST_CASE("§4 spec B.12: the whole list is raced (3 dead v6 + 3 v4, only v4#3 works)", "[engine]") {
    testing::engine_driver d;
    d.answer(address_family::ipv6, {v6_1, v6_2, v6_3});
    d.answer(address_family::ipv4, {v4_1, v4_2, v4_3}, 1ms);
    d.unscripted_endpoints(testing::never_answers());  // the IPv6 ones are dead
    d.endpoint(v4_1, testing::fails_after(150ms));     // refused at 400 ms
    d.endpoint(v4_2, testing::fails_after(50ms));      // refused at 700 ms
    d.endpoint(v4_3, testing::connects_after(30ms));   // connects at 980 ms
    const auto r = d.dial("example.test", "443");
    INFO(d.describe());
    CHECK(r.violations.empty());
    // Each refusal starts the next attempt at once; otherwise one start every 250 ms.
    CHECK(starts(r) == std::vector<std::pair<duration, endpoint>>{{0ms, v6_1},
                                                                  {250ms, v4_1},
                                                                  {400ms, v6_2},
                                                                  {650ms, v4_2},
                                                                  {700ms, v6_3},
                                                                  {950ms, v4_3}});
    CHECK(r.winner() == v4_3);
    CHECK(r.elapsed == 980ms);
    for (attempt_id dead : {0u, 2u, 4u}) {
        CHECK(r.trace.attempts[dead].outcome == attempt_outcome::cancelled);
    }
}

// ---------------------------------------------------------------------------------------------
// Connection attempts (§5)
// ---------------------------------------------------------------------------------------------

TEST_CASE(
    "§5 pitfall 8: attempts are staggered 250 ms apart and 3 unresponsive addresses need exactly 2 "
    "wake-ups",
    "[engine]") {
    dial_engine e{{}};
    seq all;
    auto take = [&] {
        auto s = drain(e);
        all.insert(all.end(), s.begin(), s.end());
        return s;
    };
    e.start_with_endpoints(t(0), {v6_1, v4_1, v6_2});
    CHECK(take() == seq{start_attempt{0, v6_1}, set_timer{t(250)}});
    e.on_timer(t(250));
    CHECK(take() == seq{start_attempt{1, v4_1}, set_timer{t(500)}});
    e.on_timer(t(500));
    CHECK(take() == seq{start_attempt{2, v6_2}});  // last one started: no timer left armed
    CHECK(count_set_timers(all) == 2);
    // Earlier attempts keep running: nothing was cancelled.
    for (const auto& r : e.trace().attempts) {
        CHECK(r.outcome == attempt_outcome::pending);
    }
}

TEST_CASE(
    "§5 pitfall 7: a failure starts the next attempt at once, never within 10 ms of the previous "
    "start",
    "[engine]") {
    dial_engine e{{}};
    e.start_with_endpoints(t(0), {v6_1, v4_1, v6_2});
    CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(250)}});
    // Synchronous failure at t=0: the next start waits only for the 10 ms floor.
    e.on_attempt_result(t(0), 0, aerr::network_unreachable);
    CHECK(drain(e) == seq{set_timer{t(10)}});
    e.on_timer(t(10));
    // The next delay is measured from this attempt's own start (curl #1928).
    CHECK(drain(e) == seq{start_attempt{1, v4_1}, set_timer{t(260)}});
    // A failure well after the floor starts the next attempt at that very moment.
    e.on_attempt_result(t(100), 1, aerr::connection_refused);
    CHECK(drain(e) == seq{start_attempt{2, v6_2}, cancel_timer{}});
}

TEST_CASE(
    "pitfall 7: immediate failures of one family do not keep the other family from being tried",
    "[engine]") {
    engine_config c;
    c.first_address_family_count = 2;
    dial_engine e{c};
    e.start_with_endpoints(t(0), {v6_1, v6_2, v4_1});
    CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(250)}});
    e.on_attempt_result(t(0), 0, aerr::network_unreachable);
    CHECK(drain(e) == seq{set_timer{t(10)}});
    e.on_timer(t(10));
    CHECK(drain(e) == seq{start_attempt{1, v6_2}, set_timer{t(260)}});
    e.on_attempt_result(t(10), 1, aerr::network_unreachable);
    CHECK(drain(e) == seq{set_timer{t(20)}});
    e.on_timer(t(20));
    CHECK(drain(e) == seq{start_attempt{2, v4_1}});
    e.on_attempt_result(t(45), 2, {});
    CHECK(drain(e) == seq{won_by(2)});
}

TEST_CASE("§5 pitfall 1: a slow attempt is not abandoned when the attempt delay fires",
          "[engine]") {
    dial_engine e{{}};
    e.start_with_endpoints(t(0), {v6_1, v4_1});
    CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(250)}});
    e.on_timer(t(250));
    CHECK(drain(e) == seq{start_attempt{1, v4_1}});  // no cancel_attempt{0}
    e.on_attempt_result(t(400), 0, {});
    CHECK(drain(e) == seq{cancel_attempt{1}, won_by(0)});
    CHECK(e.trace().attempts[0].outcome == attempt_outcome::won);
    CHECK(e.trace().attempts[0].ended == t(400));
    CHECK(e.trace().attempts[1].outcome == attempt_outcome::cancelled);
}

TEST_CASE("§5: an attempt delay below 10 ms is clamped to 10 ms", "[engine]") {
    const engine_config c = with_delay(1ms);
    CHECK_FALSE(validate(c));
    dial_engine e{c};
    CHECK(e.config().connection_attempt_delay == 10ms);
    e.start_with_endpoints(t(0), {v6_1, v4_1, v6_2});
    CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(10)}});
    e.on_timer(t(10));
    CHECK(drain(e) == seq{start_attempt{1, v4_1}, set_timer{t(20)}});
}

TEST_CASE("§5: an attempt delay above 2 s is clamped to 2 s", "[engine]") {
    const engine_config c = with_delay(3s);
    CHECK_FALSE(validate(c));
    dial_engine e{c};
    CHECK(e.config().connection_attempt_delay == 2s);
    e.start_with_endpoints(t(0), {v6_1, v4_1});
    CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(2000)}});
    e.on_timer(t(2000));
    CHECK(drain(e) == seq{start_attempt{1, v4_1}});
}

TEST_CASE(
    "§5: the per-attempt timeout cancels that attempt with error::attempt_timed_out and starts the "
    "next at once",
    "[engine]") {
    engine_config c;
    c.attempt_timeout = 100ms;
    dial_engine e{c};
    e.start_with_endpoints(t(0), {v6_1, v4_1});
    CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(100)}});
    e.on_timer(t(100));
    CHECK(drain(e) == seq{cancel_attempt{0}, start_attempt{1, v4_1}, set_timer{t(200)}});
    const auto& r0 = e.trace().attempts.at(0);
    CHECK(r0.outcome == attempt_outcome::timed_out);
    CHECK(r0.error == ec(error::attempt_timed_out));
    CHECK(r0.ended == t(100));
    e.on_timer(t(200));
    CHECK(drain(e) == seq{cancel_attempt{1}, failed_with(error::attempt_timed_out)});
}

TEST_CASE("§5: max_concurrent_attempts is respected, the next attempt starts when one fails",
          "[engine]") {
    engine_config c;
    c.max_concurrent_attempts = 2;
    dial_engine e{c};
    e.start_with_endpoints(t(0), {v6_1, v4_1, v6_2, v4_2});
    CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(250)}});
    e.on_timer(t(250));
    CHECK(drain(e) == seq{start_attempt{1, v4_1}});  // at the cap: no wake-up needed
    e.on_timer(t(500));                              // spurious wake-up
    CHECK(drain(e).empty());
    e.on_attempt_result(t(600), 0, aerr::connection_refused);
    CHECK(drain(e) == seq{start_attempt{2, v6_2}});
    e.on_attempt_result(t(605), 1, aerr::connection_refused);
    CHECK(drain(e) == seq{set_timer{t(610)}});  // 10 ms floor after the start at 600
    e.on_timer(t(610));
    CHECK(drain(e) == seq{start_attempt{3, v4_2}});
}

TEST_CASE("§5: max_concurrent_attempts 1 makes the race sequential", "[engine]") {
    engine_config c;
    c.max_concurrent_attempts = 1;
    dial_engine e{c};
    e.start_with_endpoints(t(0), {v6_1, v4_1});
    CHECK(drain(e) == seq{start_attempt{0, v6_1}});
    e.on_attempt_result(t(700), 0, aerr::timed_out);
    CHECK(drain(e) == seq{start_attempt{1, v4_1}});
}

// ---------------------------------------------------------------------------------------------
// First success wins (§5)
// ---------------------------------------------------------------------------------------------

TEST_CASE("§5: the first success cancels the others, drops untried addresses and leaves no timer",
          "[engine]") {
    dial_engine e{{}};
    e.start_with_endpoints(t(0), {v6_1, v4_1, v6_2, v4_2});
    CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(250)}});
    e.on_timer(t(250));
    CHECK(drain(e) == seq{start_attempt{1, v4_1}, set_timer{t(500)}});
    e.on_attempt_result(t(300), 1, {});
    CHECK(drain(e) == seq{cancel_attempt{0}, cancel_timer{}, won_by(1)});
    CHECK(e.done());
    REQUIRE(e.trace().attempts.size() == 2);
    CHECK(e.trace().attempts[0].outcome == attempt_outcome::cancelled);
    CHECK(e.trace().attempts[0].ended == t(300));
    CHECK(e.trace().attempts[1].outcome == attempt_outcome::won);
    CHECK_FALSE(e.trace().attempts[1].error);

    SECTION("nothing happens after done") {
        e.on_timer(t(500));
        e.on_attempt_result(t(510), 0, {});
        e.on_attempt_result(t(520), 1, aerr::connection_reset);
        e.on_answer(t(530), a({v4_3}));
        e.cancel(t(540), cancel_kind::terminal);
        e.cancel(t(550), cancel_kind::partial);
        CHECK(drain(e).empty());
        CHECK(e.trace().attempts.size() == 2);
        CHECK(e.trace().attempts[1].outcome == attempt_outcome::won);
    }
}

TEST_CASE("§5: a stale result for an attempt the engine already ended is ignored", "[engine]") {
    engine_config c;
    c.attempt_timeout = 100ms;
    dial_engine e{c};
    e.start_with_endpoints(t(0), {v6_1, v4_1});
    CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(100)}});
    e.on_timer(t(100));
    CHECK(drain(e) == seq{cancel_attempt{0}, start_attempt{1, v4_1}, set_timer{t(200)}});
    // The cancelled attempt reports success anyway: it must not win.
    e.on_attempt_result(t(120), 0, {});
    CHECK(drain(e).empty());
    CHECK_FALSE(e.done());
    CHECK(e.trace().attempts[0].outcome == attempt_outcome::timed_out);
    // An id never handed out is ignored too.
    e.on_attempt_result(t(130), 7, {});
    CHECK(drain(e).empty());
    e.on_attempt_result(t(150), 1, {});
    CHECK(drain(e) == seq{cancel_timer{}, won_by(1)});
}

TEST_CASE(
    "pitfall 2: several attempts connecting in the same tick give one winner, each loser cancelled "
    "once",
    "[engine]") {
    dial_engine e{with_delay(10ms)};
    e.start_with_endpoints(t(0), {v6_1, v4_1, v6_2});
    CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(10)}});
    e.on_timer(t(10));
    CHECK(drain(e) == seq{start_attempt{1, v4_1}, set_timer{t(20)}});
    e.on_timer(t(20));
    CHECK(drain(e) == seq{start_attempt{2, v6_2}});
    e.on_attempt_result(t(50), 1, {});
    e.on_attempt_result(t(50), 0, {});
    e.on_attempt_result(t(50), 2, {});
    CHECK(drain(e) == seq{cancel_attempt{0}, cancel_attempt{2}, won_by(1)});
}

TEST_CASE("pitfall 3: a completion arriving after a terminal cancel is ignored", "[engine]") {
    dial_engine e{{}};
    e.start_with_endpoints(t(0), {v6_1, v4_1});
    CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(250)}});
    e.cancel(t(100), cancel_kind::terminal);
    CHECK(drain(e) == seq{cancel_attempt{0}, cancel_timer{}, aborted()});
    e.on_attempt_result(t(101), 0, {});
    e.on_attempt_result(t(102), 0, aerr::operation_aborted);
    CHECK(drain(e).empty());
    CHECK(e.trace().attempts.at(0).outcome == attempt_outcome::cancelled);
}

// ---------------------------------------------------------------------------------------------
// Overall deadline
// ---------------------------------------------------------------------------------------------

TEST_CASE(
    "pitfall 4: the overall deadline ends the dial with error::timed_out and cancels running "
    "attempts",
    "[engine]") {
    engine_config c;
    c.overall_timeout = 1000ms;
    dial_engine e{c};
    e.start_with_endpoints(t(0), {v6_1, v4_1});
    CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(250)}});
    e.on_timer(t(250));
    CHECK(drain(e) == seq{start_attempt{1, v4_1}, set_timer{t(1000)}});
    e.on_timer(t(1000));
    CHECK(drain(e) == seq{cancel_attempt{0}, cancel_attempt{1}, failed_with(error::timed_out)});
    // One trace entry per started attempt, each with a well-defined outcome.
    REQUIRE(e.trace().attempts.size() == 2);
    for (const auto& r : e.trace().attempts) {
        CHECK(r.outcome == attempt_outcome::cancelled);
        CHECK(r.ended == t(1000));
    }
}

TEST_CASE(
    "spec figure 8: the overall deadline during resolution ends the dial with error::timed_out",
    "[engine]") {
    engine_config c;
    c.overall_timeout = 500ms;
    dial_engine e{c};
    e.start(t(0), both);
    CHECK(drain(e) == seq{set_timer{t(500)}});
    e.on_timer(t(500));
    CHECK(drain(e) == seq{failed_with(error::timed_out)});
    CHECK(e.trace().attempts.empty());
}

TEST_CASE(
    "pitfall 6: deadline 200 ms with attempt delay 300 ms still attempts IPv4 before the deadline",
    "[engine]") {
    engine_config c = with_delay(300ms);
    c.overall_timeout = 200ms;

    SECTION("from a list") {
        dial_engine e{c};
        e.start_with_endpoints(t(0), {v6_1, v4_1});
        CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(100)}});
        e.on_timer(t(100));
        CHECK(drain(e) == seq{start_attempt{1, v4_1}, set_timer{t(200)}});
        e.on_attempt_result(t(150), 1, {});
        CHECK(drain(e) == seq{cancel_attempt{0}, cancel_timer{}, won_by(1)});
    }
    SECTION("from resolution, A first") {
        dial_engine e{c};
        e.start(t(0), both);
        CHECK(drain(e) == seq{set_timer{t(200)}});
        e.on_answer(t(0), a({v4_1}));
        CHECK(drain(e) == seq{set_timer{t(50)}});
        e.on_answer(t(10), aaaa({v6_1}));
        // 190 ms left for two addresses: the next one starts 95 ms later.
        CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(105)}});
        e.on_timer(t(105));
        CHECK(drain(e) == seq{start_attempt{1, v4_1}, set_timer{t(200)}});
    }
    SECTION("from resolution, AAAA first and A a moment later (issue 11)") {
        dial_engine e{c};
        e.start(t(0), both);
        CHECK(drain(e) == seq{set_timer{t(200)}});
        e.on_answer(t(0), aaaa({v6_1}));
        // Alone, the next start would be 300 ms away, past the deadline: nothing is planned.
        CHECK(drain(e) == seq{start_attempt{0, v6_1}});
        e.on_answer(t(5), a({v4_1}));
        // Planned again as for the list: IPv4 starts at 100 ms, as documented.
        CHECK(drain(e) == seq{set_timer{t(100)}});
        e.on_timer(t(100));
        CHECK(drain(e) == seq{start_attempt{1, v4_1}, set_timer{t(200)}});
    }
}

TEST_CASE("deadline: addresses that arrive after the first attempt are all tried before it",
          "[engine]") {
    // 1 s deadline, 2 s attempt delay; one IPv6 address, then three IPv4 ones 5 ms later. Before
    // issue 11 only the IPv6 address was ever tried.
    engine_config c = with_delay(2s);
    c.overall_timeout = 1s;
    dial_engine e{c};
    e.start(t(0), both);
    drain(e);
    e.on_answer(t(0), aaaa({v6_1}));
    CHECK(drain(e) == seq{start_attempt{0, v6_1}});
    e.on_answer(t(5), a({v4_1, v4_2, v4_3}));
    CHECK(drain(e) == seq{set_timer{t(250)}});  // 1000 ms shared by 4 starts
    e.on_timer(t(250));
    CHECK(drain(e) == seq{start_attempt{1, v4_1}, set_timer{t(500)}});
    e.on_timer(t(500));
    CHECK(drain(e) == seq{start_attempt{2, v4_2}, set_timer{t(750)}});
    e.on_timer(t(750));
    CHECK(drain(e) == seq{start_attempt{3, v4_3}, set_timer{t(1000)}});

    SECTION("a start planned in the past happens at once, 10 ms floor permitting") {
        dial_engine late{c};
        late.start(t(0), both);
        drain(late);
        late.on_answer(t(0), aaaa({v6_1}));
        drain(late);
        // Planned from the start at 0 ms, the next start (500 ms) is already due at 600 ms.
        late.on_answer(t(600), a({v4_1}));
        CHECK(drain(late) == seq{start_attempt{1, v4_1}});  // the deadline's wake-up stays
    }
    SECTION("without a deadline a late answer keeps the Connection Attempt Delay") {
        dial_engine plain{with_delay(300ms)};
        plain.start(t(0), both);
        drain(plain);
        plain.on_answer(t(0), aaaa({v6_1}));
        drain(plain);
        plain.on_answer(t(5), a({v4_1}));
        CHECK(drain(plain) == seq{set_timer{t(300)}});
    }
}

TEST_CASE(
    "pitfall 6: 7 dead v6 + 1 good v4 with a 2 s deadline -> v4 attempted well before the deadline",
    "[engine]") {
    std::vector<endpoint> list;
    for (int i = 1; i <= 7; ++i) {
        list.push_back(ep("2001:db8::" + std::to_string(i)));
    }
    list.push_back(v4_1);

    SECTION("default interleaving: v4 is the second attempt") {
        engine_config c;
        c.overall_timeout = 2s;
        dial_engine e{c};
        e.start_with_endpoints(t(0), list);
        CHECK(drain(e) == seq{start_attempt{0, list[0]}, set_timer{t(250)}});
        e.on_timer(t(250));
        CHECK(drain(e) == seq{start_attempt{1, v4_1}, set_timer{t(500)}});
        e.on_attempt_result(t(300), 1, {});
        CHECK(drain(e) == seq{cancel_attempt{0}, cancel_timer{}, won_by(1)});
    }
    SECTION("all v6 first (count 7), delay 300 ms: delays shrink to 250 ms so v4 starts at 1750") {
        engine_config c = with_delay(300ms);
        c.overall_timeout = 2s;
        c.first_address_family_count = 7;
        testing::engine_driver d{c};
        d.unscripted_endpoints(testing::never_answers());  // the IPv6 ones are dead
        d.endpoint(v4_1, testing::connects_after(50ms));
        const auto r = d.dial_endpoints(list);
        INFO(d.describe());
        CHECK(r.violations.empty());
        std::vector<std::pair<duration, endpoint>> expected;
        for (std::size_t i = 0; i < list.size(); ++i) {
            expected.emplace_back(250ms * static_cast<int>(i), list[i]);
        }
        CHECK(starts(r) == expected);  // v4 at 1750 ms
        CHECK(r.winner() == v4_1);
        CHECK(r.elapsed == 1800ms);
    }
}

// ---------------------------------------------------------------------------------------------
// All attempts failed
// ---------------------------------------------------------------------------------------------

TEST_CASE(
    "spec F.29: when all attempts fail the primary error is the error of the first attempt started",
    "[engine]") {
    dial_engine e{{}};
    e.start_with_endpoints(t(0), {v6_1, v4_1, v6_2});
    CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(250)}});
    e.on_timer(t(250));
    CHECK(drain(e) == seq{start_attempt{1, v4_1}, set_timer{t(500)}});
    e.on_timer(t(500));
    CHECK(drain(e) == seq{start_attempt{2, v6_2}});
    // They fail in reverse order: the primary error still is attempt 0's.
    e.on_attempt_result(t(510), 2, aerr::connection_refused);
    e.on_attempt_result(t(520), 1, aerr::timed_out);
    CHECK(drain(e).empty());
    e.on_attempt_result(t(530), 0, aerr::network_unreachable);
    CHECK(drain(e) == seq{failed_with(aerr::network_unreachable)});

    // pitfall 5: every attempt record is kept.
    const auto& at = e.trace().attempts;
    REQUIRE(at.size() == 3);
    CHECK(at[0].id == 0);
    CHECK(at[0].target == v6_1);
    CHECK(at[0].started == t(0));
    CHECK(at[0].ended == t(530));
    CHECK(at[0].outcome == attempt_outcome::failed);
    CHECK(at[0].error == error_code{aerr::network_unreachable});
    CHECK(at[1].id == 1);
    CHECK(at[1].target == v4_1);
    CHECK(at[1].started == t(250));
    CHECK(at[1].ended == t(520));
    CHECK(at[1].outcome == attempt_outcome::failed);
    CHECK(at[1].error == error_code{aerr::timed_out});
    CHECK(at[2].id == 2);
    CHECK(at[2].target == v6_2);
    CHECK(at[2].started == t(500));
    CHECK(at[2].ended == t(510));
    CHECK(at[2].outcome == attempt_outcome::failed);
    CHECK(at[2].error == error_code{aerr::connection_refused});
}

TEST_CASE(
    "pitfall 5: v6 ENETUNREACH + v4 ETIMEDOUT gives the first attempt's (v6) error whatever the "
    "completion order",
    "[engine]") {
    dial_engine e{{}};
    e.start_with_endpoints(t(0), {v6_1, v4_1});
    CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(250)}});

    SECTION("v6 fails first") {
        e.on_attempt_result(t(100), 0, aerr::network_unreachable);
        CHECK(drain(e) == seq{start_attempt{1, v4_1}, cancel_timer{}});
        e.on_attempt_result(t(400), 1, aerr::timed_out);
        CHECK(drain(e) == seq{failed_with(aerr::network_unreachable)});
    }
    SECTION("v4 fails first") {
        e.on_timer(t(250));
        CHECK(drain(e) == seq{start_attempt{1, v4_1}});
        e.on_attempt_result(t(300), 1, aerr::timed_out);
        CHECK(drain(e).empty());
        e.on_attempt_result(t(400), 0, aerr::network_unreachable);
        CHECK(drain(e) == seq{failed_with(aerr::network_unreachable)});
    }
    REQUIRE(e.trace().attempts.size() == 2);
    CHECK(e.trace().attempts[0].error == error_code{aerr::network_unreachable});
    CHECK(e.trace().attempts[1].error == error_code{aerr::timed_out});
}

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

TEST_CASE("§5 §8: validate() rejects each bad option with its specific error", "[engine]") {
    CHECK_FALSE(validate(engine_config{}));

    engine_config c;
    SECTION("negative attempt delay") {
        c.connection_attempt_delay = -1ms;
        CHECK(validate(c) == ec(error::invalid_delay));
    }
    SECTION("zero attempt delay") {
        c.connection_attempt_delay = 0ms;
        CHECK(validate(c) == ec(error::invalid_delay));
    }
    SECTION("huge attempt delay") {
        c.connection_attempt_delay = std::chrono::hours(25);
        CHECK(validate(c) == ec(error::invalid_delay));
    }
    SECTION("negative resolution delay") {
        c.resolution_delay = -1ms;
        CHECK(validate(c) == ec(error::invalid_delay));
    }
    SECTION("zero resolution delay is fine") {
        c.resolution_delay = 0ms;
        CHECK_FALSE(validate(c));
    }
    SECTION("zero overall timeout") {
        c.overall_timeout = 0ms;
        CHECK(validate(c) == ec(error::invalid_timeout));
    }
    SECTION("negative overall timeout") {
        c.overall_timeout = -5s;
        CHECK(validate(c) == ec(error::invalid_timeout));
    }
    SECTION("huge overall timeout") {
        c.overall_timeout = std::chrono::hours(25);
        CHECK(validate(c) == ec(error::invalid_timeout));
    }
    SECTION("zero attempt timeout") {
        c.attempt_timeout = 0ms;
        CHECK(validate(c) == ec(error::invalid_timeout));
    }
    SECTION("negative attempt timeout") {
        c.attempt_timeout = -1ms;
        CHECK(validate(c) == ec(error::invalid_timeout));
    }
    SECTION("huge attempt timeout") {
        c.attempt_timeout = std::chrono::hours(25);
        CHECK(validate(c) == ec(error::invalid_timeout));
    }
    SECTION("first address family count 0") {
        c.first_address_family_count = 0;
        CHECK(validate(c) == ec(error::invalid_family_count));
    }
}

TEST_CASE("pitfall 10: non-IP-ish endpoints are skipped", "[engine]") {
    const std::vector<endpoint> odd = {ep("0.0.0.0"),
                                       ep("::"),
                                       ep("224.0.0.1"),
                                       ep("ff02::1"),
                                       ep("255.255.255.255"),
                                       ep("192.0.2.9", 0),
                                       ep("2001:db8::9", 0)};
    SECTION("a list of only those fails with error::invalid_endpoint") {
        dial_engine e{{}};
        e.start_with_endpoints(t(0), odd);
        CHECK(drain(e) == seq{failed_with(error::invalid_endpoint)});
        CHECK(e.trace().attempts.empty());
        CHECK(e.trace().answers.at(0).accepted == 0);
    }
    SECTION("mixed with good ones, only the good ones are attempted") {
        auto list = odd;
        list.insert(list.begin() + 3, v4_1);
        list.push_back(v6_1);
        dial_engine e{{}};
        e.start_with_endpoints(t(0), list);
        CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(250)}});
        e.on_timer(t(250));
        CHECK(drain(e) == seq{start_attempt{1, v4_1}});
        CHECK(e.trace().answers.at(0).accepted == 2);
    }
    SECTION("resolved answers of only those fail with error::invalid_endpoint") {
        dial_engine e{{}};
        e.start(t(0), both);
        e.on_answer(t(5), aaaa({ep("::"), ep("ff02::1")}));
        e.on_answer(t(6), a({ep("0.0.0.0"), ep("255.255.255.255")}));
        CHECK(drain(e) == seq{failed_with(error::invalid_endpoint)});
    }
}

TEST_CASE(
    "SSRF guard: an endpoint_filter refusing every endpoint fails with "
    "error::all_endpoints_filtered",
    "[engine]") {
    engine_config c;
    int calls = 0;
    c.endpoint_filter = [&calls](const endpoint&) {
        ++calls;
        return false;
    };
    dial_engine e{c};
    e.start_with_endpoints(t(0), {v6_1, v4_1});
    CHECK(drain(e) == seq{failed_with(error::all_endpoints_filtered)});
    CHECK(calls == 2);
    CHECK(e.trace().attempts.empty());
}

TEST_CASE("SSRF guard: an endpoint_filter that throws refuses the endpoint", "[engine]") {
    engine_config c;
    c.endpoint_filter = [](const endpoint& x) {
        if (x.address().is_v6()) {
            throw std::runtime_error("no IPv6 here");
        }
        return true;
    };
    SECTION("the other endpoints are still attempted") {
        dial_engine e{c};
        e.start_with_endpoints(t(0), {v6_1, v4_1});
        CHECK(drain(e) == seq{start_attempt{0, v4_1}});
    }
    SECTION("throwing for every endpoint fails with error::all_endpoints_filtered") {
        dial_engine e{c};
        e.start_with_endpoints(t(0), {v6_1, v6_2});
        CHECK(drain(e) == seq{failed_with(error::all_endpoints_filtered)});
    }
}

TEST_CASE("spec F.29: start_with_endpoints with an empty list fails with error::no_endpoints",
          "[engine]") {
    dial_engine e{{}};
    e.start_with_endpoints(t(0), {});
    CHECK(drain(e) == seq{failed_with(error::no_endpoints)});
    CHECK(e.done());
}

// ---------------------------------------------------------------------------------------------
// Cancellation
// ---------------------------------------------------------------------------------------------

TEST_CASE("spec F.30: terminal cancel during resolution completes with operation_aborted",
          "[engine]") {
    SECTION("nothing answered yet") {
        dial_engine e{{}};
        e.start(t(0), both);
        CHECK(drain(e).empty());
        e.cancel(t(5), cancel_kind::terminal);
        CHECK(drain(e) == seq{aborted()});
        CHECK(e.done());
    }
    SECTION("while the Resolution Delay runs") {
        dial_engine e{{}};
        e.start(t(0), both);
        e.on_answer(t(0), a({v4_1}));
        CHECK(drain(e) == seq{set_timer{t(50)}});
        e.cancel(t(20), cancel_kind::terminal);
        CHECK(drain(e) == seq{cancel_timer{}, aborted()});
        e.on_timer(t(50));
        e.on_answer(t(60), aaaa({v6_1}));
        CHECK(drain(e).empty());
        CHECK(e.trace().attempts.empty());
    }
}

TEST_CASE(
    "spec F.30: terminal cancel during attempts cancels each running attempt and completes with "
    "operation_aborted",
    "[engine]") {
    dial_engine e{{}};
    e.start_with_endpoints(t(0), {v6_1, v4_1, v6_2});
    CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(250)}});
    e.on_timer(t(250));
    CHECK(drain(e) == seq{start_attempt{1, v4_1}, set_timer{t(500)}});
    e.cancel(t(300), cancel_kind::terminal);
    CHECK(drain(e) == seq{cancel_attempt{0}, cancel_attempt{1}, cancel_timer{}, aborted()});
    REQUIRE(e.trace().attempts.size() == 2);
    for (const auto& r : e.trace().attempts) {
        CHECK(r.outcome == attempt_outcome::cancelled);
        CHECK(r.ended == t(300));
    }
}

TEST_CASE(
    "spec F.30: partial cancel with running attempts starts nothing new and a running one may "
    "still win",
    "[engine]") {
    dial_engine e{{}};
    e.start_with_endpoints(t(0), {v6_1, v4_1, v6_2});
    CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(250)}});
    e.on_timer(t(250));
    CHECK(drain(e) == seq{start_attempt{1, v4_1}, set_timer{t(500)}});
    e.cancel(t(300), cancel_kind::partial);
    CHECK(drain(e) == seq{cancel_timer{}});
    CHECK_FALSE(e.done());
    e.on_timer(t(500));  // a stray wake-up starts nothing
    CHECK(drain(e).empty());
    e.on_attempt_result(t(550), 1, {});
    CHECK(drain(e) == seq{cancel_attempt{0}, won_by(1)});
    CHECK(e.trace().attempts.size() == 2);
}

TEST_CASE(
    "spec F.30: partial cancel with every running attempt failing completes with operation_aborted",
    "[engine]") {
    dial_engine e{{}};
    e.start(t(0), both);
    e.on_answer(t(0), aaaa({v6_1}));
    CHECK(drain(e) == seq{start_attempt{0, v6_1}});
    e.on_answer(t(5), a({v4_1}));
    CHECK(drain(e) == seq{set_timer{t(250)}});
    e.on_timer(t(250));
    CHECK(drain(e) == seq{start_attempt{1, v4_1}});
    e.cancel(t(300), cancel_kind::partial);
    CHECK(drain(e).empty());
    // A late answer does not restart the race.
    e.on_answer(t(310), resolution_answer{std::nullopt, {v6_2}, {}});
    CHECK(drain(e).empty());
    e.on_attempt_result(t(400), 0, aerr::connection_refused);
    CHECK(drain(e).empty());
    e.on_attempt_result(t(450), 1, aerr::connection_refused);
    CHECK(drain(e) == seq{aborted()});
    CHECK(e.trace().attempts.size() == 2);
}

TEST_CASE(
    "spec F.30: partial cancel during resolution with nothing running completes with "
    "operation_aborted at "
    "once",
    "[engine]") {
    SECTION("nothing answered yet") {
        dial_engine e{{}};
        e.start(t(0), both);
        e.cancel(t(5), cancel_kind::partial);
        CHECK(drain(e) == seq{aborted()});
    }
    SECTION("while the Resolution Delay runs") {
        dial_engine e{{}};
        e.start(t(0), both);
        e.on_answer(t(0), a({v4_1}));
        CHECK(drain(e) == seq{set_timer{t(50)}});
        e.cancel(t(10), cancel_kind::partial);
        CHECK(drain(e) == seq{cancel_timer{}, aborted()});
        CHECK(e.trace().attempts.empty());
    }
}

TEST_CASE("v3 draft §4: a withdrawn hint is skipped and a failure moves on past it", "[engine]") {
    dial_engine e{{}};
    e.start(t(0), both);
    e.on_answer(t(0), resolution_answer{std::nullopt, {v6_1, v6_2}, {}});  // hints
    CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(250)}});
    e.on_answer(t(10), aaaa({v6_3}));
    const std::vector withdrawn{v6_1, v6_2};  // v6_1 already runs: not affected
    e.withdraw(t(10), withdrawn);
    CHECK(drain(e).empty());
    e.on_answer(t(10), a({}));
    drain(e);
    e.on_attempt_result(t(20), 0, boost::asio::error::connection_refused);
    // v6_2 came up first and was skipped; nothing is left to wait for.
    CHECK(drain(e) == seq{start_attempt{1, v6_3}, cancel_timer{}});
    const auto fate_of = [&](const endpoint& x) {
        for (const auto& r : e.trace().endpoints) {
            if (r.target == x) {
                return r.fate;
            }
        }
        return endpoint_fate::queued;
    };
    CHECK(fate_of(v6_2) == endpoint_fate::withdrawn);
    e.on_attempt_result(t(30), 1, {});
    drain(e);
    CHECK(fate_of(v6_1) == endpoint_fate::attempted);
    CHECK(fate_of(v6_2) == endpoint_fate::withdrawn);
}

TEST_CASE("v3 draft §4: every address of a service group is tried before the next group",
          "[engine][https]") {
    dial_engine e{{}};
    e.start(t(0), both);
    // Service group 0 holds v6_1, v6_2 and v4_1; group 1 holds v4_2 and v6_3. The answers list
    // group 1's addresses first within each family (in the resolver's order v4_2 would start
    // second); the engine starts group 0 first, interleaved, then group 1.
    resolution_answer six = aaaa({v6_1, v6_3, v6_2});
    six.groups = {0, 1, 0};
    resolution_answer four = a({v4_2, v4_1});
    four.groups = {1, 0};
    e.on_answer(t(0), six);
    e.on_answer(t(0), four);
    std::vector<endpoint> started;
    for (int ms = 0; ms <= 1000; ms += 250) {
        e.on_timer(t(ms));
        for (const auto& action : drain(e)) {
            if (const auto* s = std::get_if<start_attempt>(&action)) {
                started.push_back(s->target);
            }
        }
    }
    CHECK(started == std::vector{v6_1, v4_1, v6_2, v4_2, v6_3});
    // Groups of the wrong length are ignored: the answer counts as one group.
    dial_engine plain{{}};
    plain.start(t(0), both);
    resolution_answer odd = aaaa({v6_2, v6_1});
    odd.groups = {1};
    plain.on_answer(t(0), odd);
    CHECK(drain(plain).front() == action{start_attempt{0, v6_2}});
}

TEST_CASE("v3 draft §4: the dial waits for an expected source before it gives up",
          "[engine][https]") {
    dial_engine e{{}};
    e.start(t(0), both);
    e.expect_source();  // an HTTPS service's target name is being looked up
    e.on_answer(t(0), aaaa({}));
    e.on_answer(t(0), a({}));
    CHECK(drain(e).empty());  // NODATA for the origin, but the target's answer is due
    e.on_answer(t(30), resolution_answer{std::nullopt, {v6_2}, {}});
    CHECK(drain(e) == seq{start_attempt{0, v6_2}});
    e.settle_source(t(30));
    drain(e);
    e.on_attempt_result(t(40), 0, boost::asio::error::connection_refused);
    const auto ended = drain(e);
    REQUIRE_FALSE(ended.empty());
    CHECK(std::holds_alternative<dial_done>(ended.back()));
    // A source that settles with nothing ends the dial at once.
    dial_engine empty{{}};
    empty.start(t(0), both);
    empty.expect_source();
    empty.on_answer(t(0), aaaa({}));
    empty.on_answer(t(0), a({}));
    CHECK(drain(empty).empty());
    empty.settle_source(t(5));
    const auto done = drain(empty);
    REQUIRE_FALSE(done.empty());
    CHECK(std::holds_alternative<dial_done>(done.back()));
}
