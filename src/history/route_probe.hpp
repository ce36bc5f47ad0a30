// Route probes with a UDP socket's connect(): the kernel picks a route and a source address
// and sends nothing (RFC 6724 §6 suggests this to find Source(D)).
#pragma once

#include <boost/asio/ip/address.hpp>

#include <optional>

namespace happy_dial::detail {

/// The source address the kernel would use to reach `destination`, or nothing when it has no
/// route to it (or the family is not supported at all).
std::optional<boost::asio::ip::address> probe_source(const boost::asio::ip::address& destination);

}  // namespace happy_dial::detail
