// Per-family getaddrinfo on happy_dial's own resolver threads, and service names.
#pragma once

#include <happy_dial/transport.hpp>

#include <boost/asio/execution_context.hpp>

#include <optional>
#include <string_view>

namespace happy_dial::detail {

/// Runs `query` on the lookup threads of `context` (detail::lookup_threads) and calls `done`
/// there. Asio's own async_resolve runs every lookup of an execution context on one thread
/// (Boost 1.81), so the AAAA and A queries of a dial would be serialized, and a lost query would
/// stall every other lookup; these threads run them concurrently.
///
/// The answer keeps NODATA (the name exists, no record of this family: an empty answer without
/// error) apart from NXDOMAIN (asio::error::host_not_found), which Asio's resolver merges.
void system_lookup(boost::asio::execution_context& context,
                   lookup_query query,
                   dial_transport::answer_handler done);

/// The TCP port of `service`: a number in 1..65535 or a name of the services database
/// (/etc/services, e.g. "https"), as getaddrinfo reads it; empty when it is neither. Never throws.
std::optional<unsigned short> service_port(std::string_view service);

}  // namespace happy_dial::detail
