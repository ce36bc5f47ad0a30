// Value types shared by the sans-I/O dial engine and its drivers.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/container/small_vector.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <optional>

namespace happy_dial::core {

/// The engine's notion of time. The engine never reads a clock: every input carries "now".
using clock = std::chrono::steady_clock;
using time_point = clock::time_point;
using duration = clock::duration;

using endpoint = boost::asio::ip::tcp::endpoint;
using error_code = boost::system::error_code;

/// A vector whose first N elements live inside the object: a healthy dial (one or two
/// addresses, one attempt) then needs no heap allocation for its bookkeeping.
template <class T, std::size_t N>
using small_vector = boost::container::small_vector<T, N>;

/// Identifies one connection attempt within one dial (dense, starting at 0 in start order).
using attempt_id = std::size_t;

enum class address_family { ipv6, ipv4 };

/// Which families to use and which to try first (RFC 8305 §4).
enum class family_preference { prefer_ipv6, prefer_ipv4, ipv6_only, ipv4_only };

/// How a dial is cancelled (mirrors Asio's cancellation types).
enum class cancel_kind {
    /// Stop everything now: cancel running attempts, complete with operation_aborted.
    terminal,
    /// Start no new attempt; running attempts may still win. Completes with operation_aborted
    /// when none of them does.
    partial,
};

inline address_family family_of(const endpoint& ep) noexcept {
    return ep.address().is_v6() ? address_family::ipv6 : address_family::ipv4;
}

inline const char* to_string(address_family f) noexcept {
    return f == address_family::ipv6 ? "ipv6" : "ipv4";
}

}  // namespace happy_dial::core
