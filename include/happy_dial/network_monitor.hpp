// A network-change signal for dial_history: a Linux rtnetlink listener that flushes the history
// when an address or a route comes or goes. Optional: nothing starts one unless the application
// does.
//
// Why: RFC 8305 §4 and §5 let a client remember what worked for a destination, and the Happy
// Eyeballs v3 draft (draft-ietf-happy-happyeyeballs-v3) says that history SHOULD be flushed on a
// network change: what a previous network taught (IPv6 black-holed, the faster family, RTTs)
// is wrong on the next one. The Linux kernel announces such changes on the rtnetlink multicast
// groups (rtnetlink(7), netlink(7)).
#pragma once

#include <happy_dial/history.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <memory>

namespace happy_dial {

namespace detail {
struct network_monitor_state;
}  // namespace detail

/// Watches the host's addresses and routes and calls dial_history::network_changed() when they
/// change, so that no dial uses what was learned on another network.
///
/// What it watches (Linux only): a NETLINK_ROUTE socket (an Asio
/// `generic::raw_protocol(AF_NETLINK, NETLINK_ROUTE)` socket) joined to the multicast groups
/// RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR, RTMGRP_IPV4_ROUTE and RTMGRP_IPV6_ROUTE
/// (rtnetlink(7)). Every datagram the kernel sends there is a chain of netlink messages; one
/// that holds at least one RTM_NEWADDR, RTM_DELADDR, RTM_NEWROUTE or RTM_DELROUTE message calls
/// `history->network_changed()` once (a single `ip addr add` may send several datagrams: an
/// address and its local route, so one change may bump the epoch more than once). Other
/// message types are ignored. When the kernel reports that the socket's receive queue
/// overflowed (ENOBUFS: changes were lost), that counts as a change too.
///
/// Executor: the socket and its receive loop run on the executor given to the constructor;
/// the history is invalidated (network_changed() is called) from a handler on that executor.
/// The executor must be run (e.g. io_context::run()) for changes to be seen.
///
/// Thread-safety: start(), stop() and the destructor must be called on the monitor's executor
/// (from a handler it runs, or while nothing runs it, e.g. before io_context::run() or after
/// it returned); changes() may be called from any thread. The history itself is thread-safe.
///
/// Lifetime: the monitor holds the history by `std::shared_ptr` (it keeps it alive while the
/// monitor, or a receive still pending after stop(), exists). The receive loop owns a shared
/// state, not the monitor: a handler that completes after stop() or after the destructor
/// touches only that state, which the last handler frees; the monitor may be destroyed with
/// a receive pending.
///
/// Cancellation: stop() (also called by the destructor) cancels the pending receive and closes
/// the socket; its handler then completes with operation_aborted and starts nothing new, so a
/// context that runs only the monitor returns from run().
///
/// Elsewhere than Linux, start() returns boost::asio::error::operation_not_supported.
///
/// Not copyable or movable.
class network_monitor {
  public:
    /// A monitor, not yet started, that will invalidate `history` from handlers on `executor`.
    /// A null `history` makes start() fail with boost::asio::error::invalid_argument.
    network_monitor(boost::asio::any_io_executor executor, std::shared_ptr<dial_history> history);

    /// Calls stop(). Must run on the monitor's executor (see the class comment).
    ~network_monitor();

    network_monitor(const network_monitor&) = delete;
    network_monitor& operator=(const network_monitor&) = delete;

    /// Opens the rtnetlink socket, joins the address and route groups and starts the receive
    /// loop on the executor. Returns the error instead of throwing when the socket cannot be
    /// opened or bound (no netlink, a seccomp filter, ...): boost::asio::error::
    /// operation_not_supported off Linux, boost::asio::error::already_started when it runs
    /// already, boost::asio::error::invalid_argument without a history. Changes made before
    /// start() returned are not reported. After stop(), start() may be called again.
    boost::system::error_code start();

    /// Cancels the pending receive and closes the socket; no network_changed() call is made
    /// after it returns. Harmless when not started or already stopped.
    void stop();

    /// Whether start() succeeded and stop() was not called since (false also after a receive
    /// error other than ENOBUFS ended the loop). On the executor.
    bool running() const noexcept;

    /// The datagrams that reported a change (calls made to network_changed() by this monitor),
    /// since construction, over every start(). Any thread.
    std::uint64_t changes() const noexcept;

    /// The executor the receive loop and the history invalidation run on.
    const boost::asio::any_io_executor& get_executor() const noexcept;

  private:
    boost::asio::any_io_executor executor_;
    /// The socket, the history and the counters; shared with the pending receive's handler.
    std::shared_ptr<detail::network_monitor_state> state_;
};

}  // namespace happy_dial
