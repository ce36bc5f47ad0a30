// Happy Eyeballs v3 on a real kernel (issue 16): NAT64 on an IPv6-only namespace. The bench's
// namespace has no route to 192.0.2.0/24; its DNS server answers ipv4only.arpa as a DNS64 would
// (RFC 7050 §3) and the synthesized addresses sit on lo. Timing windows as in
// scenario_test.cpp: lower bounds are physical, upper bounds add `slack`.
#include "catch.hpp"
#include "netns/scenario.hpp"

#include <happy_dial/core/nat64.hpp>

#include <boost/asio/ip/address.hpp>

#include <algorithm>

using namespace happy_dial;
using namespace happy_dial::netns;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

constexpr double slack = 60;  // ms above every upper bound
constexpr double cad = 250;   // Connection Attempt Delay (default)

// A network-specific /64 prefix (RFC 6052 §2.2) next to the well-known 64:ff9b::/96.
core::nat64_prefix network_prefix() {
    return {asio::ip::make_address_v6("2001:db8:1:2::"), 64};
}

std::string synthesized(const core::nat64_prefix& prefix, const char* v4) {
    return core::synthesize(prefix, asio::ip::make_address_v4(v4)).to_string();
}

// The namespace's DNS64 answers ipv4only.arpa with the /64 prefix first, then 64:ff9b::/96;
// 192.0.2.10 under the /64 is black-holed, under 64:ff9b::/96 it is served.
void ipv6_only_network_with_nat64() {
    auto& b = bench::get();
    b.configure(
        {black_holed(synthesized(network_prefix(), "192.0.2.10")), healthy("64:ff9b::c000:20a")});
    b.dns().set("ipv4only.arpa",
                {{asio::ip::make_address(synthesized(network_prefix(), "192.0.0.170")),
                  asio::ip::make_address("64:ff9b::c000:aa")},
                 0ms,
                 false,
                 600},
                {});
}

}  // namespace

TEST_CASE("nat64: an IPv4 literal on an IPv6-only network connects through the NAT64 prefixes",
          "[netns][nat64]") {
    ipv6_only_network_with_nat64();
    // c-ares keeps the DNS answer's order, getaddrinfo sorts it: both are tried.
    const auto backend = GENERATE(resolver_backend::c_ares, resolver_backend::system);
    if (backend == resolver_backend::c_ares && !c_ares_available()) {
        return;
    }
    dial_options options;
    options.resolver = backend;
    const auto r = dial_on_bench("192.0.2.10", options, 5000ms);
    INFO("resolver " << to_string(backend));
    REQUIRE_WINNER(r, "64:ff9b::c000:20a");
    CHECK(r.dns_queries_of(28) == 1);  // the AAAA query for ipv4only.arpa
    // Both prefixes, in the order the resolver gave the answer (getaddrinfo sorts it by RFC
    // 6724): one attempt per prefix, the black-holed /64 address losing after one Connection
    // Attempt Delay when it goes first.
    REQUIRE(r.report.nat64_prefixes.size() == 2);
    const auto& prefixes = r.report.nat64_prefixes;
    CHECK(std::count(prefixes.begin(), prefixes.end(), network_prefix()) == 1);
    CHECK(std::count(prefixes.begin(), prefixes.end(), core::well_known_nat64_prefix()) == 1);
    const bool black_hole_first = prefixes[0] == network_prefix();
    REQUIRE(r.report.attempts.size() == (black_hole_first ? 2u : 1u));
    if (black_hole_first) {
        CHECK_WINDOW(r.elapsed_ms(), cad, cad + slack);
        CHECK(r.report.attempts[0].endpoint.address().to_string() ==
              synthesized(network_prefix(), "192.0.2.10"));
        CHECK(r.report.attempts[0].outcome == attempt_outcome::cancelled);
    } else {
        CHECK_WINDOW(r.elapsed_ms(), 0, slack);
    }
    const auto& winner = r.report.attempts.back();
    CHECK(winner.outcome == attempt_outcome::won);
    REQUIRE(winner.nat64_from);
    CHECK(winner.nat64_from->to_string() == "192.0.2.10");
    REQUIRE(r.report.answers.size() == 1);
    for (const auto& e : r.report.answers[0].endpoints) {
        CHECK(e.nat64_from == asio::ip::make_address_v4("192.0.2.10"));
    }
}

TEST_CASE("nat64: with nat64 off an IPv4 literal on an IPv6-only network fails at once",
          "[netns][nat64]") {
    ipv6_only_network_with_nat64();
    dial_options options;
    options.nat64 = nat64_mode::off;
    const auto r = dial_on_bench("192.0.2.10", options, 5000ms);
    INFO(r.describe());
    REQUIRE(r.completed);
    CHECK(r.error == asio::error::network_unreachable);
    CHECK(r.elapsed_ms() < 10);
    CHECK(r.dns_queries_of(28) == 0);
    CHECK(r.report.nat64_prefixes.empty());
}

TEST_CASE("nat64: an A-only name on an IPv6-only network connects through the NAT64",
          "[netns][nat64]") {
    ipv6_only_network_with_nat64();
    bench::get().dns().set("v4only.hd.test", {}, {{asio::ip::make_address("192.0.2.10")}});
    const auto r = dial_on_bench("v4only.hd.test", {}, 5000ms);
    REQUIRE_WINNER(r, "64:ff9b::c000:20a");
    CHECK(r.report.nat64_prefixes.size() == 2);
    CHECK(r.report.attempts.back().nat64_from == asio::ip::make_address_v4("192.0.2.10"));
}
