// What a dial is asked to reach, parsed and checked before any lookup (RFC 8305 §3 input).
#pragma once

#include <happy_dial/core/types.hpp>

#include <boost/asio/ip/address.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace happy_dial::core {

/// A host and service, checked. Pure: no lookup, no clock, no socket.
struct dial_target {
    std::string host;                                 ///< without the brackets of "[v6]"
    std::string service;                              ///< as given
    std::optional<unsigned short> port;               ///< set when the service is numeric
    std::optional<boost::asio::ip::address> literal;  ///< set when the host is an IP literal
    error_code error;  ///< empty_host, invalid_host or invalid_service; the rest is then unset

    /// An IP literal with a numeric port: nothing to look up (RFC 8305 §3 does not apply).
    bool needs_lookup() const noexcept { return !(literal && port); }
    /// The endpoint of a literal with a numeric port.
    endpoint literal_endpoint() const { return {*literal, *port}; }
};

/// Checks and splits `host` ("example.com", "192.0.2.1", "2001:db8::1" or "[2001:db8::1]") and
/// `service` ("443" or a name such as "https", which a lookup resolves).
dial_target parse_target(std::string_view host, std::string_view service);

/// Validates a host name: error::empty_host, error::invalid_host (longer than 253 bytes, or a
/// character that is neither a letter, digit, '-', '.', '_', nor part of an IPv6 literal).
error_code check_host(std::string_view host);

/// Validates a service: error::invalid_service when empty, or numeric and outside 1..65535.
/// Sets `port` when the service is numeric (leading zeros allowed, as getaddrinfo reads them).
error_code check_service(std::string_view service, std::optional<unsigned short>& port);

}  // namespace happy_dial::core
