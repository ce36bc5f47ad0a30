// happy_dial's own error codes and their category.
#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace happy_dial {

/// Errors that happy_dial itself reports. Errors from the operating system (connect, getaddrinfo)
/// are passed through unchanged in their own categories.
enum class error {
    /// Resolution finished and produced no address at all (every answer empty or failed without
    /// an error of its own), or an endpoint range was empty.
    no_endpoints = 1,
    /// Every address was refused by the caller's endpoint filter before any SYN was sent.
    all_endpoints_filtered,
    /// The family policy (IPv6 only / IPv4 only) excluded every address.
    family_excluded,
    /// An endpoint is not a usable unicast IP address with a non-zero port
    /// (unspecified, multicast, broadcast or port 0); no usable endpoint was left.
    invalid_endpoint,
    /// The overall dial deadline expired before any attempt connected.
    timed_out,
    /// One connection attempt exceeded the per-attempt timeout (reported per attempt).
    attempt_timed_out,
    /// A delay option is negative, zero where zero is meaningless, or absurdly large.
    invalid_delay,
    /// A timeout option is zero, negative or absurdly large.
    invalid_timeout,
    /// The first address family count is zero.
    invalid_family_count,
    /// The host name is empty.
    empty_host,
    /// The host name is longer than 253 bytes, has an empty label or one over 63 bytes, or holds
    /// characters no host name can hold (non-ASCII names must be IDNA-encoded first).
    invalid_host,
    /// The service is empty, an unknown service name, or a port outside 1..65535.
    invalid_service,
    /// The socket setup hook threw an exception (reported for that attempt).
    setup_hook_threw,
    /// The DNS servers did not answer in time (the c-ares backend; getaddrinfo reports a timeout
    /// and a server failure alike, as asio::error::host_not_found_try_again).
    dns_timed_out,
    /// The DNS server answered SERVFAIL (RFC 1035 §4.1.1 RCODE 2).
    dns_server_failure,
    /// The DNS server refused the query (RCODE 5).
    dns_refused,
    /// The DNS answer was malformed or could not be parsed.
    dns_bad_response,
    /// The resolver backend asked for is not built into this library (c-ares needs
    /// libc-ares-dev at build time).
    resolver_unavailable,
    /// A history_settings value is zero where a positive value is needed, or absurdly large.
    invalid_history_settings,
    /// One attempt's stage (a TLS handshake, ...) exceeded dial_options::handshake_timeout
    /// (reported per attempt).
    handshake_timed_out,
    /// A proxy_config or proxy URL is unusable (unknown scheme, no port, a credential over 255
    /// bytes), or a proxy was asked for without a host and numeric port to ask it for.
    invalid_proxy,
    /// The proxy's reply broke its protocol (a wrong version byte, a malformed status line).
    proxy_protocol_error,
    /// The proxy closed the connection before its reply was complete.
    proxy_closed,
    /// The proxy's reply exceeded proxy_config::max_reply_bytes.
    proxy_reply_too_long,
    /// The SOCKS5 proxy accepts none of the offered authentication methods (RFC 1928 §3 X'FF').
    proxy_no_acceptable_auth,
    /// The SOCKS5 proxy rejected the username and password (RFC 1929 §2 non-zero status).
    proxy_auth_rejected,
};

/// The category of happy_dial::error; its name is "happy_dial".
const boost::system::error_category& error_category() noexcept;

/// Makes an error_code of happy_dial's category.
inline boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), error_category()};
}

}  // namespace happy_dial

namespace boost::system {
template <>
struct is_error_code_enum<happy_dial::error> : std::true_type {};
}  // namespace boost::system
