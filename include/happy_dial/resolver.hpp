// Which resolver answers a dial's lookups: getaddrinfo on threads, or c-ares on the I/O context.
// docs/resolvers.md compares them.
#pragma once

#include <boost/asio/execution_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace happy_dial {

/// A resolver backend.
enum class resolver_backend {
    /// The execution context's choice (configure_resolvers); by default Go's rule
    /// (choose_resolver): c-ares when it would answer exactly as getaddrinfo, else system.
    automatic,
    /// getaddrinfo on a pool of threads: honours nsswitch.conf (mDNS, sss, systemd-resolved),
    /// /etc/hosts and resolv.conf, like every other program on the machine. A lookup cannot be
    /// cancelled; an abandoned one finishes on its thread while the dial moves on.
    system,
    /// c-ares on the dial's I/O executor: no threads, true cancellation, TTLs, distinct DNS
    /// errors. Reads /etc/hosts and resolv.conf, nothing else of nsswitch.conf.
    c_ares,
};

/// "automatic", "system" or "c-ares".
const char* to_string(resolver_backend backend) noexcept;

/// Whether this build of the library has the c-ares backend.
bool c_ares_available() noexcept;

/// A resolved choice of backend and why it was made, for reports and `--trace`.
struct resolver_choice {
    resolver_backend backend = resolver_backend::system;  ///< never automatic
    std::string reason;                                   ///< one line, for people
};

/// Go's rule (net/conf.go), as a pure function of the two files' text: c-ares when the `hosts:`
/// line of nsswitch.conf names only `files` and `dns` (in that order, without actions) and
/// resolv.conf has no option c-ares cannot honour; otherwise system. Without c-ares: system.
resolver_choice choose_resolver(std::string_view nsswitch_conf,
                                std::string_view resolv_conf,
                                bool c_ares_built = c_ares_available());

/// Per execution context settings of name resolution.
struct resolver_settings {
    /// What resolver_backend::automatic means on this context. automatic = choose_resolver()
    /// on /etc/nsswitch.conf and /etc/resolv.conf, read once per context.
    resolver_backend backend = resolver_backend::automatic;
    /// The system backend's thread bound: getaddrinfo calls in flight at once. A lost query
    /// holds a thread for the whole resolv.conf retry schedule (5 s x 2 by default), so this
    /// bounds how many lost queries the context survives without delaying other lookups.
    std::size_t max_system_threads = 64;
    /// The DNS servers the c-ares backend asks (in order), instead of resolv.conf's
    /// `nameserver` lines; the rest of resolv.conf (search, ndots, timeout, attempts) still
    /// applies. Empty = resolv.conf's. The system backend always uses resolv.conf's.
    std::vector<boost::asio::ip::udp::endpoint> dns_servers;
};

/// Replaces the resolver settings of `context` (its lookups started afterwards use them).
/// Thread-safe.
void configure_resolvers(boost::asio::execution_context& context,
                         const resolver_settings& settings);

/// The settings of `context`. Thread-safe.
resolver_settings resolver_settings_of(boost::asio::execution_context& context);

/// What a dial on `context` that asks for `requested` uses, and why. Thread-safe.
resolver_choice effective_resolver(boost::asio::execution_context& context,
                                   resolver_backend requested);

}  // namespace happy_dial
