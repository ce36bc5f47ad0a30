#include "catch.hpp"
#include "unit/engine_harness.hpp"

#include <happy_dial/error.hpp>

using namespace happy_dial;
using namespace happy_dial::test;
using namespace happy_dial::core;

TEST_CASE("engine: AAAA first starts IPv6 at once, staggers IPv4 by the attempt delay (§3, §5)",
          "[engine]") {
    dial_engine e{{}};
    e.start(t(0), {address_family::ipv6, address_family::ipv4});
    CHECK(drain(e).empty());
    e.on_answer(t(5), aaaa({ep("2001:db8::1")}));
    CHECK(drain(e) == std::vector<action>{start_attempt{0, ep("2001:db8::1")}});
    e.on_answer(t(7), a({ep("192.0.2.1")}));
    CHECK(drain(e) == std::vector<action>{set_timer{t(255)}});
    e.on_timer(t(255));
    CHECK(drain(e) == std::vector<action>{start_attempt{1, ep("192.0.2.1")}});
    e.on_attempt_result(t(300), 1, {});
    CHECK(drain(e) == std::vector<action>{cancel_attempt{0}, dial_done{{}, 1}});
}
