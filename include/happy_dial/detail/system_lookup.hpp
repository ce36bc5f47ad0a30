// Per-family getaddrinfo through ip::tcp::resolver, on happy_dial's own resolver threads.
#pragma once

#include <happy_dial/transport.hpp>

namespace happy_dial::detail {

/// Runs `query` on a process-wide pool of resolver threads and calls `done` there. Asio's own
/// async_resolve runs every lookup of an execution context on one thread (Boost 1.81), so the
/// AAAA and A queries of a dial would be serialized; these threads run them concurrently.
void system_lookup(lookup_query query, dial_transport::answer_handler done);

/// Validates a host name: error::empty_host, error::invalid_host (longer than 253 bytes, or a
/// character that is neither a letter, digit, '-', '.', '_', nor part of an IPv6 literal).
boost::system::error_code check_host(std::string_view host);

/// Validates a service: error::invalid_service when empty, or numeric and outside 1..65535.
/// Sets `port` when the service is numeric.
boost::system::error_code check_service(std::string_view service,
                                        std::optional<unsigned short>& port);

}  // namespace happy_dial::detail
