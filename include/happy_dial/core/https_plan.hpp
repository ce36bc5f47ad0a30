// How a dial uses an origin's HTTPS records (RFC 9460; draft-ietf-happy-happyeyeballs-v3 §4):
// which records count, in which order, which endpoints they make of the origin's addresses and
// hints, and how long address answers wait for them. Pure: no clock, no socket.
#pragma once

#include <happy_dial/core/svcb.hpp>
#include <happy_dial/core/types.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace happy_dial::core {

/// The ALPN ids a TCP client speaks unless told otherwise: HTTP/2 and HTTP/1.1 (a TCP dial
/// cannot use an "h3"-only service).
std::vector<std::string> default_tcp_alpns();

/// Endpoints made from HTTPS records, with the service group of each (lower groups are tried
/// first; core::resolution_answer::groups).
struct service_endpoints {
    std::vector<endpoint> endpoints;    ///< in the order they are tried within their group
    std::vector<std::uint16_t> groups;  ///< per endpoint, its service group
};

/// The HTTPS records of one dial, and the endpoints they make.
///
/// A record is usable when it is a ServiceMode record (priority > 0), every key its "mandatory"
/// list names is one this plan knows (RFC 9460 §8: keys 1-6), and its ALPN set
/// (service_record::alpn_set) shares an id with the caller's (v3 draft §4: others are
/// skipped). Usable records are grouped (v3 draft §4, "Grouping and Sorting") first by
/// application protocol, the caller's most preferred id the record offers (the caller's ids are
/// in preference order), then by SvcPriority; the records of one group are in an order
/// shuffled by the seed (RFC 9460 §2.4.1: "SHOULD be selected randomly"). Addresses without a
/// usable service form the last group. The client here speaks TCP only and does no ECH, so the
/// v3 draft's grouping by security (ECH) has nothing to tell apart: "ech" goes to the handshake
/// stage as it came (dial_core, handshake_stage::prepare).
///
/// A record whose target is "." or the origin's host serves the origin's own A/AAAA addresses;
/// another target's addresses are its hints until that name's own A/AAAA answers come
/// (RFC 9460 §3: the client resolves the TargetName).
class https_plan {
  public:
    /// `origin`: the dial's host (lower case); `port`: the dial's port; `alpns`: the ids the
    /// caller speaks (empty: every record is usable); `seed`: orders ties.
    https_plan(std::string origin,
               std::uint16_t port,
               std::vector<std::string> alpns,
               std::uint64_t seed);

    /// The answer's records (AliasMode ones are ignored here: the caller follows them).
    void set_records(std::span<const service_record> records);
    /// Whether set_records was called.
    bool answered() const noexcept { return answered_; }
    /// The usable records, in the order they are tried.
    const std::vector<service_record>& usable() const noexcept { return usable_; }
    /// The service group of usable()[i]: equal for records with the same application protocol
    /// rank and SvcPriority, increasing in usable() order.
    std::uint16_t group_of(std::size_t i) const noexcept { return groups_[i]; }
    /// The group of addresses without a usable service: after every service's.
    std::uint16_t no_service_group() const noexcept {
        return groups_.empty() ? std::uint16_t{0} : static_cast<std::uint16_t>(groups_.back() + 1);
    }
    /// The usable record an endpoint made here belongs to: the first, in usable() order, on the
    /// endpoint's port for another target that lists the address as a hint or among the
    /// target's addresses (add_target_addresses); else the first on that port that serves the
    /// origin. Null for an endpoint without a service.
    const service_record* record_for(const endpoint& ep) const noexcept;
    /// Of `r`'s ALPN set, the ids the caller speaks, in the record's order (all of them
    /// when the caller named none).
    std::vector<std::string> shared_alpns(const service_record& r) const;

    /// The endpoints of family `f` when the records arrive, in the order they are tried: per
    /// usable record, in record order and with the record's port (RFC 9460 §7.2), the origin's
    /// addresses (`origin`, when its A or AAAA answer is in) or else the record's hints of `f`
    /// (RFC 9460 §7.3: provisional until that answer comes); the hints of records for other
    /// targets; last, when no usable record serves the origin, the origin's addresses with the
    /// dial's port (endpoints without a service).
    service_endpoints endpoints(address_family f, const std::vector<endpoint>* origin) const;

    /// The endpoints of the origin's addresses in an A or AAAA answer that comes after the
    /// records: each address once per usable record that serves the origin, in record order,
    /// with that record's port; without such a record, each address with the dial's port.
    service_endpoints endpoints_of(std::span<const endpoint> addresses) const;

    /// Of the origin records' hints of family `f`, those the origin's answer `addresses` does
    /// not hold: provisional until the answer came, they are withdrawn now (v3 draft §4).
    std::vector<endpoint> unconfirmed_hints(address_family f,
                                            std::span<const endpoint> addresses) const;

    /// The target names other than the origin's whose A/AAAA the dial looks up, in usable()
    /// order, each once, at most max_target_lookups of them.
    std::vector<std::string> other_targets() const;

    /// Takes `target`'s addresses from its A or AAAA answer and returns their endpoints: each
    /// address once per usable record with that target, in record order, with the record's
    /// port and group.
    service_endpoints add_target_addresses(std::string_view target,
                                           std::span<const endpoint> addresses);

    /// Of the hints of `target`'s records of family `f`, those its answer `addresses` does not
    /// hold: withdrawn once the answer is in, as for the origin.
    std::vector<endpoint> unconfirmed_target_hints(std::string_view target,
                                                   address_family f,
                                                   std::span<const endpoint> addresses) const;

    /// Whether `r` serves the origin's own addresses.
    bool serves_origin(const service_record& r) const noexcept;

  private:
    bool usable(const service_record& r) const;
    std::size_t alpn_rank(const service_record& r) const;

    std::string origin_;
    std::uint16_t port_;
    std::vector<std::string> alpns_;
    std::uint64_t seed_;
    bool answered_ = false;
    std::vector<service_record> usable_;
    std::vector<std::uint16_t> groups_;  // per usable_ record
    // The addresses of other targets' A/AAAA answers, by target name.
    std::vector<std::pair<std::string, boost::asio::ip::address>> target_addresses_;
};

/// v3 draft §4: once one address answer is in, the dial waits at most the Resolution Delay
/// for the HTTPS answer; an HTTPS query never answered costs no more.
inline time_point hold_address_answers_until(time_point first_address_answer,
                                             duration resolution_delay) {
    return first_address_answer + resolution_delay;
}

/// At most this many service target names are looked up per dial (each costs an A and an AAAA
/// query); services of further targets are reached through their hints.
constexpr unsigned max_target_lookups = 4;

/// AliasMode chains (RFC 9460 §2.4.2) are followed at most this deep (§3: clients SHOULD bound
/// them; 8 as for CNAME chains in common resolvers).
constexpr unsigned max_alias_depth = 8;

}  // namespace happy_dial::core
