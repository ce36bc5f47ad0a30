// dial_history and the history rules of the engine, with a fake clock: RFC 6298 RTT samples,
// the attempt delay they give, penalties and their expiry, exploring, partitions, bounds, and
// RFC 6724 destination order across families.
#include "catch.hpp"
#include "unit/engine_harness.hpp"

#include <happy_dial/core/destination_order.hpp>
#include <happy_dial/core/target.hpp>
#include <happy_dial/error.hpp>
#include <happy_dial/history.hpp>

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

using namespace happy_dial;
using namespace happy_dial::test;
using namespace happy_dial::core;
using boost::asio::ip::make_address;

namespace {

using seq = std::vector<action>;

const endpoint v6_1 = ep("2001:db8::1");
const endpoint v6_2 = ep("2001:db8::2");
const endpoint v6_3 = ep("2001:db8::3");
const endpoint v6_4 = ep("2001:db8::4");
const endpoint v4_1 = ep("192.0.2.1");

const history_key key{"", "example.test", 443};

history_settings no_probe() {
    history_settings s;
    s.probe_routes = false;
    s.explore_one_in = 0;
    return s;
}

attempt_record attempt(attempt_id id,
                       const endpoint& target,
                       long long started,
                       long long ended,
                       attempt_outcome outcome,
                       error_code ec = {}) {
    return attempt_record{id, target, t(started), t(ended), outcome, ec};
}

// A dial at t(at) where `winner` connected after `rtt_ms` and `losers` were still pending.
dial_trace won_by(const endpoint& winner, long long rtt_ms, std::vector<endpoint> losers = {}) {
    dial_trace trace;
    trace.started = t(0);
    attempt_id id = 0;
    for (const auto& l : losers) {
        trace.attempts.push_back(attempt(
            id++, l, 0, rtt_ms, attempt_outcome::cancelled, boost::asio::error::operation_aborted));
    }
    trace.attempts.push_back(attempt(id, winner, 0, rtt_ms, attempt_outcome::won));
    return trace;
}

address_hint hint_for(const boost::asio::ip::address& a) {
    address_hint h;
    h.address = a;
    return h;
}

const address_hint* find_hint(const dial_hints& h, const endpoint& e) {
    for (const auto& x : h.addresses) {
        if (x.address == e.address()) {
            return &x;
        }
    }
    return nullptr;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The attempt delay from RTT (RFC 6298 shape, RFC 8305 §5 bounds)

TEST_CASE("history: SRTT 40 / RTTVAR 5 gives the 100 ms floor", "[history]") {
    CHECK(attempt_delay_from_rtt(40ms, 5ms, 100ms) == 100ms);
}

TEST_CASE("history: SRTT 400 / RTTVAR 5 gives 420 ms", "[history]") {
    CHECK(attempt_delay_from_rtt(400ms, 5ms, 100ms) == 420ms);
}

TEST_CASE("history: the floor is configurable down to RFC 8305's 10 ms, the ceiling is 2 s",
          "[history]") {
    CHECK(attempt_delay_from_rtt(40ms, 5ms, 10ms) == 60ms);
    CHECK(attempt_delay_from_rtt(1ms, 0ms, 1ms) == 10ms);
    CHECK(attempt_delay_from_rtt(3s, 1s, 100ms) == 2s);
}

TEST_CASE("history: no sample leaves the configured 250 ms delay", "[history]") {
    dial_history h(no_probe());
    const auto hints = h.hints(t(0), key);
    CHECK(hints.addresses.empty());
    dial_engine e{{}};
    e.set_hints(hints);
    e.start_with_endpoints(t(0), {v6_1, v4_1});
    CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(250)}});
    CHECK(e.trace().attempts[0].delay == 250ms);
    CHECK(e.trace().attempts[0].delay_from == delay_source::configured);
}

TEST_CASE("history: RFC 6298 samples: first R, R/2, then alpha 1/8, beta 1/4", "[history]") {
    dial_history h(no_probe());
    h.record(t(0), key, won_by(v6_1, 80), {});
    auto entry = h.find(key, v6_1.address());
    REQUIRE(entry);
    CHECK(entry->outcome == address_outcome::connected);
    CHECK(*entry->srtt == 80ms);
    CHECK(*entry->rttvar == 40ms);
    h.record(t(1000), key, won_by(v6_1, 40), {});
    entry = h.find(key, v6_1.address());
    // RTTVAR = 3/4 * 40 + 1/4 * |80 - 40| = 40; SRTT = 7/8 * 80 + 1/8 * 40 = 75.
    CHECK(*entry->rttvar == 40ms);
    CHECK(*entry->srtt == 75ms);
    // The next dial waits SRTT + 4 RTTVAR = 235 ms after starting it.
    const auto hints = h.hints(t(2000), key);
    REQUIRE(find_hint(hints, v6_1));
    CHECK(*find_hint(hints, v6_1)->attempt_delay == 235ms);
    dial_engine e{{}};
    e.set_hints(hints);
    e.start_with_endpoints(t(2000), {v6_1, v4_1});
    CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(2235)}});
    CHECK(e.trace().attempts[0].delay_from == delay_source::history);
}

TEST_CASE("history: a deadline still shortens a history delay", "[history]") {
    dial_history h(no_probe());
    h.record(t(0), key, won_by(v6_1, 400), {});  // delay 400 + 4 * 200 = 1,200 ms
    engine_config c;
    c.overall_timeout = 600ms;
    dial_engine e{c};
    e.set_hints(h.hints(t(10), key));
    e.start_with_endpoints(t(10), {v6_1, v4_1});
    CHECK(drain(e) == seq{start_attempt{0, v6_1}, set_timer{t(310)}});
    CHECK(e.trace().attempts[0].delay_from == delay_source::deadline);
}

// ---------------------------------------------------------------------------------------------
// What is recorded

TEST_CASE("history: losers still pending are 'slow', failures by kind, caller cancel nothing",
          "[history]") {
    dial_history h(no_probe());
    dial_trace trace = won_by(v4_1, 5, {v6_1});
    trace.attempts.insert(
        trace.attempts.begin(),
        attempt(0, v6_2, 0, 1, attempt_outcome::failed, boost::asio::error::connection_refused));
    trace.attempts.insert(
        trace.attempts.begin(),
        attempt(0, v6_3, 0, 1, attempt_outcome::failed, boost::asio::error::network_unreachable));
    CHECK(h.record(t(0), key, trace, {}) == 4);
    CHECK(h.find(key, v6_1.address())->outcome == address_outcome::slow);
    CHECK(h.find(key, v6_2.address())->outcome == address_outcome::refused);
    CHECK(h.find(key, v6_3.address())->outcome == address_outcome::unreachable);
    CHECK(h.find(key, v4_1.address())->outcome == address_outcome::connected);
    CHECK(h.last_winning_family(key, t(1)) == address_family::ipv4);
    CHECK(h.last_winner(key, t(1)) == v4_1.address());

    dial_trace timed_out;
    timed_out.attempts.push_back(attempt(
        0, v6_4, 0, 600, attempt_outcome::cancelled, boost::asio::error::operation_aborted));
    CHECK(h.record(t(0), key, timed_out, make_error_code(error::timed_out)) == 1);
    CHECK(h.find(key, v6_4.address())->outcome == address_outcome::timed_out);

    dial_history fresh(no_probe());
    CHECK(fresh.record(t(0), key, timed_out, boost::asio::error::operation_aborted) == 0);
    CHECK_FALSE(fresh.find(key, v6_4.address()));
}

// ---------------------------------------------------------------------------------------------
// Penalties

TEST_CASE("history: a penalised address sorts last, then comes back after its penalty",
          "[history]") {
    dial_history h(no_probe());
    h.record(t(0), key, won_by(v4_1, 5, {v6_1}), {});  // IPv6 was black-holed: slow
    {
        const auto hints = h.hints(t(1000), key);
        REQUIRE(find_hint(hints, v6_1));
        CHECK(find_hint(hints, v6_1)->penalised);
        dial_engine e{{}};
        e.set_hints(hints);
        e.start(t(1000), {address_family::ipv6, address_family::ipv4});
        CHECK(e.first_family() == address_family::ipv4);
        // A first: IPv4 starts at once, no Resolution Delay waiting for AAAA.
        e.on_answer(t(1001), a({v4_1}));
        CHECK(drain(e) == seq{start_attempt{0, v4_1}});
        CHECK(e.trace().attempts[0].delay == 100ms);  // 5 + 4 * 2.5 ms, floored at 100 ms
    }
    {
        // 60 s later the penalty is over: RFC 6724 puts IPv6 first again.
        const auto hints = h.hints(t(60'001), key);
        CHECK_FALSE(find_hint(hints, v6_1)->penalised);
        dial_engine e{{}};
        e.set_hints(hints);
        e.start_with_endpoints(t(60'001), {v6_1, v4_1});
        CHECK(drain(e).front() == action{start_attempt{0, v6_1}});
    }
}

TEST_CASE("history: penalties double from 60 s up to 1 h, a success resets them", "[history]") {
    dial_history h(no_probe());
    dial_trace refused;
    refused.attempts.push_back(
        attempt(0, v6_1, 0, 1, attempt_outcome::failed, boost::asio::error::connection_refused));
    h.record(t(0), key, refused, boost::asio::error::connection_refused);
    CHECK(h.find(key, v6_1.address())->penalised_until == t(60'000));
    h.record(t(0), key, refused, boost::asio::error::connection_refused);
    CHECK(h.find(key, v6_1.address())->penalised_until == t(120'000));
    for (int i = 0; i < 10; ++i) {
        h.record(t(0), key, refused, boost::asio::error::connection_refused);
    }
    CHECK(h.find(key, v6_1.address())->failures == 12);
    CHECK(h.find(key, v6_1.address())->penalised_until == t(3'600'000));
    h.record(t(0), key, won_by(v6_1, 10), {});
    CHECK(h.find(key, v6_1.address())->failures == 0);
    CHECK_FALSE(find_hint(h.hints(t(1), key), v6_1)->penalised);
}

TEST_CASE("history: three dead IPv6 addresses ahead of a working one: the winner goes first",
          "[history]") {
    dial_history h(no_probe());
    h.record(t(0), key, won_by(v6_4, 2, {v6_1, v6_2, v6_3}), {});
    dial_engine e{{}};
    e.set_hints(h.hints(t(1000), key));
    e.start(t(1000), {address_family::ipv6, address_family::ipv4});
    e.on_answer(t(1001), aaaa({v6_1, v6_2, v6_3, v6_4}));
    const auto actions = drain(e);
    REQUIRE_FALSE(actions.empty());
    CHECK(actions.front() == action{start_attempt{0, v6_4}});
}

TEST_CASE("history: successes expire after 10 minutes", "[history]") {
    dial_history h(no_probe());
    h.record(t(0), key, won_by(v6_1, 80), {});
    CHECK(find_hint(h.hints(t(599'999), key), v6_1)->used_before);
    const auto later = h.hints(t(600'000), key);
    CHECK_FALSE(find_hint(later, v6_1)->used_before);
    CHECK_FALSE(find_hint(later, v6_1)->attempt_delay);
    CHECK_FALSE(h.last_winning_family(key, t(600'000)));
}

// ---------------------------------------------------------------------------------------------
// Convergence, partitions, bounds, invalidation

TEST_CASE("history: one dial in explore_one_in ignores the history", "[history]") {
    auto s = no_probe();
    s.explore_one_in = 4;
    dial_history h(s);
    h.record(t(0), key, won_by(v4_1, 5, {v6_1}), {});
    int explored = 0;
    for (int i = 1; i <= 32; ++i) {
        history_use use;
        const auto hints = h.hints(t(i), key, &use);
        if (use.explored) {
            ++explored;
            CHECK(i % 4 == 0);
            CHECK_FALSE(find_hint(hints, v6_1)->penalised);
            CHECK(use.hints == 0);
        } else {
            CHECK(find_hint(hints, v6_1)->penalised);
            CHECK(use.penalised == 1);
        }
    }
    CHECK(explored == 8);
}

TEST_CASE("history: partitions are isolated", "[history]") {
    dial_history h(no_probe());
    h.record(t(0), history_key{"alice", "example.test", 443}, won_by(v4_1, 5, {v6_1}), {});
    CHECK(find_hint(h.hints(t(1), history_key{"alice", "example.test", 443}), v6_1));
    CHECK(h.hints(t(1), history_key{"bob", "example.test", 443}).addresses.empty());
    CHECK(h.hints(t(1), history_key{"", "example.test", 443}).addresses.empty());
    CHECK(h.hints(t(1), history_key{"alice", "example.test", 8443}).addresses.empty());
    // Partition and host cannot bleed into each other.
    CHECK(h.hints(t(1), history_key{"alic", "eexample.test", 443}).addresses.empty());
}

TEST_CASE("history: bounded: least recently used destinations and addresses go first",
          "[history]") {
    auto s = no_probe();
    s.max_destinations = 2;
    s.max_addresses = 2;
    dial_history h(s);
    const history_key a{"", "a.test", 1}, b{"", "b.test", 1}, c{"", "c.test", 1};
    h.record(t(0), a, won_by(v4_1, 5), {});
    h.record(t(1), b, won_by(v4_1, 5), {});
    h.hints(t(2), a);  // a is used again: b is now the oldest
    h.record(t(3), c, won_by(v4_1, 5), {});
    CHECK(h.size() == 2);
    CHECK(h.find(a, v4_1.address()));
    CHECK_FALSE(h.find(b, v4_1.address()));
    CHECK(h.find(c, v4_1.address()));
    h.record(t(4), a, won_by(v6_1, 5), {});
    h.record(t(5), a, won_by(v6_2, 5), {});
    CHECK_FALSE(h.find(a, v4_1.address()));
    CHECK(h.find(a, v6_2.address()));
}

TEST_CASE("history: clear() and network_changed() forget everything, the epoch counts changes",
          "[history]") {
    dial_history h(no_probe());
    h.record(t(0), key, won_by(v4_1, 5, {v6_1}), {});
    CHECK(h.size() == 1);
    h.clear();
    CHECK(h.size() == 0);
    h.record(t(0), key, won_by(v4_1, 5, {v6_1}), {});
    CHECK(h.epoch() == 0);
    h.network_changed();
    CHECK(h.epoch() == 1);
    CHECK(h.size() == 0);
    CHECK(h.hints(t(1), key).addresses.empty());
}

TEST_CASE("history: bad settings are rejected with invalid_history_settings", "[history]") {
    const auto bad = [](auto change) {
        history_settings s;
        change(s);
        return validate(s) == error::invalid_history_settings;
    };
    CHECK_FALSE(validate(history_settings{}));
    CHECK(bad([](auto& s) { s.max_destinations = 0; }));
    CHECK(bad([](auto& s) { s.max_addresses = 0; }));
    CHECK(bad([](auto& s) { s.success_lifetime = 0ms; }));
    CHECK(bad([](auto& s) { s.failure_penalty = -1ms; }));
    CHECK(bad([](auto& s) { s.max_failure_penalty = 1s; }));
    CHECK(bad([](auto& s) { s.min_attempt_delay = 9ms; }));
    CHECK(bad([](auto& s) { s.min_attempt_delay = 3s; }));
    CHECK(bad([](auto& s) { s.success_lifetime = std::chrono::hours(25); }));
    history_settings s;
    s.max_destinations = 0;
    CHECK_THROWS_AS(dial_history(s), boost::system::system_error);
}

// ---------------------------------------------------------------------------------------------
// RFC 6724 across families, and the engine's use of it

TEST_CASE("RFC 6724: default policy table precedence, label and scope", "[history]") {
    CHECK(rfc6724_precedence(make_address("::1")) == 50);
    CHECK(rfc6724_precedence(make_address("2001:db8::1")) == 40);
    CHECK(rfc6724_precedence(make_address("192.0.2.1")) == 35);
    CHECK(rfc6724_precedence(make_address("2002:c000:201::1")) == 30);
    CHECK(rfc6724_precedence(make_address("2001:0:5ef5::1")) == 5);
    CHECK(rfc6724_precedence(make_address("fd00::1")) == 3);
    CHECK(rfc6724_label(make_address("192.0.2.1")) == 4);
    CHECK(rfc6724_label(make_address("fd00::1")) == 13);
    CHECK(rfc6724_scope(make_address("127.0.0.1")) == 2);
    CHECK(rfc6724_scope(make_address("169.254.1.1")) == 2);
    CHECK(rfc6724_scope(make_address("10.0.0.1")) == 14);
    CHECK(rfc6724_scope(make_address("fe80::1")) == 2);
    CHECK(rfc6724_scope(make_address("2001:db8::1")) == 14);
    CHECK(rfc6724_scope(make_address("ff05::1")) == 5);
}

TEST_CASE("RFC 6724 rule 6: an IPv4 destination goes before a ULA IPv6 one", "[history]") {
    const endpoint ula = ep("fd00::1");
    dial_engine e{{}};
    dial_hints hints;
    hints.sort = true;
    e.set_hints(hints);
    e.start_with_endpoints(t(0), {ula, v4_1});
    CHECK(drain(e).front() == action{start_attempt{0, v4_1}});
    // Native IPv6 (precedence 40) still goes before IPv4 (35).
    dial_engine native{{}};
    native.set_hints(hints);
    native.start_with_endpoints(t(0), {v4_1, v6_1});
    CHECK(drain(native).front() == action{start_attempt{0, v6_1}});
}

TEST_CASE("RFC 6724 rules 2 and 5: a destination whose source matches scope and label first",
          "[history]") {
    address_hint six = hint_for(make_address("2001:db8::1"));
    six.source = make_address("fe80::1");  // only a link-local source: scope mismatch
    address_hint four = hint_for(make_address("192.0.2.1"));
    four.source = make_address("192.0.2.100");
    CHECK(comes_before(four.address, &four, six.address, &six));
    six.source = make_address("2001:db8::100");
    CHECK(comes_before(six.address, &six, four.address, &four));
    // Rule 5: a 6to4 source for a native destination loses to IPv4.
    six.source = make_address("2002:c000:201::1");
    CHECK(comes_before(four.address, &four, six.address, &six));
}

TEST_CASE("RFC 6724 rule 1: no route sorts last, RTT buckets then 'used before' break ties",
          "[history]") {
    address_hint a = hint_for(make_address("2001:db8::1"));
    address_hint b = hint_for(make_address("2001:db8::2"));
    a.no_route = true;
    CHECK(comes_before(b.address, &b, a.address, &a));
    a.no_route = false;
    a.rtt = 30ms;
    b.rtt = 45ms;  // same 25 ms bucket [25, 50)
    CHECK_FALSE(comes_before(a.address, &a, b.address, &b));
    CHECK_FALSE(comes_before(b.address, &b, a.address, &a));
    b.used_before = true;
    CHECK(comes_before(b.address, &b, a.address, &a));
    a.rtt = 10ms;  // a lower bucket wins over "used before"
    CHECK(comes_before(a.address, &a, b.address, &b));
    // A measured address goes before an unmeasured one.
    address_hint c = hint_for(make_address("2001:db8::3"));
    CHECK(comes_before(b.address, &b, c.address, &c));
}

TEST_CASE("history: prefer_ipv4 outranks RFC 6724 precedence but not a penalty", "[history]") {
    engine_config c;
    c.preference = family_preference::prefer_ipv4;
    dial_hints hints;
    hints.sort = true;
    dial_engine e{c};
    e.set_hints(hints);
    e.start_with_endpoints(t(0), {v6_1, v4_1});
    CHECK(drain(e).front() == action{start_attempt{0, v4_1}});
    address_hint bad = hint_for(v4_1.address());
    bad.penalised = true;
    hints.addresses.push_back(bad);
    dial_engine f{c};
    f.set_hints(hints);
    f.start_with_endpoints(t(0), {v6_1, v4_1});
    CHECK(drain(f).front() == action{start_attempt{0, v6_1}});
}

TEST_CASE("history: without an IPv6 route no AAAA query is asked for", "[history]") {
    dial_hints hints;
    hints.sort = true;
    hints.skip_ipv6_lookup = true;
    dial_engine e{{}};
    e.set_hints(hints);
    e.start(t(0), parse_target("example.test", "443"));
    CHECK(drain(e) == seq{start_lookup{address_family::ipv4}});
    e.on_answer(t(5), a({v4_1}));
    CHECK(drain(e).front() == action{start_attempt{0, v4_1}});  // no Resolution Delay
    // ipv6_only keeps its AAAA query.
    engine_config c;
    c.preference = family_preference::ipv6_only;
    dial_engine only6{c};
    only6.set_hints(hints);
    only6.start(t(0), parse_target("example.test", "443"));
    CHECK(drain(only6) == seq{start_lookup{address_family::ipv6}});
}

TEST_CASE("history: an attempt started after the winner is not 'slow'", "[history]") {
    dial_history h(no_probe());
    dial_trace trace;
    trace.attempts.push_back(attempt(0, v6_1, 0, 5, attempt_outcome::won));
    trace.attempts.push_back(
        attempt(1, v4_1, 3, 5, attempt_outcome::cancelled, boost::asio::error::operation_aborted));
    CHECK(h.record(t(10), key, trace, {}) == 1);
    CHECK_FALSE(h.find(key, v4_1.address()));
    CHECK(h.find(key, v6_1.address())->outcome == address_outcome::connected);
}

TEST_CASE("history: a dial that straddled a network change records nothing", "[history]") {
    dial_history h(no_probe());
    history_use use;
    h.hints(t(0), key, &use);
    CHECK(use.epoch == 0);
    h.network_changed();
    CHECK(h.record(t(5), key, won_by(v4_1, 5, {v6_1}), {}, {}, use.epoch) == 0);
    CHECK(h.size() == 0);
    h.hints(t(6), key, &use);
    CHECK(use.epoch == 1);
    CHECK(h.record(t(9), key, won_by(v4_1, 5, {v6_1}), {}, {}, use.epoch) == 2);
}
