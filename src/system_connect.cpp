// system_network's connect: connect() is called here rather than inside Asio's async_connect so
// that the dial learns, with no system call Asio would not make, whether the outcome is known.
#include <happy_dial/transport.hpp>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/detail/config.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#if !defined(BOOST_ASIO_WINDOWS) && !defined(__CYGWIN__)
#include <cerrno>
#include <poll.h>
#include <sys/socket.h>
#define HAPPY_DIAL_POSIX_CONNECT 1
#endif

namespace happy_dial {
namespace {

using boost::asio::ip::tcp;

#if defined(HAPPY_DIAL_POSIX_CONNECT)
boost::system::error_code system_error(int value) {
    return {value, boost::asio::error::get_system_category()};
}

// Whether the connect in progress on `socket` has settled, and if so its outcome in `ec`. As
// Asio's reactor does for its own async_connect: a zero-timeout poll() (a readiness notification
// may be spurious, and a connect may settle before anyone waits), then SO_ERROR.
bool settled(tcp::socket& socket, boost::system::error_code& ec) {
    ::pollfd ready{socket.native_handle(), POLLOUT, 0};
    if (::poll(&ready, 1, 0) == 0) {
        return false;
    }
    int error = 0;
    ::socklen_t length = sizeof error;
    if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
        error = errno;
    }
    ec = system_error(error);
    return true;
}

// Queues `done(ec)` on the socket's executor, allocating with the dial's allocator. An
// any_io_executor drops the allocator property, so an io_context executor, the common case, is
// posted to directly.
void post_outcome(const boost::asio::any_io_executor& executor,
                  connect_completion done,
                  boost::system::error_code ec) {
    const auto allocator = done.get_allocator();
    auto outcome = boost::asio::bind_allocator(
        allocator, [done = std::move(done), ec]() mutable { done(ec); });
    if (const auto* io = executor.target<boost::asio::io_context::executor_type>()) {
        boost::asio::post(*io, std::move(outcome));
    } else {
        boost::asio::post(executor, std::move(outcome));
    }
}

// Waits on the reactor for a connect that is still in progress.
class connect_wait {
  public:
    using allocator_type = connect_completion::allocator_type;

    connect_wait(tcp::socket& socket, connect_completion done) noexcept
        : socket_(&socket), done_(std::move(done)) {}

    allocator_type get_allocator() const noexcept { return done_.get_allocator(); }

    void operator()(boost::system::error_code ec) {
        if (!ec && !settled(*socket_, ec)) {
            socket_->async_wait(tcp::socket::wait_write, std::move(*this));
            return;
        }
        done_(ec);
    }

  private:
    tcp::socket* socket_;  // stays at its address until done_ ran (dial_transport's contract)
    connect_completion done_;
};
#endif

}  // namespace

// The system calls of Asio's async_connect, in another order: FIONBIO, connect(), then the
// zero-timeout poll() and SO_ERROR that Asio's reactor makes once the socket is writable, made
// at once. On loopback connect() returns EINPROGRESS with the handshake already done (the peer's
// SYN-ACK is processed as connect() releases the socket), so the poll() finds it settled: the
// completion is posted, as Asio posts an immediate one, and the reactor is not involved. Only a
// connect still in progress waits on the reactor.
connect_progress system_network::async_connect(tcp::socket& socket,
                                               const tcp::endpoint& target,
                                               connect_completion done) {
#if defined(HAPPY_DIAL_POSIX_CONNECT)
    boost::system::error_code ec;
    if (!socket.native_non_blocking()) {
        socket.native_non_blocking(true, ec);  // Asio's internal flag: the user's stays blocking
    }
    if (!ec &&
        ::connect(socket.native_handle(), target.data(), static_cast<::socklen_t>(target.size())) !=
            0) {
        const int error = errno;
        if ((error == EINPROGRESS || error == EAGAIN) && !settled(socket, ec)) {
            socket.async_wait(tcp::socket::wait_write, connect_wait(socket, std::move(done)));
            return connect_progress::pending;
        }
        if (error != EINPROGRESS && error != EAGAIN) {
            ec = system_error(error);
        }
    }
    post_outcome(socket.get_executor(), std::move(done), ec);
    return connect_progress::settled;
#else
    socket.async_connect(target, std::move(done));
    return connect_progress::pending;
#endif
}

}  // namespace happy_dial
