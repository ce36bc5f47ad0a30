// The rtnetlink listener behind network_monitor (include/happy_dial/network_monitor.hpp).
//
// RFC 8305 §4 keeps historical data per destination and the Happy Eyeballs v3 draft says that
// history SHOULD be flushed on a network change; on Linux the kernel announces address and
// route changes on the NETLINK_ROUTE multicast groups (rtnetlink(7)): RTM_NEWADDR/RTM_DELADDR
// on RTMGRP_IPV4_IFADDR/RTMGRP_IPV6_IFADDR, RTM_NEWROUTE/RTM_DELROUTE on
// RTMGRP_IPV4_ROUTE/RTMGRP_IPV6_ROUTE.
#include <happy_dial/network_monitor.hpp>

#include <boost/asio/error.hpp>

#include <atomic>
#include <utility>

#ifdef __linux__
#include <boost/asio/buffer.hpp>
#include <boost/asio/generic/raw_protocol.hpp>

#include <cstddef>
#include <cstring>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <vector>
#endif

namespace happy_dial {

#ifdef __linux__

namespace {

using netlink_socket = boost::asio::generic::raw_protocol::socket;

/// Bytes per receive: a multicast notification is one message of a few hundred bytes, and
/// the kernel's netlink datagrams stay below 32 KB (rtnetlink(7), NLMSG_GOODSIZE).
constexpr std::size_t receive_size = 32 * 1024;

// NLMSG_NEXT mixes the int length with the unsigned nlmsg_len: its own arithmetic, checked by
// NLMSG_OK before each use, warns under -Wsign-conversion.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-conversion"

/// Whether the netlink messages in `data` (one datagram of `size` bytes) hold an address or
/// route change. Walks the chain with NLMSG_OK/NLMSG_NEXT (netlink(3)), which stop at a
/// truncated or malformed message.
bool holds_change(const unsigned char* data, std::size_t size) {
    int len = static_cast<int>(size);  // at most receive_size
    // `data` comes from operator new (std::vector), aligned for nlmsghdr.
    for (auto* nh = reinterpret_cast<const nlmsghdr*>(data); NLMSG_OK(nh, len);
         nh = NLMSG_NEXT(nh, len)) {
        switch (nh->nlmsg_type) {
            case RTM_NEWADDR:
            case RTM_DELADDR:
            case RTM_NEWROUTE:
            case RTM_DELROUTE:
                return true;
            case NLMSG_DONE:
                return false;
            default:
                break;  // RTM_NEWLINK, RTM_NEWNEIGH, NLMSG_ERROR, ...: not a change we act on
        }
    }
    return false;
}

#pragma GCC diagnostic pop

}  // namespace

/// What the receive loop owns (each pending handler holds a shared_ptr to it), so that a
/// handler that completes after stop() or after the monitor is gone touches only this. Every
/// member but `changes` is used only on the monitor's executor.
struct detail::network_monitor_state {
    network_monitor_state(boost::asio::any_io_executor ex, std::shared_ptr<dial_history> h)
        : socket(std::move(ex)), history(std::move(h)), buffer(receive_size) {}

    netlink_socket socket;
    std::shared_ptr<dial_history> history;
    std::vector<unsigned char> buffer;
    /// Bumped by start() and stop(): a handler of an earlier run does nothing.
    std::uint64_t run = 0;
    bool running = false;
    std::atomic<std::uint64_t> changes{0};
};

namespace {

// The loop: a free function over the shared state (never `this` of the monitor).
void receive(const std::shared_ptr<detail::network_monitor_state>& s, std::uint64_t run) {
    s->socket.async_receive(
        boost::asio::buffer(s->buffer),
        [s, run](const boost::system::error_code& ec, std::size_t n) {
            if (s->run != run || !s->running || ec == boost::asio::error::operation_aborted) {
                return;  // stopped (or stopped and started again): this loop ends
            }
            bool changed = false;
            if (ec == boost::asio::error::no_buffer_space) {
                changed = true;  // ENOBUFS: the receive queue overflowed, changes were lost
            } else if (ec) {
                s->running = false;  // the socket is unusable; stop() or start() again
                return;
            } else {
                changed = holds_change(s->buffer.data(), n);
            }
            if (changed) {
                s->history->network_changed();
                s->changes.fetch_add(1, std::memory_order_relaxed);
            }
            receive(s, run);
        });
}

}  // namespace

network_monitor::network_monitor(boost::asio::any_io_executor executor,
                                 std::shared_ptr<dial_history> history)
    : executor_(std::move(executor)),
      state_(std::make_shared<detail::network_monitor_state>(executor_, std::move(history))) {}

network_monitor::~network_monitor() {
    stop();
}

boost::system::error_code network_monitor::start() {
    if (!state_->history) {
        return boost::asio::error::invalid_argument;
    }
    if (state_->running) {
        return boost::asio::error::already_started;
    }
    boost::system::error_code ec;
    auto& socket = state_->socket;
    if (socket.is_open()) {
        socket.close(ec);  // left open by a receive error
    }
    socket.open(boost::asio::generic::raw_protocol(AF_NETLINK, NETLINK_ROUTE), ec);
    if (ec) {
        return ec;
    }
    sockaddr_nl address{};
    address.nl_family = AF_NETLINK;
    address.nl_pid = 0;  // the kernel picks the port id
    address.nl_groups =
        RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
    socket.bind(
        boost::asio::generic::raw_protocol::endpoint(&address, sizeof address, NETLINK_ROUTE), ec);
    if (ec) {
        boost::system::error_code ignored;
        socket.close(ignored);
        return ec;
    }
    state_->running = true;
    receive(state_, ++state_->run);
    return {};
}

void network_monitor::stop() {
    state_->running = false;
    ++state_->run;
    boost::system::error_code ignored;
    state_->socket.cancel(ignored);
    state_->socket.close(ignored);
}

#else  // not Linux: no rtnetlink

struct detail::network_monitor_state {
    network_monitor_state(boost::asio::any_io_executor, std::shared_ptr<dial_history> h)
        : history(std::move(h)) {}
    std::shared_ptr<dial_history> history;
    bool running = false;
    std::atomic<std::uint64_t> changes{0};
};

network_monitor::network_monitor(boost::asio::any_io_executor executor,
                                 std::shared_ptr<dial_history> history)
    : executor_(std::move(executor)),
      state_(std::make_shared<detail::network_monitor_state>(executor_, std::move(history))) {}

network_monitor::~network_monitor() = default;

boost::system::error_code network_monitor::start() {
    return boost::asio::error::operation_not_supported;
}

void network_monitor::stop() {}

#endif

bool network_monitor::running() const noexcept {
    return state_->running;
}

std::uint64_t network_monitor::changes() const noexcept {
    return state_->changes.load(std::memory_order_relaxed);
}

const boost::asio::any_io_executor& network_monitor::get_executor() const noexcept {
    return executor_;
}

}  // namespace happy_dial
