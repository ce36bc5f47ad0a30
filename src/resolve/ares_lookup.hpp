// Lookups on c-ares: the per-family host lookup of a dial and the raw query entry point.
#pragma once

#include <happy_dial/transport.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace happy_dial::detail {

/// Resolves `query` (one family) with c-ares on `query.executor`; `done` runs on a strand of
/// it, never inside this call. query.cancellation ends the lookup (operation_aborted).
void ares_host_lookup(lookup_query query, dial_transport::answer_handler done);

/// The raw answer of one query (class IN, any type), its bytes as the server sent them.
using raw_answer_handler =
    std::function<void(boost::system::error_code, std::vector<std::uint8_t>)>;

/// Sends one query for `name` and `type` (no search list: `name` is absolute) with c-ares.
void ares_raw_query(const boost::asio::any_io_executor& executor,
                    std::string name,
                    std::uint16_t type,
                    boost::asio::cancellation_slot slot,
                    raw_answer_handler done);

}  // namespace happy_dial::detail
