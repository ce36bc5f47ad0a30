// engine_config: normalization to the RFC 8305 bounds and the dialable-endpoint check.
#include "catch.hpp"
#include "unit/engine_harness.hpp"

#include <happy_dial/core/engine_config.hpp>
#include <happy_dial/error.hpp>

using namespace happy_dial;
using namespace happy_dial::test;
using namespace happy_dial::core;

TEST_CASE("engine_config §8: the defaults are RFC 8305's and valid", "[engine]") {
    const engine_config c;
    CHECK(c.resolution_delay == 50ms);
    CHECK(c.connection_attempt_delay == 250ms);
    CHECK(c.first_address_family_count == 1);
    CHECK(c.preference == family_preference::prefer_ipv6);
    CHECK_FALSE(c.overall_timeout);
    CHECK_FALSE(c.attempt_timeout);
    CHECK(c.max_concurrent_attempts == 0);
    CHECK_FALSE(validate(c));
}

TEST_CASE("engine_config §5: normalize clamps the attempt delay to [10 ms, 2 s]", "[engine]") {
    engine_config c;
    c.connection_attempt_delay = 1ms;
    CHECK(normalize(c).connection_attempt_delay == 10ms);
    c.connection_attempt_delay = 10ms;
    CHECK(normalize(c).connection_attempt_delay == 10ms);
    c.connection_attempt_delay = 100ms;
    CHECK(normalize(c).connection_attempt_delay == 100ms);
    c.connection_attempt_delay = 2s;
    CHECK(normalize(c).connection_attempt_delay == 2s);
    c.connection_attempt_delay = 3s;
    CHECK(normalize(c).connection_attempt_delay == 2s);
}

TEST_CASE("engine_config §3: normalize caps the resolution delay at 2 s and keeps 0", "[engine]") {
    engine_config c;
    c.resolution_delay = 0ms;
    CHECK(normalize(c).resolution_delay == 0ms);
    c.resolution_delay = 25ms;
    CHECK(normalize(c).resolution_delay == 25ms);
    c.resolution_delay = 5s;
    CHECK_FALSE(validate(c));
    CHECK(normalize(c).resolution_delay == 2s);
}

TEST_CASE("engine_config: validate accepts the limits themselves", "[engine]") {
    engine_config c;
    c.overall_timeout = std::chrono::hours(24);
    c.attempt_timeout = 1ms;
    c.first_address_family_count = 5;
    CHECK_FALSE(validate(c));
}

TEST_CASE("engine_config pitfall 10: is_dialable accepts unicast with a port and nothing else",
          "[engine]") {
    CHECK(is_dialable(ep("192.0.2.1")));
    CHECK(is_dialable(ep("127.0.0.1")));
    CHECK(is_dialable(ep("2001:db8::1")));
    CHECK(is_dialable(ep("::1")));
    CHECK(is_dialable(ep("fe80::1")));
    CHECK(is_dialable(ep("192.0.2.1", 65535)));

    CHECK_FALSE(is_dialable(ep("0.0.0.0")));
    CHECK_FALSE(is_dialable(ep("::")));
    CHECK_FALSE(is_dialable(ep("224.0.0.1")));
    CHECK_FALSE(is_dialable(ep("239.255.255.250")));
    CHECK_FALSE(is_dialable(ep("ff02::1")));
    CHECK_FALSE(is_dialable(ep("255.255.255.255")));
    CHECK_FALSE(is_dialable(ep("192.0.2.1", 0)));
    CHECK_FALSE(is_dialable(ep("2001:db8::1", 0)));
}

TEST_CASE("engine_config: every endpoint's fate is traced unless trace_endpoints is off",
          "[engine]") {
    const auto t0 = clock::now();
    engine_config c;
    CHECK(c.trace_endpoints);
    dial_engine on(c);
    on.start_with_endpoints(t0, {ep("192.0.2.1"), ep("192.0.2.1"), ep("0.0.0.0")});
    REQUIRE(on.trace().endpoints.size() == 3);
    CHECK(on.trace().endpoints[0].fate == endpoint_fate::queued);
    CHECK(on.trace().endpoints[1].fate == endpoint_fate::duplicate);
    CHECK(on.trace().endpoints[2].fate == endpoint_fate::invalid);
    on.cancel(t0, cancel_kind::terminal);
    CHECK(on.trace().endpoints[0].fate == endpoint_fate::attempted);

    c.trace_endpoints = false;  // what the Asio layer does without a report or an observer
    dial_engine off(c);
    off.start_with_endpoints(t0, {ep("192.0.2.1"), ep("192.0.2.1"), ep("0.0.0.0")});
    CHECK(off.trace().endpoints.empty());
    CHECK(off.trace().answers.size() == 1);
}
