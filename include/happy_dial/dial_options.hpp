// Options of a dial, with RFC 8305 defaults.
#pragma once

#include <happy_dial/core/engine_config.hpp>
#include <happy_dial/core/types.hpp>
#include <happy_dial/proxy.hpp>
#include <happy_dial/resolver.hpp>

#include <boost/asio/ip/resolver_base.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace happy_dial {

using core::family_preference;
struct dial_report;
class dial_transport;
class dial_history;
class dial_observer;
class handshake_stage;

/// Whether IPv4 destinations may be reached through the network's NAT64 (RFC 8305 §7).
enum class nat64_mode {
    /// When the host has no route to an IPv4 destination (an IPv6-only network), find the
    /// network's NAT64 prefixes (RFC 7050: an AAAA query for ipv4only.arpa, cached for its TTL
    /// and until a network change) and dial the IPv6 addresses they make of it (RFC 6052)
    /// instead. Never for 0/8, 127/8, 169.254/16 or 255.255.255.255. Costs one route probe (a
    /// UDP connect(), no packet) per dial to a synthesizable IPv4 address.
    automatic,
    off,  ///< dial IPv4 destinations as they are (no route: error network_unreachable)
};

/// Whether a dial asks for its origin's HTTPS records (RFC 9460) and uses them.
enum class https_records_mode {
    off,  ///< no HTTPS query (the default)
    /// The Happy Eyeballs v3 draft's behaviour (docs/hev3.md): query HTTPS alongside AAAA and A
    /// (through c-ares, whatever `resolver` says; without c-ares, or with a custom `transport`
    /// or a `proxy`, the dial goes on without records), wait at most the Resolution Delay for
    /// it after the first address answer, follow AliasMode records, use the hints until A/AAAA
    /// arrive, the services' ports, and try services by priority; services whose ALPN set
    /// shares nothing with `supported_alpns` are skipped.
    opportunistic,
};

/// Everything that tunes one dial. The defaults are RFC 8305's (§8).
struct dial_options {
    /// RFC 8305 §3: after an IPv4 answer, wait this long for the IPv6 one (50 ms). 0 = don't wait.
    /// At most 2 s.
    std::chrono::milliseconds resolution_delay{50};
    /// RFC 8305 §5: stagger between attempt starts (250 ms). Clamped to [10 ms, 2 s].
    std::chrono::milliseconds connection_attempt_delay{250};
    /// RFC 8305 §4: which families to use and which to try first.
    family_preference family = family_preference::prefer_ipv6;
    /// RFC 8305 §4: preferred-family addresses tried before the first of the other family.
    unsigned first_address_family_count = 1;
    /// Overall deadline (resolution included); the dial completes with error::timed_out when it
    /// expires. Delays shrink so that every address is attempted before it. Empty = none.
    std::optional<std::chrono::milliseconds> timeout;
    /// Gives up on one attempt whose TCP connect has not completed after this long (its error:
    /// error::attempt_timed_out) and moves on at once. Empty = the operating system's connect
    /// timeout.
    std::optional<std::chrono::milliseconds> attempt_timeout;
    /// With a `handshake` or `proxy`: gives up on one attempt whose stages have not finished
    /// this long after its TCP connect (its error: error::handshake_timed_out) and moves on at
    /// once. Empty = none.
    std::optional<std::chrono::milliseconds> handshake_timeout;
    /// With a `handshake` or `proxy`: when an attempt's TCP connect completes, the next attempt
    /// starts no earlier than this long after it (the Happy Eyeballs v3 draft's timer
    /// extension). Empty = the Connection Attempt Delay restarts at the connect; 0 = no
    /// extension. At most 2 s.
    std::optional<std::chrono::milliseconds> handshake_grace;
    /// What runs on each attempt after its TCP connect and before it may win
    /// (happy_dial/handshake.hpp; async_dial_tls() in happy_dial/tls.hpp sets a TLS handshake).
    /// Null (the default) = an attempt wins when TCP connects.
    std::shared_ptr<handshake_stage> handshake;
    /// Dial through this proxy (happy_dial/proxy.hpp): race the proxy's addresses, and on each
    /// attempt ask the proxy for the dial's host and service before `handshake` runs (TLS to
    /// the origin). The dial needs a host and service then (error::invalid_proxy for
    /// endpoints). Empty (the default) = connect directly.
    std::optional<proxy_config> proxy;
    /// At most this many attempts in flight at once. 0 = no cap.
    std::size_t max_concurrent_attempts = 0;
    /// Called with each attempt's socket after it is opened and before it connects: bind a
    /// local address per family, set options. Setting `ec` (or throwing, reported as
    /// error::setup_hook_threw) fails that attempt only.
    std::function<void(boost::asio::ip::tcp::socket&,
                       const boost::asio::ip::tcp::endpoint&,
                       boost::system::error_code&)>
        socket_setup;
    /// Return false to refuse an endpoint before any packet is sent to it (an SSRF guard).
    std::function<bool(const boost::asio::ip::tcp::endpoint&)> endpoint_filter;
    /// getaddrinfo flags for host lookups. numeric_service is added for numeric ports. The
    /// default sets no flag: AI_ADDRCONFIG would hide loopback-only families and V4MAPPED would
    /// turn IPv4 answers into IPv6 ones.
    boost::asio::ip::resolver_base::flags resolver_flags{};
    /// Which resolver answers the lookups (docs/resolvers.md). automatic = the I/O context's
    /// choice (configure_resolvers), by default c-ares when it answers as getaddrinfo would.
    resolver_backend resolver = resolver_backend::automatic;
    /// HTTPS records (docs/hev3.md): off by default.
    https_records_mode https_records = https_records_mode::off;
    /// With `https_records`: the ALPN ids this client speaks over TCP; services offering none
    /// of them are skipped. Empty (the default, which allocates nothing) = "h2" and "http/1.1"
    /// (core::default_tcp_alpns).
    std::vector<std::string> supported_alpns;
    /// With `https_records`: orders services of equal priority (RFC 9460 §2.4.1 wants them
    /// random). Empty = a fresh random order per dial; a value replays one order (tests).
    std::optional<std::uint64_t> https_shuffle_seed;
    /// IPv4 destinations on an IPv6-only network (docs/hev3.md): through the NAT64 (the
    /// default) or as they are.
    nat64_mode nat64 = nat64_mode::automatic;
    /// What earlier dials learned (docs/history.md): with a history, addresses are ordered by
    /// RFC 6724 and their past outcomes, the first family and each attempt's delay follow from
    /// them, and the dial's outcome is recorded. Null (the default) = no memory between dials.
    std::shared_ptr<dial_history> history;
    /// The history's privacy boundary: dials with different partitions share nothing.
    std::string history_partition;
    /// When set, filled with the dial's attempt and answer records before the completion
    /// handler runs (on success and on failure). Must outlive the operation.
    dial_report* report = nullptr;
    /// Told of every step of the dial as it happens (happy_dial/observer.hpp: where its calls
    /// run and what they cost). Null (the default) = nothing is called and nothing is built.
    std::shared_ptr<dial_observer> observer;
    /// Where lookups and connects go. Null = the real network (getaddrinfo and TCP). The test
    /// kit (happy_dial/testing) plugs scripted endpoints in here.
    std::shared_ptr<dial_transport> transport;
};

namespace detail {
/// Milliseconds to the engine's nanoseconds without overflow: values beyond what validate()
/// accepts are clamped to just beyond it, so they stay rejected (converted as they are, a count
/// near the maximum wrapped around, some even to a small positive, accepted value; issue #7).
inline core::duration saturate(std::chrono::milliseconds value) {
    constexpr auto bound =
        std::chrono::duration_cast<std::chrono::milliseconds>(core::limits::absurd) +
        std::chrono::milliseconds(1);
    return std::clamp(value, -bound, bound);
}
}  // namespace detail

/// The engine's view of `options` (validate() it before use).
inline core::engine_config to_engine_config(const dial_options& options) {
    using detail::saturate;
    core::engine_config c;
    c.resolution_delay = saturate(options.resolution_delay);
    c.connection_attempt_delay = saturate(options.connection_attempt_delay);
    c.preference = options.family;
    c.first_address_family_count = options.first_address_family_count;
    if (options.timeout) {
        c.overall_timeout = saturate(*options.timeout);
    }
    if (options.attempt_timeout) {
        c.attempt_timeout = saturate(*options.attempt_timeout);
    }
    if (options.handshake_timeout) {
        c.handshake_timeout = saturate(*options.handshake_timeout);
    }
    if (options.handshake_grace) {
        c.handshake_grace = saturate(*options.handshake_grace);
    }
    c.max_concurrent_attempts = options.max_concurrent_attempts;
    c.endpoint_filter = options.endpoint_filter;
    c.trace_endpoints = options.report != nullptr || options.observer != nullptr;
    return c;
}

}  // namespace happy_dial
