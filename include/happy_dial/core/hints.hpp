// What a dial knows before it starts, beyond its options: facts about addresses (from a
// dial_history) that the engine turns into an order and a delay per attempt.
#pragma once

#include <happy_dial/core/types.hpp>

#include <boost/asio/ip/address.hpp>

#include <optional>

namespace happy_dial::core {

/// What is known about one destination address. Every field is optional knowledge: an address
/// with no hint sorts by RFC 6724's static rules only and gets the configured attempt delay.
struct address_hint {
    boost::asio::ip::address address;  ///< the destination (any port)
    /// The source address the kernel would use (a UDP connect() probe, RFC 6724 §6); empty
    /// when not probed. Used by rules 2 and 5.
    std::optional<boost::asio::ip::address> source;
    /// The probe found no route: RFC 6724 rule 1, "avoid unusable destinations".
    bool no_route = false;
    /// A recent attempt failed, timed out, or was still pending when another one won: sorted
    /// last while the penalty lasts (rule 1 again: known unusable for now).
    bool penalised = false;
    /// It won a dial before (the v3 draft's "prefer used addresses" rule).
    bool used_before = false;
    /// Smoothed connect RTT (RFC 6298 SRTT), for the RTT rule (25 ms buckets).
    std::optional<duration> rtt;
    /// How long to wait after starting this address before starting the next one (RFC 8305
    /// §5 "MAY be dynamic"); empty = the configured Connection Attempt Delay.
    std::optional<duration> attempt_delay;
};

/// Everything a history (or the caller) tells one dial.
struct dial_hints {
    /// Order addresses across families by RFC 6724 §6 (rules 1, 2, 5, 6, 8), then the RTT rule,
    /// then "used before", before the §4 interleave. Off: wave-1 order (the resolver's order
    /// within a family, the configured family first).
    bool sort = false;
    /// The host has no IPv6 route: no AAAA query, no Resolution Delay waiting for one.
    bool skip_ipv6_lookup = false;
    /// Facts per address, sorted by address (dial_engine::add_hint keeps the order). Two
    /// live inside the object: a repeat dial to a one- or two-address host allocates nothing.
    small_vector<address_hint, 2> addresses;
};

}  // namespace happy_dial::core
