// The RFC 8305 §4 ordering of untried addresses, tested on the queue alone.
#include "catch.hpp"
#include "unit/engine_harness.hpp"

#include <happy_dial/core/address_queue.hpp>

#include <string>
#include <vector>

using namespace happy_dial::test;
using namespace happy_dial::core;

namespace {

/// Pops everything, as "6" / "4" per address.
std::string order(address_queue& q) {
    std::string out;
    while (auto x = q.pop(true)) {
        out += family_of(*x) == address_family::ipv6 ? '6' : '4';
    }
    return out;
}

void add_all(address_queue& q, const std::vector<endpoint>& eps) {
    for (const auto& x : eps) {
        q.add(x);
    }
}

const std::vector<endpoint> three_v6 = {ep("2001:db8::1"), ep("2001:db8::2"), ep("2001:db8::3")};
const std::vector<endpoint> two_v4 = {ep("192.0.2.1"), ep("192.0.2.2")};

}  // namespace

TEST_CASE("address_queue §4: 6,6,6,4,4 interleaves to 6,4,6,4,6 with count 1", "[engine]") {
    address_queue q{address_family::ipv6, 1};
    add_all(q, three_v6);
    add_all(q, two_v4);
    CHECK(q.untried() == 5);
    CHECK(order(q) == "64646");
    CHECK(q.untried() == 0);
}

TEST_CASE("address_queue §4: 6,6,6,4,4 interleaves to 6,6,4,6,4 with count 2", "[engine]") {
    address_queue q{address_family::ipv6, 2};
    add_all(q, three_v6);
    add_all(q, two_v4);
    CHECK(order(q) == "66464");
}

TEST_CASE("address_queue §4: exact addresses keep their per-family order", "[engine]") {
    address_queue q{address_family::ipv6, 1};
    add_all(q, two_v4);
    add_all(q, three_v6);
    CHECK(q.pop(true) == three_v6[0]);
    CHECK(q.pop(true) == two_v4[0]);
    CHECK(q.pop(true) == three_v6[1]);
    CHECK(q.pop(true) == two_v4[1]);
    CHECK(q.pop(true) == three_v6[2]);
    CHECK_FALSE(q.pop(true));
}

TEST_CASE("address_queue §4: IPv4 preferred starts with IPv4", "[engine]") {
    address_queue q{address_family::ipv4, 1};
    add_all(q, three_v6);
    add_all(q, two_v4);
    CHECK(order(q) == "46466");
}

TEST_CASE("address_queue §4: a first family count of 0 behaves as 1", "[engine]") {
    address_queue q{address_family::ipv6, 0};
    add_all(q, three_v6);
    add_all(q, two_v4);
    CHECK(order(q) == "64646");
}

TEST_CASE("address_queue §4: duplicates are removed, even after being handed out", "[engine]") {
    address_queue q{address_family::ipv6, 1};
    CHECK(q.add(three_v6[0]));
    CHECK_FALSE(q.add(three_v6[0]));
    CHECK(q.pop(true) == three_v6[0]);
    CHECK_FALSE(q.add(three_v6[0]));
    CHECK(q.untried() == 0);
    // Same address, other port: a different endpoint.
    CHECK(q.add(ep("2001:db8::1", 8443)));
}

// Up to 8 addresses duplicates are found by a scan, beyond by a hash table built from every
// address already added (by add() growing past 8, or at once by reserve()).
TEST_CASE("address_queue §4: duplicates are found before and after the table is built",
          "[engine]") {
    const bool reserve_first = GENERATE(false, true);
    address_queue q{address_family::ipv6, 1};
    std::vector<endpoint> all;
    for (int i = 1; i <= 20; ++i) {
        all.push_back(ep("2001:db8::" + std::to_string(i)));
        all.push_back(ep("192.0.2." + std::to_string(i)));
    }
    if (reserve_first) {
        q.reserve(20, 20);
    }
    for (std::size_t n = 0; n < all.size(); ++n) {
        INFO("address " << n);
        CHECK(q.add(all[n]));
        for (std::size_t k = 0; k <= n; ++k) {  // every earlier one is still known
            CHECK_FALSE(q.add(all[k]));
        }
    }
    CHECK(q.untried() == all.size());
    CHECK(order(q) == "6464646464646464646464646464646464646464");
}

TEST_CASE("address_queue §3: pop(false) hands out only the preferred family", "[engine]") {
    address_queue q{address_family::ipv6, 1};
    add_all(q, two_v4);
    CHECK_FALSE(q.has_next(false));
    CHECK(q.has_next(true));
    CHECK_FALSE(q.pop(false));
    CHECK(q.untried(address_family::ipv4) == 2);
    q.add(three_v6[0]);
    CHECK(q.has_next(false));
    CHECK(q.pop(false) == three_v6[0]);
    CHECK_FALSE(q.pop(false));  // next in order would be IPv4
    CHECK(q.pop(true) == two_v4[0]);
}

TEST_CASE("address_queue §6: a late answer is merged into the untried part", "[engine]") {
    // The complete list would be 6,4,6,4,6: what was handed out is matched against it and the
    // untried part continues from there.
    SECTION("late IPv6 after one IPv4: the missing 6 first, then 6,4,6 continues") {
        address_queue q{address_family::ipv6, 1};
        add_all(q, two_v4);
        CHECK(q.pop(true) == two_v4[0]);
        add_all(q, three_v6);
        CHECK(order(q) == "6646");
    }
    SECTION("late IPv4 after 6,6: the missing 4 first, then 4,6 continues") {
        address_queue q{address_family::ipv6, 1};
        add_all(q, three_v6);
        CHECK(q.pop(true) == three_v6[0]);
        CHECK(q.pop(true) == three_v6[1]);
        add_all(q, two_v4);
        CHECK(order(q) == "446");
    }
}

TEST_CASE("address_queue: clear() forgets every untried address", "[engine]") {
    address_queue q{address_family::ipv6, 1};
    add_all(q, three_v6);
    add_all(q, two_v4);
    q.pop(true);
    q.clear();
    CHECK(q.untried() == 0);
    CHECK_FALSE(q.has_next(true));
    CHECK_FALSE(q.pop(true));
}

namespace {
namespace grouped_queue {

/// Pops everything, as the addresses' last digits ("61 41 62": 2001:db8::1, 192.0.2.1, ...).
std::string order_by_name(address_queue& q) {
    std::string out;
    while (auto x = q.pop(true)) {
        const auto text = x->address().to_string();
        out += (out.empty() ? "" : " ") + std::string(1, x->address().is_v6() ? '6' : '4') +
               text.back();
    }
    return out;
}

}  // namespace grouped_queue
}  // namespace

TEST_CASE("address_queue v3 §4: a service group of both families goes before the next group",
          "[engine][https]") {
    // Group 0: three IPv6 and one IPv4; group 1: one IPv4 and one IPv6. Interleaving by
    // counts alone would give 61 41 62 42 63: 42 (group 1) before 63 (group 0).
    address_queue q{address_family::ipv6, 1};
    q.add(ep("2001:db8::1"), 0);
    q.add(ep("2001:db8::2"), 0);
    q.add(ep("2001:db8::3"), 0);
    q.add(ep("2001:db8::4"), 1);
    q.add(ep("192.0.2.1"), 0);
    q.add(ep("192.0.2.2"), 1);
    CHECK(grouped_queue::order_by_name(q) == "61 41 62 63 42 64");
}

TEST_CASE("address_queue v3 §4: a late address of an earlier group goes before later groups",
          "[engine][https]") {
    address_queue q{address_family::ipv6, 1};
    q.add(ep("2001:db8::3"), 2);  // a hint of a later service
    q.add(ep("192.0.2.3"), 2);
    REQUIRE(q.pop(true)->address().to_string() == "2001:db8::3");
    q.add(ep("192.0.2.1"), 0);  // the origin's A answer comes late
    q.add(ep("2001:db8::1"), 1);
    q.add(ep("192.0.2.1"), 1);  // a duplicate stays where it was
    CHECK(q.untried() == 3);
    CHECK(grouped_queue::order_by_name(q) == "41 61 43");
}

TEST_CASE("address_queue v3 §4: groups keep their order past the hash table's threshold",
          "[engine][https]") {
    address_queue q{address_family::ipv4, 1};
    for (int i = 9; i >= 1; --i) {  // nine groups, added in reverse: each goes first
        q.add(ep("192.0.2." + std::to_string(i)), static_cast<std::uint16_t>(i));
    }
    CHECK_FALSE(q.add(ep("192.0.2.5"), 0));  // still found as a duplicate after the moves
    std::string out;
    while (auto x = q.pop(true)) {
        out += x->address().to_string().back();
    }
    CHECK(out == "123456789");
}

TEST_CASE("address_queue v3 §4: pop(false) keeps to the preferred family whatever the groups",
          "[engine][https]") {
    address_queue q{address_family::ipv6, 1};
    q.add(ep("2001:db8::1"), 1);
    q.add(ep("192.0.2.1"), 0);
    CHECK(q.pop(false)->address().is_v6());
    CHECK(q.pop(false) == std::nullopt);
    CHECK(q.pop(true)->address().is_v4());
}
