// NAT64 core: RFC 6052 synthesis and extraction, RFC 7050 discovery, RFC 8305 §7 exclusions and
// the prefix cache.
#include "catch.hpp"

#include <happy_dial/core/nat64.hpp>

#include <chrono>
#include <vector>

using namespace happy_dial::core;
using boost::asio::ip::address_v4;
using boost::asio::ip::address_v6;
using boost::asio::ip::make_address_v4;
using boost::asio::ip::make_address_v6;

namespace {

nat64_prefix pfx(const char* bits, unsigned length) {
    return {make_address_v6(bits), length};
}

}  // namespace

TEST_CASE("nat64: the RFC 6052 section 2.4 examples synthesize and extract back", "[nat64]") {
    // RFC 6052 §2.4, table 1 and the well-known prefix example: 192.0.2.33 under each length.
    struct example {
        nat64_prefix prefix;
        const char* expected;
    };
    const example examples[] = {
        {pfx("2001:db8::", 32), "2001:db8:c000:221::"},
        {pfx("2001:db8:100::", 40), "2001:db8:1c0:2:21::"},
        {pfx("2001:db8:122::", 48), "2001:db8:122:c000:2:2100::"},
        {pfx("2001:db8:122:300::", 56), "2001:db8:122:3c0:0:221::"},
        {pfx("2001:db8:122:344::", 64), "2001:db8:122:344:c0:2:2100:0"},
        {pfx("2001:db8:122:344::", 96), "2001:db8:122:344::192.0.2.33"},
        {well_known_nat64_prefix(), "64:ff9b::192.0.2.33"},
    };
    const auto v4 = make_address_v4("192.0.2.33");
    for (const auto& e : examples) {
        INFO("/" << e.prefix.length << " -> " << e.expected);
        const auto v6 = synthesize(e.prefix, v4);
        CHECK(v6 == make_address_v6(e.expected));
        CHECK(extract(e.prefix, v6) == v4);
    }
    CHECK(synthesize(well_known_nat64_prefix(), make_address_v4("192.0.2.10")) ==
          make_address_v6("64:ff9b::c000:20a"));
}

TEST_CASE("nat64: bad prefixes and foreign addresses extract nothing", "[nat64]") {
    const auto v4 = make_address_v4("192.0.2.33");
    // The /64 example with the u-octet (bits 64..71) set: not an RFC 6052 address.
    CHECK_FALSE(
        extract(pfx("2001:db8:122:344::", 64), make_address_v6("2001:db8:122:344:1c0:2:2100:0")));
    CHECK_FALSE(extract(pfx("2001:db8::", 32), make_address_v6("2001:db8:c000:221:100::")));
    CHECK_FALSE(extract(well_known_nat64_prefix(), make_address_v6("64:ff9b:0:0:100::c000:221")));
    // Not under the prefix.
    CHECK_FALSE(extract(pfx("2001:db8::", 32), make_address_v6("2001:db9:c000:221::")));
    // A length RFC 6052 does not allow: nothing, and `::` from synthesize (no exception).
    CHECK_FALSE(valid_nat64_prefix_length(80));
    CHECK(valid_nat64_prefix_length(56));
    CHECK(synthesize(pfx("2001:db8::", 80), v4) == address_v6());
    CHECK_FALSE(extract(pfx("2001:db8::", 80), make_address_v6("2001:db8::c000:221")));
    // Bits past the length are ignored when synthesizing.
    CHECK(synthesize(pfx("2001:db8:ffff::", 32), v4) == make_address_v6("2001:db8:c000:221::"));
}

TEST_CASE("nat64: ipv4only.arpa answers give the prefixes in use", "[nat64]") {
    const auto wka = make_address_v4("192.0.0.170");
    const auto wk = well_known_nat64_prefix();
    const auto nsp = pfx("2001:db8:1:2::", 64);
    const std::vector<address_v6> wkp_answer{make_address_v6("64:ff9b::c000:aa"),
                                             make_address_v6("64:ff9b::c000:ab")};
    CHECK(discover_nat64_prefixes(wkp_answer) == std::vector<nat64_prefix>{wk});

    const std::vector<address_v6> nsp_answer{synthesize(nsp, wka)};
    CHECK(discover_nat64_prefixes(nsp_answer) == std::vector<nat64_prefix>{nsp});

    const std::vector<address_v6> both{synthesize(nsp, wka), wkp_answer[0], wkp_answer[1]};
    CHECK(discover_nat64_prefixes(both) == std::vector<nat64_prefix>{nsp, wk});

    const std::vector<address_v6> none{make_address_v6("64:ff9b::c000:221"),
                                       make_address_v6("2001:db8::1")};
    CHECK(discover_nat64_prefixes(none).empty());
    CHECK(discover_nat64_prefixes({}).empty());
}

TEST_CASE("nat64: loopback and link-local and this-network and broadcast are never synthesized",
          "[nat64]") {
    for (const char* no : {"0.0.0.1", "127.0.0.1", "169.254.1.1", "255.255.255.255"}) {
        INFO(no);
        CHECK_FALSE(may_synthesize(make_address_v4(no)));
        CHECK(synthesize_all(std::vector<nat64_prefix>{well_known_nat64_prefix()},
                             make_address_v4(no))
                  .empty());
    }
    for (const char* yes : {"192.0.2.10",
                            "1.0.0.0",
                            "126.255.255.255",
                            "128.0.0.0",
                            "169.253.255.255",
                            "169.255.0.0",
                            "255.255.255.254"}) {
        INFO(yes);
        CHECK(may_synthesize(make_address_v4(yes)));
    }
}

TEST_CASE("nat64: every prefix synthesizes and a synthesized address maps back", "[nat64]") {
    const std::vector<nat64_prefix> prefixes{pfx("2001:db8:1:2::", 64), well_known_nat64_prefix()};
    const auto v4 = make_address_v4("192.0.2.10");
    const auto all = synthesize_all(prefixes, v4);
    REQUIRE(all.size() == 2);
    CHECK(all[0] == make_address_v6("2001:db8:1:2:c0:2:a00:0"));
    CHECK(all[1] == make_address_v6("64:ff9b::c000:20a"));
    CHECK(synthesized_from(prefixes, all[0]) == v4);
    CHECK(synthesized_from(prefixes, all[1]) == v4);
    CHECK_FALSE(synthesized_from(prefixes, make_address_v6("2001:db8::1")));
}

TEST_CASE("nat64: the cache expires at the TTL and is forgotten on a network change", "[nat64]") {
    using std::chrono::seconds;
    const time_point t0{seconds(1000)};
    const std::vector<nat64_prefix> found{well_known_nat64_prefix()};
    nat64_cache cache;
    CHECK_FALSE(cache.lookup(t0));

    cache.store(t0, found, seconds(300));
    CHECK(cache.lookup(t0) == found);
    CHECK(cache.lookup(t0 + seconds(300) - std::chrono::nanoseconds(1)) == found);
    CHECK_FALSE(cache.lookup(t0 + seconds(300)));

    // TTL 0 (unknown): the default; a huge TTL: at most a day.
    cache.store(t0, found);
    CHECK(cache.lookup(t0 + nat64_cache::default_ttl - seconds(1)) == found);
    CHECK_FALSE(cache.lookup(t0 + nat64_cache::default_ttl));
    cache.store(t0, found, seconds(7 * 86400));
    CHECK(cache.lookup(t0 + std::chrono::hours(24) - seconds(1)) == found);
    CHECK_FALSE(cache.lookup(t0 + std::chrono::hours(24)));

    cache.store(t0, found, seconds(300));
    cache.invalidate();
    CHECK_FALSE(cache.lookup(t0));
}

TEST_CASE("nat64: a network without NAT64 is remembered for at most a minute", "[nat64]") {
    using std::chrono::seconds;
    const time_point t0{seconds(1000)};
    nat64_cache cache;
    cache.store_none(t0, seconds(3600));
    const auto hit = cache.lookup(t0 + seconds(59));
    REQUIRE(hit);
    CHECK(hit->empty());  // present but empty: do not query again
    CHECK_FALSE(cache.lookup(t0 + seconds(60)));

    cache.store_none(t0, seconds(10));
    CHECK(cache.lookup(t0 + seconds(9)));
    CHECK_FALSE(cache.lookup(t0 + seconds(10)));

    cache.store(t0, {}, seconds(3600));  // an empty answer is a negative entry too
    CHECK(cache.lookup(t0 + seconds(59)) == std::vector<nat64_prefix>{});
    CHECK_FALSE(cache.lookup(t0 + seconds(60)));
    cache.invalidate();
    CHECK_FALSE(cache.lookup(t0));
}
