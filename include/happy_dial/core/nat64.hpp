// NAT64 prefixes, address synthesis and prefix discovery, sans I/O (RFC 6052, RFC 7050,
// RFC 8305 §7): the core a driver uses to reach an IPv4-only destination from an IPv6-only host.
#pragma once

#include <happy_dial/core/types.hpp>

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>

#include <chrono>
#include <optional>
#include <span>
#include <vector>

namespace happy_dial::core {

/// A NAT64 prefix (RFC 6052 §2.2): one of the lengths 32, 40, 48, 56, 64, 96.
struct nat64_prefix {
    boost::asio::ip::address_v6 prefix;  ///< the prefix bits, the rest zero
    unsigned length = 96;                ///< in bits: 32, 40, 48, 56, 64 or 96

    /// Same bits and same length.
    friend bool operator==(const nat64_prefix&, const nat64_prefix&) = default;
};

/// The well-known prefix 64:ff9b::/96 (RFC 6052 §2.1).
nat64_prefix well_known_nat64_prefix();

/// Whether `length` is one RFC 6052 §2.2 allows (32, 40, 48, 56, 64, 96).
bool valid_nat64_prefix_length(unsigned length) noexcept;

/// Whether `prefix` can synthesize: its length is valid and, for a /96, its bits 64..71 are
/// zero (RFC 6052 §2.2: they MUST be). Bits past the length are ignored, not checked.
bool valid_nat64_prefix(const nat64_prefix& prefix) noexcept;

/// RFC 6052 §2.2: the IPv4-embedded IPv6 address of `v4` under `prefix` (bits 64..71, the
/// u-octet, zero; suffix zero). Bits of `prefix.prefix` past its length are ignored. An invalid
/// prefix (see valid_nat64_prefix) gives the unspecified address `::`.
boost::asio::ip::address_v6 synthesize(const nat64_prefix& prefix,
                                       const boost::asio::ip::address_v4& v4);

/// RFC 6052 §2.2 in reverse: the IPv4 address embedded in `v6` under `prefix`, or nothing when
/// `v6` is not under the prefix, its u-octet is not zero, or the prefix is invalid. The suffix is
/// not checked (§2.2 reserves it: a SHOULD, not a MUST).
std::optional<boost::asio::ip::address_v4> extract(const nat64_prefix& prefix,
                                                   const boost::asio::ip::address_v6& v6);

/// RFC 8305 §7 / draft-ietf-happy-happyeyeballs-v3: IPv4 destinations never synthesized, as a
/// NAT64 cannot reach them for this host: 0.0.0.0/8, 127.0.0.0/8, 169.254.0.0/16 and
/// 255.255.255.255.
bool may_synthesize(const boost::asio::ip::address_v4& v4) noexcept;

/// RFC 7050 §3: the prefixes found in the AAAA answer for "ipv4only.arpa". Every address is tried
/// at every length of RFC 6052 §2.2; a length is accepted when the address embeds 192.0.0.170 or
/// 192.0.0.171 there with a zero u-octet. Every distinct prefix is kept, in answer order
/// (then in increasing length), duplicates removed. An address that matches no length is ignored.
std::vector<nat64_prefix> discover_nat64_prefixes(
    std::span<const boost::asio::ip::address_v6> ipv4only_arpa_aaaa);

/// The synthesized destinations for `v4` under every valid prefix, in prefix order, duplicates
/// removed (empty when may_synthesize(v4) is false).
std::vector<boost::asio::ip::address_v6> synthesize_all(std::span<const nat64_prefix> prefixes,
                                                        const boost::asio::ip::address_v4& v4);

/// If `v6` is a synthesized address under one of `prefixes` (the first that matches), the IPv4
/// address it stands for.
std::optional<boost::asio::ip::address_v4> synthesized_from(std::span<const nat64_prefix> prefixes,
                                                            const boost::asio::ip::address_v6& v6);

/// The discovered prefixes of the current network with their expiry. Fed with the current time:
/// it never reads a clock. An entry lasts until `now + ttl` (exclusive) or until invalidate()
/// (a network change: the prefix is then learned again).
class nat64_cache {
  public:
    /// The lifetime of an entry whose TTL is 0 or unknown.
    static constexpr duration default_ttl = std::chrono::minutes(10);
    /// The longest lifetime of an entry, whatever the TTL says.
    static constexpr duration max_ttl = std::chrono::hours(24);
    /// The longest lifetime of a negative entry, so a NAT64 that appears is found soon.
    static constexpr duration max_negative_ttl = std::chrono::seconds(60);

    /// Remembers `prefixes` from an ipv4only.arpa answer whose TTL is `ttl` (0 = unknown), in
    /// place of any earlier entry. An empty `prefixes` is a negative entry, as store_none.
    void store(time_point now,
               std::vector<nat64_prefix> prefixes,
               std::chrono::seconds ttl = std::chrono::seconds(0));

    /// Remembers "this network has no NAT64" for min(ttl, max_negative_ttl) (`ttl` 0 = unknown,
    /// then max_negative_ttl), so a dial does not query ipv4only.arpa every time.
    void store_none(time_point now, std::chrono::seconds ttl = std::chrono::seconds(0));

    /// The prefixes stored, an empty vector for a negative entry, or nothing when no entry is
    /// stored, it expired or it was invalidated.
    std::optional<std::vector<nat64_prefix>> lookup(time_point now) const;

    /// Forgets the entry (the network changed).
    void invalidate() noexcept;

  private:
    std::vector<nat64_prefix> prefixes_;
    time_point expires_{};
    bool stored_ = false;
};

}  // namespace happy_dial::core
