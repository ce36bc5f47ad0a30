#include <happy_dial/core/destination_order.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

namespace happy_dial::core {
namespace {

using boost::asio::ip::address;
using bytes = std::array<unsigned char, 16>;

// An address as IPv6 bytes (IPv4 mapped to ::ffff:a.b.c.d), as the policy table sees it.
bytes as_v6(const address& a) noexcept {
    if (a.is_v6()) {
        return a.to_v6().to_bytes();
    }
    bytes b{};
    b[10] = 0xff;
    b[11] = 0xff;
    const auto v4 = a.to_v4().to_bytes();
    std::copy(v4.begin(), v4.end(), b.begin() + 12);
    return b;
}

bool in_prefix(const bytes& b, const bytes& prefix, unsigned bits) noexcept {
    const unsigned whole = bits / 8;
    if (std::memcmp(b.data(), prefix.data(), whole) != 0) {
        return false;
    }
    if (bits % 8 == 0) {
        return true;
    }
    const auto mask = static_cast<unsigned char>(0xffu << (8 - bits % 8));
    return (b[whole] & mask) == (prefix[whole] & mask);
}

struct policy_row {
    bytes prefix;
    unsigned bits;
    int precedence;
    int label;
};

// RFC 6724 §2.1, longest prefix first so the first match is the longest one.
const std::array<policy_row, 9> policy_table{{
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, 50, 0},       // ::1/128
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0}, 96, 35, 4},  // ::ffff:0:0/96
    {{0}, 96, 1, 3},                                                      // ::/96
    {{0x20, 0x01, 0, 0}, 32, 5, 5},                                       // 2001::/32
    {{0x20, 0x02}, 16, 30, 2},                                            // 2002::/16
    {{0x3f, 0xfe}, 16, 1, 12},                                            // 3ffe::/16
    {{0xfe, 0xc0}, 10, 1, 11},                                            // fec0::/10
    {{0xfc}, 7, 3, 13},                                                   // fc00::/7
    {{0}, 0, 40, 1},                                                      // ::/0
}};

const policy_row& policy_of(const address& a) noexcept {
    const bytes b = as_v6(a);
    for (const auto& row : policy_table) {
        if (in_prefix(b, row.prefix, row.bits)) {
            return row;
        }
    }
    return policy_table.back();
}

// Compares one rule: -1 when it prefers a, 1 when it prefers b, 0 when it does not decide.
int prefer(bool a_wins, bool b_wins) noexcept {
    return a_wins == b_wins ? 0 : (a_wins ? -1 : 1);
}

bool unusable(const address_hint* h) noexcept {
    return h != nullptr && (h->no_route || h->penalised);
}

// Bucket of the RTT rule; unmeasured addresses come after every measured one.
std::int64_t rtt_rank(const address_hint* h) noexcept {
    if (h == nullptr || !h->rtt) {
        return INT64_MAX;
    }
    return h->rtt->count() / rtt_bucket.count();
}

}  // namespace

int rfc6724_precedence(const address& a) noexcept {
    return policy_of(a).precedence;
}

int rfc6724_label(const address& a) noexcept {
    return policy_of(a).label;
}

int rfc6724_scope(const address& a) noexcept {
    constexpr int link_local = 0x2;
    constexpr int site_local = 0x5;
    constexpr int global = 0xe;
    if (a.is_v4()) {
        const auto b = a.to_v4().to_bytes();
        // §3.2: 127/8 and 169.254/16 are link-local; every other IPv4 address is global.
        const bool link = b[0] == 127 || (b[0] == 169 && b[1] == 254);
        return link ? link_local : global;
    }
    const auto v6 = a.to_v6();
    if (v6.is_multicast()) {
        return v6.to_bytes()[1] & 0x0f;
    }
    if (v6.is_v4_mapped()) {
        return rfc6724_scope(
            address(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6)));
    }
    if (v6.is_loopback() || v6.is_link_local()) {
        return link_local;
    }
    if (v6.is_site_local()) {
        return site_local;
    }
    return global;
}

bool comes_before(const address& a,
                  const address_hint* hint_a,
                  const address& b,
                  const address_hint* hint_b,
                  std::optional<address_family> first) noexcept {
    // Rule 1: avoid unusable destinations (no route, or known to fail right now).
    if (int r = prefer(!unusable(hint_a), !unusable(hint_b))) {
        return r < 0;
    }
    // The caller's explicit family choice (prefer_ipv4) acts as a policy-table change, which
    // RFC 6724 §2.1 allows; it outranks the static rules below.
    if (first) {
        const bool fa = (a.is_v6() ? address_family::ipv6 : address_family::ipv4) == *first;
        const bool fb = (b.is_v6() ? address_family::ipv6 : address_family::ipv4) == *first;
        if (int r = prefer(fa, fb)) {
            return r < 0;
        }
    }
    const policy_row& pa = policy_of(a);
    const policy_row& pb = policy_of(b);
    const int ca = rfc6724_scope(a);
    const int cb = rfc6724_scope(b);
    const auto* sa = hint_a != nullptr && hint_a->source ? &*hint_a->source : nullptr;
    const auto* sb = hint_b != nullptr && hint_b->source ? &*hint_b->source : nullptr;
    if (sa != nullptr && sb != nullptr) {
        // Rule 2: prefer matching scope.
        if (int r = prefer(ca == rfc6724_scope(*sa), cb == rfc6724_scope(*sb))) {
            return r < 0;
        }
        // Rule 5: prefer matching label.
        if (int r = prefer(pa.label == rfc6724_label(*sa), pb.label == rfc6724_label(*sb))) {
            return r < 0;
        }
    }
    // Rule 6: prefer higher precedence.
    if (pa.precedence != pb.precedence) {
        return pa.precedence > pb.precedence;
    }
    // Rule 8: prefer smaller scope.
    if (ca != cb) {
        return ca < cb;
    }
    // Happy Eyeballs v3 draft §4: lower historical RTT, then addresses used before.
    if (const auto ra = rtt_rank(hint_a), rb = rtt_rank(hint_b); ra != rb) {
        return ra < rb;
    }
    const bool ua = hint_a != nullptr && hint_a->used_before;
    const bool ub = hint_b != nullptr && hint_b->used_before;
    return ua && !ub;
}

duration attempt_delay_from_rtt(duration srtt, duration rttvar, duration floor) noexcept {
    constexpr duration rfc_floor = std::chrono::milliseconds(10);  // RFC 8305 §5
    constexpr duration ceiling = std::chrono::seconds(2);          // RFC 8305 §8
    const duration low = std::clamp(floor, rfc_floor, ceiling);
    return std::clamp(srtt + 4 * rttvar, low, ceiling);
}

}  // namespace happy_dial::core
