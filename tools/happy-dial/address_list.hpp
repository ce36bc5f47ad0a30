// --addresses: a comma-separated list of endpoints dialed without resolving anything.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <optional>
#include <string>
#include <vector>

namespace happy_dial::cli {

/// The most entries --addresses takes (a race, not a scan).
inline constexpr std::size_t max_address_entries = 64;

/// Parses "ADDR,ADDR:PORT,[IPv6]:PORT,...". An entry without a port takes `default_port`, the
/// PORT operand (empty when not given); it must then be a number from 1 to 65535. Returns the
/// endpoints in the order given, or puts a message in `error`.
std::optional<std::vector<boost::asio::ip::tcp::endpoint>> parse_address_list(
    const std::string& list, const std::string& default_port, std::string& error);

/// The endpoints as a comma-separated list ("[::1]:8080,127.0.0.1:8080").
std::string format_address_list(const std::vector<boost::asio::ip::tcp::endpoint>& endpoints);

}  // namespace happy_dial::cli
