#include <happy_dial/core/nat64.hpp>

#include <algorithm>
#include <array>
#include <utility>

namespace happy_dial::core {

namespace {
namespace nat64_detail {

using bytes_v4 = boost::asio::ip::address_v4::bytes_type;
using bytes_v6 = boost::asio::ip::address_v6::bytes_type;

// RFC 6052 §2.2: bits 64..71 (byte 8) are the u-octet, which the IPv4 address skips.
constexpr std::size_t u_octet = 8;

constexpr std::array<unsigned, 6> lengths{32, 40, 48, 56, 64, 96};

// RFC 7050 §2: the well-known IPv4 addresses (WKAs) that ipv4only.arpa resolves to.
constexpr bytes_v4 wka_170{192, 0, 0, 170};
constexpr bytes_v4 wka_171{192, 0, 0, 171};

// Where the i-th byte of the IPv4 address goes under a prefix of `length` bits (RFC 6052 §2.2
// figure 1): right after the prefix, stepping over the u-octet, except for a /96 whose IPv4
// address is the last 32 bits and whose u-octet is part of the prefix.
constexpr std::size_t v4_position(unsigned length, std::size_t i) noexcept {
    const std::size_t pos = length / 8 + i;
    return length < 96 && pos >= u_octet ? pos + 1 : pos;
}

std::optional<bytes_v4> embedded(unsigned length, const bytes_v6& b) noexcept {
    if (b[u_octet] != 0) {
        return std::nullopt;  // §2.2: MUST be zero (also for a /96, whose prefix holds it)
    }
    bytes_v4 v4{};
    for (std::size_t i = 0; i < v4.size(); ++i) {
        v4[i] = b[v4_position(length, i)];
    }
    return v4;
}

}  // namespace nat64_detail
}  // namespace

nat64_prefix well_known_nat64_prefix() {
    return {boost::asio::ip::make_address_v6("64:ff9b::"), 96};
}

bool valid_nat64_prefix_length(unsigned length) noexcept {
    return std::find(nat64_detail::lengths.begin(), nat64_detail::lengths.end(), length) !=
           nat64_detail::lengths.end();
}

bool valid_nat64_prefix(const nat64_prefix& prefix) noexcept {
    if (!valid_nat64_prefix_length(prefix.length)) {
        return false;
    }
    return prefix.length < 96 || prefix.prefix.to_bytes()[nat64_detail::u_octet] == 0;
}

boost::asio::ip::address_v6 synthesize(const nat64_prefix& prefix,
                                       const boost::asio::ip::address_v4& v4) {
    if (!valid_nat64_prefix(prefix)) {
        return {};
    }
    const auto p = prefix.prefix.to_bytes();
    const auto a = v4.to_bytes();
    nat64_detail::bytes_v6 out{};  // u-octet and suffix zero (§2.2)
    std::copy_n(p.begin(), prefix.length / 8, out.begin());
    for (std::size_t i = 0; i < a.size(); ++i) {
        out[nat64_detail::v4_position(prefix.length, i)] = a[i];
    }
    return boost::asio::ip::address_v6(out);
}

std::optional<boost::asio::ip::address_v4> extract(const nat64_prefix& prefix,
                                                   const boost::asio::ip::address_v6& v6) {
    if (!valid_nat64_prefix(prefix)) {
        return std::nullopt;
    }
    const auto p = prefix.prefix.to_bytes();
    const auto b = v6.to_bytes();
    const auto n = static_cast<std::ptrdiff_t>(prefix.length / 8);
    if (!std::equal(p.begin(), p.begin() + n, b.begin())) {
        return std::nullopt;
    }
    const auto v4 = nat64_detail::embedded(prefix.length, b);
    if (!v4) {
        return std::nullopt;
    }
    return boost::asio::ip::address_v4(*v4);
}

bool may_synthesize(const boost::asio::ip::address_v4& v4) noexcept {
    const auto b = v4.to_bytes();
    if (b[0] == 0 || b[0] == 127) {
        return false;  // "this network" and loopback: never behind a NAT64
    }
    if (b[0] == 169 && b[1] == 254) {
        return false;  // link-local: on-link only
    }
    return v4 != boost::asio::ip::address_v4::broadcast();  // limited broadcast: never routed
}

std::vector<nat64_prefix> discover_nat64_prefixes(
    std::span<const boost::asio::ip::address_v6> ipv4only_arpa_aaaa) {
    std::vector<nat64_prefix> found;
    for (const auto& v6 : ipv4only_arpa_aaaa) {
        const auto b = v6.to_bytes();
        // §3: the length is unknown, so every position is tried; a false match needs the 32-bit
        // pattern of a WKA at another position as well, which a real prefix does not hold.
        for (const unsigned length : nat64_detail::lengths) {
            const auto v4 = nat64_detail::embedded(length, b);
            if (!v4 || (*v4 != nat64_detail::wka_170 && *v4 != nat64_detail::wka_171)) {
                continue;
            }
            nat64_detail::bytes_v6 bits{};
            std::copy_n(b.begin(), length / 8, bits.begin());
            const nat64_prefix prefix{boost::asio::ip::address_v6(bits), length};
            // §3: several prefixes may be in use; each is kept once (both WKAs give the same).
            if (std::find(found.begin(), found.end(), prefix) == found.end()) {
                found.push_back(prefix);
            }
        }
    }
    return found;
}

std::vector<boost::asio::ip::address_v6> synthesize_all(std::span<const nat64_prefix> prefixes,
                                                        const boost::asio::ip::address_v4& v4) {
    std::vector<boost::asio::ip::address_v6> out;
    if (!may_synthesize(v4)) {
        return out;
    }
    for (const auto& prefix : prefixes) {
        if (!valid_nat64_prefix(prefix)) {
            continue;
        }
        const auto v6 = synthesize(prefix, v4);
        if (std::find(out.begin(), out.end(), v6) == out.end()) {
            out.push_back(v6);
        }
    }
    return out;
}

std::optional<boost::asio::ip::address_v4> synthesized_from(std::span<const nat64_prefix> prefixes,
                                                            const boost::asio::ip::address_v6& v6) {
    for (const auto& prefix : prefixes) {
        if (auto v4 = extract(prefix, v6)) {
            return v4;
        }
    }
    return std::nullopt;
}

void nat64_cache::store(time_point now,
                        std::vector<nat64_prefix> prefixes,
                        std::chrono::seconds ttl) {
    if (prefixes.empty()) {
        store_none(now, ttl);
        return;
    }
    // A TTL of 0 would mean "query again for every dial"; a huge one would outlive any sensible
    // network lifetime when a change goes unnoticed.
    const duration life =
        ttl <= std::chrono::seconds(0) ? default_ttl : std::min<duration>(ttl, max_ttl);
    prefixes_ = std::move(prefixes);
    expires_ = now + life;
    stored_ = true;
}

void nat64_cache::store_none(time_point now, std::chrono::seconds ttl) {
    const duration life = ttl <= std::chrono::seconds(0)
                              ? max_negative_ttl
                              : std::min<duration>(ttl, max_negative_ttl);
    prefixes_.clear();
    expires_ = now + life;
    stored_ = true;
}

std::optional<std::vector<nat64_prefix>> nat64_cache::lookup(time_point now) const {
    if (!stored_ || now >= expires_) {
        return std::nullopt;
    }
    return prefixes_;
}

void nat64_cache::invalidate() noexcept {
    prefixes_.clear();
    stored_ = false;
}

}  // namespace happy_dial::core
