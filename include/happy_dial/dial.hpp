// Blocking dials, like asio::connect: a private io_context runs the race, the caller's socket
// (or a new one on the caller's executor) gets the winner.
#pragma once

#include <happy_dial/async_dial.hpp>
#include <happy_dial/detail/finishers.hpp>

#include <boost/asio/basic_socket.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/system_error.hpp>

#include <string_view>
#include <unistd.h>

namespace happy_dial {

namespace detail {
/// A connection made on a private io_context, released from it.
struct blocking_result {
    boost::system::error_code error;                            ///< empty on success
    boost::asio::ip::tcp::endpoint endpoint;                    ///< the remote endpoint
    boost::asio::ip::tcp::socket::native_handle_type handle{};  ///< the connected descriptor
};

/// Runs the dial to completion on a private io_context (compiled once, in src/dial.cpp).
blocking_result blocking_dial(dial_request&& request, const dial_options& options);

template <class Executor>
boost::asio::ip::tcp::endpoint fill_blocking(
    boost::asio::basic_socket<boost::asio::ip::tcp, Executor>& socket,
    dial_request&& request,
    const dial_options& options,
    boost::system::error_code& ec) {
    auto result = blocking_dial(std::move(request), options);
    boost::system::error_code ignored;
    socket.close(ignored);
    ec = result.error;
    if (!ec) {
        socket.assign(result.endpoint.protocol(), result.handle, ec);
        if (ec) {
            ::close(result.handle);
        }
    }
    return ec ? boost::asio::ip::tcp::endpoint{} : result.endpoint;
}

inline void throw_if(const boost::system::error_code& ec, const char* what) {
    if (ec) {
        throw boost::system::system_error(ec, what);
    }
}
}  // namespace detail

/// Blocking form of async_connect(): dials `host` and `service` with RFC 8305 racing and moves
/// the winning connection into `socket`; returns the endpoint connected to, or sets `ec` (and
/// closes `socket`). Runs its own io_context on the calling thread; `socket`'s context need not
/// run. dial_options::timeout bounds how long it blocks.
template <class Executor>
boost::asio::ip::tcp::endpoint connect(
    boost::asio::basic_socket<boost::asio::ip::tcp, Executor>& socket,
    std::string_view host,
    std::string_view service,
    const dial_options& options,
    boost::system::error_code& ec) {
    return detail::fill_blocking(socket, detail::host_request(host, service), options, ec);
}

/// connect() with the default dial_options.
template <class Executor>
boost::asio::ip::tcp::endpoint connect(
    boost::asio::basic_socket<boost::asio::ip::tcp, Executor>& socket,
    std::string_view host,
    std::string_view service,
    boost::system::error_code& ec) {
    return connect(socket, host, service, dial_options{}, ec);
}

/// connect() that throws boost::system::system_error on failure.
template <class Executor>
boost::asio::ip::tcp::endpoint connect(
    boost::asio::basic_socket<boost::asio::ip::tcp, Executor>& socket,
    std::string_view host,
    std::string_view service,
    const dial_options& options) {
    boost::system::error_code ec;
    auto endpoint = connect(socket, host, service, options, ec);
    detail::throw_if(ec, "happy_dial::connect");
    return endpoint;
}

/// connect() with default options that throws boost::system::system_error on failure. (No
/// default argument anywhere here: see dialer.hpp on GCC 12 and co_await.)
template <class Executor>
boost::asio::ip::tcp::endpoint connect(
    boost::asio::basic_socket<boost::asio::ip::tcp, Executor>& socket,
    std::string_view host,
    std::string_view service) {
    return connect(socket, host, service, dial_options{});
}

/// Blocking dial of a list of endpoints into `socket`; sets `ec` on failure.
template <class Executor, endpoint_range Range>
boost::asio::ip::tcp::endpoint connect(
    boost::asio::basic_socket<boost::asio::ip::tcp, Executor>& socket,
    const Range& endpoints,
    const dial_options& options,
    boost::system::error_code& ec) {
    return detail::fill_blocking(socket, detail::range_request(endpoints), options, ec);
}

/// Blocking dial of a list of endpoints into `socket`; throws boost::system::system_error.
template <class Executor, endpoint_range Range>
boost::asio::ip::tcp::endpoint connect(
    boost::asio::basic_socket<boost::asio::ip::tcp, Executor>& socket,
    const Range& endpoints,
    const dial_options& options) {
    boost::system::error_code ec;
    auto endpoint = connect(socket, endpoints, options, ec);
    detail::throw_if(ec, "happy_dial::connect");
    return endpoint;
}

/// Blocking dial of a list of endpoints with default options; throws on failure.
template <class Executor, endpoint_range Range>
boost::asio::ip::tcp::endpoint connect(
    boost::asio::basic_socket<boost::asio::ip::tcp, Executor>& socket, const Range& endpoints) {
    return connect(socket, endpoints, dial_options{});
}

/// Blocking form of async_dial(): returns a connected socket on `executor`, or sets `ec` and
/// returns a closed one.
template <executor_type Executor>
boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor> dial(
    const Executor& executor,
    std::string_view host,
    std::string_view service,
    const dial_options& options,
    boost::system::error_code& ec) {
    boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor> socket(executor);
    connect(socket, host, service, options, ec);
    return socket;
}

/// dial() that throws boost::system::system_error on failure.
template <executor_type Executor>
boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor> dial(const Executor& executor,
                                                                      std::string_view host,
                                                                      std::string_view service,
                                                                      const dial_options& options) {
    boost::system::error_code ec;
    auto socket = dial(executor, host, service, options, ec);
    detail::throw_if(ec, "happy_dial::dial");
    return socket;
}

/// dial() with default options that throws boost::system::system_error on failure.
template <executor_type Executor>
boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor> dial(const Executor& executor,
                                                                      std::string_view host,
                                                                      std::string_view service) {
    return dial(executor, host, service, dial_options{});
}

}  // namespace happy_dial
