// Dialing through a proxy: Happy Eyeballs to the proxy's addresses, then the proxy's handshake
// (SOCKS5, RFC 1928/1929, or HTTP CONNECT, RFC 9110 §9.3.6) on each attempt before it may win,
// then (async_dial_tls) TLS to the origin. A proxy that is black-holed, refuses the target or
// answers garbage on one address loses the race like a dead path.
#pragma once

#include <happy_dial/handshake.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

namespace happy_dial {

/// The proxy protocol of a proxy_config.
enum class proxy_protocol {
    socks5,        ///< RFC 1928, with RFC 1929 username/password when a username is set
    http_connect,  ///< an HTTP/1.1 CONNECT request (RFC 9110 §9.3.6)
};

/// A proxy to dial through (dial_options::proxy). The dial resolves and races `host` and
/// `port` (the proxy's addresses), and asks the proxy on each attempt for the dial's own host
/// and service, whose service must then be a port number.
struct proxy_config {
    proxy_protocol protocol = proxy_protocol::socks5;  ///< how to talk to the proxy
    std::string host;                                  ///< the proxy's name or IP literal
    std::string port;                                  ///< the proxy's port (or service name)
    /// Credentials: RFC 1929 for SOCKS5 (each 1..255 bytes), `Proxy-Authorization: Basic`
    /// for HTTP CONNECT. Empty username = none.
    std::string username{};
    std::string password{};  ///< with `username`
    /// SOCKS5: send the origin's host name for the proxy to resolve (true, "socks5h://"), or
    /// resolve it here and send its first address (false, "socks5://"). IP literals are always
    /// sent as addresses; HTTP CONNECT always sends the name.
    bool remote_dns = true;
    /// The longest proxy reply accepted (an HTTP proxy sending an endless header is cut off
    /// with error::proxy_reply_too_long). At least 64.
    std::size_t max_reply_bytes = 8192;
};

/// Parses a proxy URL: `socks5://`, `socks5h://` or `http://`, then optional
/// `user:password@` (percent-encoded), then `host:port` (IPv6 literals in brackets). The port
/// is required. Returns error::invalid_proxy for anything else.
boost::system::error_code parse_proxy_url(std::string_view url, proxy_config& out);

/// The reply codes of a SOCKS5 server that refused a CONNECT (RFC 1928 §6), as error values of
/// socks5_category(). Codes not listed keep their number.
enum class socks5_reply {
    general_failure = 1,        ///< X'01' general SOCKS server failure
    not_allowed = 2,            ///< X'02' connection not allowed by ruleset
    network_unreachable = 3,    ///< X'03' network unreachable
    host_unreachable = 4,       ///< X'04' host unreachable
    connection_refused = 5,     ///< X'05' connection refused
    ttl_expired = 6,            ///< X'06' TTL expired
    command_not_supported = 7,  ///< X'07' command not supported
    address_not_supported = 8,  ///< X'08' address type not supported
};

/// The category of socks5_reply ("happy_dial.socks5"); its conditions map codes 3, 4, 5 and 6
/// to errc::network_unreachable, host_unreachable, connection_refused and timed_out.
const boost::system::error_category& socks5_category() noexcept;

/// Makes an error_code of socks5_category().
inline boost::system::error_code make_error_code(socks5_reply r) noexcept {
    return {static_cast<int>(r), socks5_category()};
}

/// The category of an HTTP proxy's non-2xx answer to CONNECT ("happy_dial.http_proxy"): the
/// error value is the status code (403, 407, 502, ...). 407 maps to errc::permission_denied, 504
/// to errc::timed_out, 502 and 503 to errc::connection_refused.
const boost::system::error_category& http_proxy_category() noexcept;

/// The error for an HTTP proxy's answer with status `status` (one value per status).
inline boost::system::error_code make_http_proxy_error(int status) noexcept {
    return {status, http_proxy_category()};
}

/// The SOCKS5 client handshake as a stage (dial_options::handshake, or made by the dial for
/// dial_options::proxy): greeting, RFC 1929 authentication when configured, CONNECT to
/// `target_host`:`target_port`. Works on the attempt's socket in place and reads no byte past
/// the proxy's reply, so the origin's first bytes stay for the caller.
///
/// Errors: socks5_reply values for a refusal; error::proxy_auth_rejected,
/// proxy_no_acceptable_auth, proxy_protocol_error, proxy_closed for the rest; the resolver's for
/// a local lookup of the target (remote_dns = false).
std::shared_ptr<handshake_stage> make_socks5_stage(proxy_config proxy,
                                                   std::string_view target_host,
                                                   std::uint16_t target_port);

/// The HTTP CONNECT handshake as a stage: sends `CONNECT host:port HTTP/1.1` (with Host and,
/// with a username, Proxy-Authorization: Basic), reads the answer up to its blank line and no
/// further. A 2xx status lets the attempt win; any other is make_http_proxy_error(status). A
/// reply longer than max_reply_bytes is error::proxy_reply_too_long.
std::shared_ptr<handshake_stage> make_http_connect_stage(proxy_config proxy,
                                                         std::string_view target_host,
                                                         std::uint16_t target_port);

/// make_socks5_stage() or make_http_connect_stage() by `proxy.protocol`.
std::shared_ptr<handshake_stage> make_proxy_stage(const proxy_config& proxy,
                                                  std::string_view target_host,
                                                  std::uint16_t target_port);

}  // namespace happy_dial

namespace boost::system {
template <>
struct is_error_code_enum<happy_dial::socks5_reply> : std::true_type {};
}  // namespace boost::system
