// The dial engine's parameters, with RFC 8305 defaults, and their validation.
#pragma once

#include <happy_dial/core/types.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>

namespace happy_dial::core {

using namespace std::chrono_literals;

/// RFC 8305 §8 parameter values and the bounds happy_dial enforces.
namespace limits {
/// §3 / §8: Resolution Delay default.
inline constexpr duration default_resolution_delay = 50ms;
/// §5 / §8: Connection Attempt Delay default.
inline constexpr duration default_attempt_delay = 250ms;
/// §5: "MUST NOT ... start a connection attempt within 10 ms of the previous one" (hard floor).
inline constexpr duration min_attempt_delay = 10ms;
/// §5: "SHOULD have a Maximum Connection Attempt Delay", §8: 2 seconds.
inline constexpr duration max_attempt_delay = 2s;
/// happy_dial's own bound: the resolution delay is capped like the attempt delay.
inline constexpr duration max_resolution_delay = 2s;
/// Values above this are treated as mistakes (e.g. seconds passed as milliseconds) and rejected.
inline constexpr duration absurd = std::chrono::hours(24);
}  // namespace limits

/// Everything the engine needs to decide; the Asio layer fills it from dial_options.
struct engine_config {
    /// §3: how long to wait for the preferred family's answer once the other family answered.
    /// 0 means "do not wait". Clamped to at most 2 s.
    duration resolution_delay = limits::default_resolution_delay;
    /// §5: delay between starting attempts. Clamped to [10 ms, 2 s]; 0 or negative is an error.
    duration connection_attempt_delay = limits::default_attempt_delay;
    /// §4: which families to use and which first.
    family_preference preference = family_preference::prefer_ipv6;
    /// §4: how many addresses of the preferred family come before the first of the other one.
    unsigned first_address_family_count = 1;
    /// Overall deadline from start(); empty = none. Delays are shortened so that every address
    /// is attempted before it expires.
    std::optional<duration> overall_timeout;
    /// Abandon one attempt whose transport has not connected after this long (outcome
    /// timed_out); empty = let the OS decide.
    std::optional<duration> attempt_timeout;
    /// Abandon one attempt whose transport connected but whose stage (on_attempt_connected) has
    /// not finished after this long from the connect (outcome timed_out); empty = no limit.
    std::optional<duration> handshake_timeout;
    /// When an attempt's transport connects while its stage still runs, the next attempt
    /// starts no earlier than this long after the connect (the Happy Eyeballs v3 draft's timer
    /// extension, so that a slow handshake is not raced at once). Empty: that attempt's own
    /// delay, i.e. the Connection Attempt Delay restarts at the connect; zero: no extension.
    /// Under a deadline it is capped like the attempt delay.
    std::optional<duration> handshake_grace;
    /// At most this many attempts in flight at once; 0 = no cap.
    std::size_t max_concurrent_attempts = 0;
    /// Refuses endpoints before any SYN is sent (an SSRF guard): return false to skip one.
    std::function<bool(const endpoint&)> endpoint_filter;
    /// Keep every answer's endpoints with their fate in the trace (dial_trace::endpoints). The
    /// Asio layer turns it off when nobody asked for a report or an observer: then the healthy
    /// path does not pay for it.
    bool trace_endpoints = true;
};

/// Checks every option; returns the happy_dial::error that describes the first bad one.
error_code validate(const engine_config& config);

/// A copy of a valid config with the delays clamped to the RFC bounds.
engine_config normalize(engine_config config);

/// True when `ep` is a unicast IPv4/IPv6 address (not unspecified, multicast or broadcast)
/// with a non-zero port: the only endpoints the engine will attempt.
bool is_dialable(const endpoint& ep) noexcept;

}  // namespace happy_dial::core
