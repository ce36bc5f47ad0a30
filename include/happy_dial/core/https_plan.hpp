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
#include <vector>

namespace happy_dial::core {

/// The ALPN ids a TCP client speaks unless told otherwise: HTTP/2 and HTTP/1.1 (a TCP dial
/// cannot use an "h3"-only service).
std::vector<std::string> default_tcp_alpns();

/// The HTTPS records of one dial, and the endpoints they make.
///
/// A record is usable when it is a ServiceMode record (priority > 0), every key its "mandatory"
/// list names is one this plan knows (RFC 9460 §8: keys 1-6), and its ALPN set
/// (service_record::alpn_set) shares an id with the caller's (v3 draft §4: others are
/// skipped). Usable records are tried in SvcPriority order, ties in an order shuffled by the
/// seed (RFC 9460 §2.4.1: "SHOULD be selected randomly").
///
/// A record whose target is "." or the origin's host serves the origin's own A/AAAA addresses;
/// another target is reached through the record's hints only (its A/AAAA are not looked up).
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

    /// The endpoints of family `f` when the records arrive, in the order they are tried: per
    /// usable record, in record order and with the record's port (RFC 9460 §7.2), the origin's
    /// addresses (`origin`, when its A or AAAA answer is in) or else the record's hints of `f`
    /// (RFC 9460 §7.3: provisional until that answer comes); the hints of records for other
    /// targets; last, when no usable record serves the origin, the origin's addresses with the
    /// dial's port (endpoints without a service).
    std::vector<endpoint> endpoints(address_family f, const std::vector<endpoint>* origin) const;

    /// The endpoints of the origin's addresses in an A or AAAA answer that comes after the
    /// records: each address once per usable record that serves the origin, in record order,
    /// with that record's port; without such a record, each address with the dial's port.
    std::vector<endpoint> endpoints_of(std::span<const endpoint> addresses) const;

    /// Of the origin records' hints of family `f`, those the origin's answer `addresses` does
    /// not hold: provisional until the answer came, they are withdrawn now (v3 draft §4).
    std::vector<endpoint> unconfirmed_hints(address_family f,
                                            std::span<const endpoint> addresses) const;

    /// Whether `r` serves the origin's own addresses.
    bool serves_origin(const service_record& r) const noexcept;

  private:
    bool usable(const service_record& r) const;

    std::string origin_;
    std::uint16_t port_;
    std::vector<std::string> alpns_;
    std::uint64_t seed_;
    bool answered_ = false;
    std::vector<service_record> usable_;
};

/// v3 draft §4: once one address answer is in, the dial waits at most the Resolution Delay
/// for the HTTPS answer; an HTTPS query never answered costs no more.
inline time_point hold_address_answers_until(time_point first_address_answer,
                                             duration resolution_delay) {
    return first_address_answer + resolution_delay;
}

/// AliasMode chains (RFC 9460 §2.4.2) are followed at most this deep (§3: clients SHOULD bound
/// them; 8 as for CNAME chains in common resolvers).
constexpr unsigned max_alias_depth = 8;

}  // namespace happy_dial::core
