// Whether a connect in progress has already settled, without waiting.
#pragma once

#include <boost/asio/detail/config.hpp>
#include <boost/asio/ip/tcp.hpp>

#if !defined(BOOST_ASIO_WINDOWS) && !defined(__CYGWIN__)
#include <poll.h>
#endif

namespace happy_dial::detail {

/// True when `socket`, whose non-blocking connect was just issued, is already connected or
/// failed (writable or in error), so its completion is due at the reactor's next pass. On
/// loopback the handshake completes inside connect() itself. One poll() with a zero timeout;
/// always false where poll() is not available.
inline bool connect_settled(boost::asio::ip::tcp::socket& socket) noexcept {
#if !defined(BOOST_ASIO_WINDOWS) && !defined(__CYGWIN__)
    ::pollfd p{socket.native_handle(), POLLOUT, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLOUT | POLLERR | POLLHUP)) != 0;
#else
    (void)socket;
    return false;
#endif
}

}  // namespace happy_dial::detail
