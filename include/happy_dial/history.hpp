// Shared connection history: what earlier dials learned about each destination, turned into
// hints for the next dial (order, first family, attempt delays). Off unless given.
#pragma once

#include <happy_dial/core/hints.hpp>
#include <happy_dial/core/trace.hpp>
#include <happy_dial/core/types.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace happy_dial {

using namespace std::chrono_literals;

/// How long a history keeps what it learned, and how it turns it into hints (docs/history.md).
struct history_settings {
    /// Destinations (partition, host, port) kept; the least recently used goes first.
    std::size_t max_destinations = 1024;
    /// Addresses kept per destination; the least recently used goes first.
    std::size_t max_addresses = 16;
    /// How long a successful connect is remembered (its RTT and "used before").
    std::chrono::milliseconds success_lifetime = 10min;
    /// First penalty of an address that failed, timed out or lost the race while pending: it
    /// sorts last for this long. Each further failure in a row doubles it.
    std::chrono::milliseconds failure_penalty = 60s;
    /// The longest penalty.
    std::chrono::milliseconds max_failure_penalty = 1h;
    /// Floor of an RTT-derived Connection Attempt Delay (RFC 8305 §5 hard floor: 10 ms).
    std::chrono::milliseconds min_attempt_delay = 100ms;
    /// One dial in this many per destination ignores the history, so a path that recovered is
    /// found again (the v3 draft's convergence MUST). 0 = never ignore it.
    unsigned explore_one_in = 32;
    /// Probe routes with UDP connect() (no packet is sent): whether IPv6 is routable at all
    /// (no AAAA query without it) and each address's source address (RFC 6724 rules 1, 2, 5).
    bool probe_routes = true;
    /// The address whose route decides "IPv6 is routable" (Chromium probes the same one).
    boost::asio::ip::address_v6 ipv6_probe_address =
        boost::asio::ip::make_address_v6("2001:4860:4860::8888");
};

/// Checks every setting: error::invalid_history_settings for a zero size or penalty, a
/// maximum below its minimum, an attempt-delay floor outside [10 ms, 2 s], or a duration
/// above 24 h (except max_failure_penalty, up to 7 days).
boost::system::error_code validate(const history_settings& settings);

/// How a remembered attempt ended.
enum class address_outcome {
    connected,    ///< it won a dial
    refused,      ///< connection refused (RST)
    unreachable,  ///< host or network unreachable (ICMP), or another error of its own
    timed_out,    ///< the attempt timeout or the dial's deadline ended it
    slow,         ///< still pending when another attempt won
};

/// "connected", "refused", ...
const char* to_string(address_outcome o) noexcept;

/// Names one destination: a caller-chosen partition (a privacy boundary: nothing learned in
/// one partition is used in another), the host as dialled, and the port.
struct history_key {
    std::string_view partition;  ///< e.g. a user profile or tenant; "" by default
    std::string_view host;       ///< the host as dialled; "" for endpoint-list dials
    unsigned short port = 0;     ///< the port dialled
};

/// One remembered address, as find() shows it.
struct history_entry {
    boost::asio::ip::address address;                      ///< the address
    address_outcome outcome = address_outcome::connected;  ///< its last outcome
    core::time_point last_used{};                          ///< when that outcome was recorded
    std::optional<core::duration> srtt;    ///< smoothed connect RTT (RFC 6298), if measured
    std::optional<core::duration> rttvar;  ///< its variance
    unsigned failures = 0;                 ///< non-successes in a row
    core::time_point penalised_until{};    ///< sorts last until then (failures > 0)
};

/// What one dial took from a history and gave back (part of dial_report).
struct history_use {
    bool explored = false;      ///< this dial ignored the history (explore_one_in)
    std::size_t hints = 0;      ///< remembered addresses handed to the engine
    std::size_t penalised = 0;  ///< of those, sorted last for a penalty
    std::optional<core::address_family> first_family;  ///< the family the history put first
    bool ipv6_routable = true;                         ///< false: no AAAA query was sent
    std::size_t updated = 0;                           ///< addresses recorded after the dial
    std::uint64_t epoch = 0;  ///< the history's epoch (network changes) when the dial started
};

/// The memory shared by dials: per destination, per address outcome, RTT and penalty.
///
/// Thread-safe: every member function may be called from any thread; dials on several
/// threads and contexts share one instance through `dial_options::history`. Bounded: at
/// most max_destinations x max_addresses entries. Times are steady_clock time points passed
/// in, so tests drive it with a fake clock; the dials pass the current time.
class dial_history {
  public:
    /// A history with `settings`; throws boost::system::system_error
    /// (error::invalid_history_settings) when validate() rejects them.
    explicit dial_history(history_settings settings = {});
    ~dial_history();
    dial_history(const dial_history&) = delete;
    dial_history& operator=(const dial_history&) = delete;

    /// Hints for a dial to `key` starting at `now`: every remembered address of the
    /// destination with its penalty, RTT, "used before" and attempt delay. Counts the dial for
    /// explore_one_in; an exploring dial gets sorting without history (and `use->explored`).
    core::dial_hints hints(core::time_point now,
                           const history_key& key,
                           history_use* use = nullptr);

    /// Records what a dial to `key` did: every ended attempt of `trace` (with `result`, the
    /// dial's error: on success an attempt cancelled while pending that started no later than
    /// the winner was "slow", on error::timed_out it timed out; a caller's cancellation
    /// teaches nothing), and the source addresses probed during the dial. With `epoch` (the
    /// one hints() reported), nothing is recorded when the network changed since. Returns the
    /// number of addresses updated.
    std::size_t record(core::time_point now,
                       const history_key& key,
                       const core::dial_trace& trace,
                       boost::system::error_code result,
                       const std::vector<core::address_hint>& probed = {},
                       std::optional<std::uint64_t> epoch = std::nullopt);

    /// What is remembered of `address` for `key` (penalties included, however old).
    std::optional<history_entry> find(const history_key& key,
                                      const boost::asio::ip::address& address) const;

    /// The address of the last winner for `key`, while that success is remembered.
    std::optional<boost::asio::ip::address> last_winner(const history_key& key,
                                                        core::time_point now) const;

    /// The family of the last winner for `key`, while that success is remembered.
    std::optional<core::address_family> last_winning_family(const history_key& key,
                                                            core::time_point now) const;

    /// Whether the host has an IPv6 route (probed once, then cached until network_changed()).
    /// Always true when probe_routes is off.
    bool ipv6_routable();

    /// Forgets everything.
    void clear();

    /// The network changed (an address or route came or went): forgets everything and
    /// probes routes again. network_monitor calls it; so may the application.
    void network_changed();

    /// How many times network_changed() was called.
    std::uint64_t epoch() const;

    /// Destinations remembered.
    std::size_t size() const;

    /// The settings in force.
    const history_settings& settings() const noexcept;

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace happy_dial
