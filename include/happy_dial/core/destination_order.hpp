// RFC 6724 §6 destination address selection across families, extended by the Happy Eyeballs v3
// draft's history rules. Pure functions: no socket, no clock.
#pragma once

#include <happy_dial/core/hints.hpp>
#include <happy_dial/core/types.hpp>

#include <boost/asio/ip/address.hpp>

namespace happy_dial::core {

/// RFC 6724 §2.1 default policy table: precedence of `a` (IPv4 as ::ffff:a.b.c.d).
int rfc6724_precedence(const boost::asio::ip::address& a) noexcept;
/// RFC 6724 §2.1 default policy table: label of `a`.
int rfc6724_label(const boost::asio::ip::address& a) noexcept;
/// RFC 6724 §3.1 scope (RFC 4291 values; IPv4 loopback and link-local are link-local, 2).
int rfc6724_scope(const boost::asio::ip::address& a) noexcept;

/// Width of one bucket of the RTT rule: RTTs closer than this count as equal (Apple's 25 ms
/// leeway, v6ops mailing list 2015).
inline constexpr duration rtt_bucket = std::chrono::milliseconds(25);

/// Whether `a` should be tried before `b`. `hint_a`/`hint_b` may be null (nothing known).
/// Rules in order: 1 (no route, penalised), `first` (the caller's explicit family choice, when
/// set), 2 (matching scope), 5 (matching label), 6 (higher precedence), 8 (smaller scope),
/// the RTT rule (lower 25 ms bucket; a measured address before an unmeasured one), "used
/// before"; equal addresses keep their order (rule 10, a stable sort).
bool comes_before(const boost::asio::ip::address& a,
                  const address_hint* hint_a,
                  const boost::asio::ip::address& b,
                  const address_hint* hint_b,
                  std::optional<address_family> first = std::nullopt) noexcept;

/// The Connection Attempt Delay for an address with smoothed RTT `srtt` and variance `rttvar`:
/// clamp(SRTT + 4 * RTTVAR, floor, 2 s), the RFC 6298 retransmission timeout shape (the v3
/// draft: the delay approximates the first SYN retransmission). `floor` is raised to 10 ms.
duration attempt_delay_from_rtt(duration srtt, duration rttvar, duration floor) noexcept;

}  // namespace happy_dial::core
