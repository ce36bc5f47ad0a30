// The dial target: parsing and checks (pure), and the engine's RFC 8305 §3 start decisions.
#include "catch.hpp"
#include "unit/engine_harness.hpp"

#include <happy_dial/core/target.hpp>
#include <happy_dial/error.hpp>

using namespace happy_dial;
using namespace happy_dial::core;
using namespace happy_dial::test;

namespace {
using seq = std::vector<action>;
}

TEST_CASE("target: names, literals, brackets and ports are told apart", "[target]") {
    const auto name = parse_target("example.com", "443");
    CHECK_FALSE(name.error);
    CHECK(name.host == "example.com");
    CHECK(name.port == 443);
    CHECK_FALSE(name.literal);
    CHECK(name.needs_lookup());

    const auto v6 = parse_target("[2001:db8::1]", "8080");
    CHECK(v6.host == "2001:db8::1");
    REQUIRE(v6.literal);
    CHECK(v6.literal->is_v6());
    CHECK_FALSE(v6.needs_lookup());
    CHECK(v6.literal_endpoint() == ep("2001:db8::1", 8080));

    const auto named_service = parse_target("192.0.2.1", "https");
    CHECK_FALSE(named_service.error);
    CHECK_FALSE(named_service.port);
    CHECK(named_service.needs_lookup());  // the service name needs resolving

    CHECK(parse_target("x", "00080").port == 80);  // as getaddrinfo reads it
}

TEST_CASE("target: bad input gets its own error, nothing else is set", "[target]") {
    CHECK(parse_target("", "443").error == error::empty_host);
    CHECK(parse_target("[]", "443").error == error::empty_host);
    CHECK(parse_target("bad host", "443").error == error::invalid_host);
    CHECK(parse_target(std::string(254, 'a'), "443").error == error::invalid_host);
}

TEST_CASE("target: host names follow RFC 1035 label rules (issue 13)", "[target]") {
    const auto label63 = std::string(63, 'a');
    CHECK_FALSE(parse_target(label63 + ".example", "443").error);
    CHECK_FALSE(parse_target("example.com.", "443").error);  // fully qualified
    CHECK(parse_target(label63 + "a.example", "443").error == error::invalid_host);
    CHECK(parse_target("a..example", "443").error == error::invalid_host);
    CHECK(parse_target(".example", "443").error == error::invalid_host);
    CHECK(parse_target("example..", "443").error == error::invalid_host);
    CHECK(parse_target(".", "443").error == error::invalid_host);
    CHECK(parse_target("b\xc3\xbc"
                       "cher.example",
                       "443")
              .error == error::invalid_host);                // IDNA first
    CHECK_FALSE(parse_target("fe80::1%eth0", "443").error);  // literals have no labels
}

TEST_CASE("target: bad service input", "[target]") {
    CHECK(parse_target("example.com", "").error == error::invalid_service);
    CHECK(parse_target("example.com", "0").error == error::invalid_service);
    const auto big = parse_target("example.com", "65536");
    CHECK(big.error == error::invalid_service);
    CHECK_FALSE(big.port);
    CHECK(big.host.empty());
}

TEST_CASE("§3: the engine asks for AAAA then A, only for families the policy allows",
          "[engine][target]") {
    SECTION("both, AAAA first") {
        dial_engine e{{}};
        e.start(t(0), parse_target("example.com", "443"));
        CHECK(drain(e) ==
              seq{start_lookup{address_family::ipv6}, start_lookup{address_family::ipv4}});
        e.on_answer(t(3), aaaa({ep("2001:db8::1")}));
        CHECK(drain(e) == seq{start_attempt{0, ep("2001:db8::1")}});
    }
    SECTION("AAAA first even when IPv4 is preferred") {
        engine_config c;
        c.preference = family_preference::prefer_ipv4;
        dial_engine e{c};
        e.start(t(0), parse_target("example.com", "443"));
        CHECK(drain(e) ==
              seq{start_lookup{address_family::ipv6}, start_lookup{address_family::ipv4}});
    }
    SECTION("ipv4_only asks for A only") {
        engine_config c;
        c.preference = family_preference::ipv4_only;
        dial_engine e{c};
        e.start(t(0), parse_target("example.com", "443"));
        CHECK(drain(e) == seq{start_lookup{address_family::ipv4}});
    }
}

TEST_CASE(
    "§3: a literal with a numeric port is dialled at once, with a service name only its "
    "family is looked up",
    "[engine][target]") {
    dial_engine literal{{}};
    literal.start(t(0), parse_target("[2001:db8::1]", "443"));
    CHECK(drain(literal) == seq{start_attempt{0, ep("2001:db8::1")}});

    dial_engine named{{}};
    named.start(t(0), parse_target("192.0.2.1", "https"));
    CHECK(drain(named) == seq{start_lookup{address_family::ipv4}});
}

TEST_CASE("a bad target ends the dial at once with its error", "[engine][target]") {
    dial_engine e{{}};
    e.start(t(0), parse_target("", "443"));
    CHECK(drain(e) == seq{dial_done{make_error_code(error::empty_host), std::nullopt}});
    CHECK(e.done());
}
