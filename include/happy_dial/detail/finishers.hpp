// How a dial's result reaches the caller: a new socket, or the caller's socket filled.
#pragma once

#include <happy_dial/detail/dial_core.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/basic_socket.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <type_traits>
#include <utility>

namespace happy_dial::detail {

/// Moves the dial's socket into `target`, a socket of any executor type: moved as it is on the
/// default executor type, else its descriptor is handed over (same context, no new connect).
template <class Executor>
boost::system::error_code adopt(boost::asio::basic_socket<boost::asio::ip::tcp, Executor>& target,
                                boost::asio::ip::tcp::socket&& socket) {
    boost::system::error_code ec;
    target.close(ec);
    if constexpr (std::is_same_v<Executor, boost::asio::any_io_executor>) {
        target = std::move(socket);
        return {};
    } else {
        const auto protocol = socket.local_endpoint(ec).protocol();
        if (ec) {
            return ec;
        }
        const auto handle = socket.release(ec);
        if (!ec) {
            target.assign(protocol, handle, ec);
        }
        return ec;
    }
}

/// Completes a dial by handing a new socket back: void(error_code, basic_stream_socket<tcp,
/// Executor>), on the initiating executor's type.
template <class Executor>
struct return_socket {
    Executor executor;

    template <class Handler>
    void operator()(Handler&& handler, dial_result&& result) {
        using socket_type = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
        if constexpr (std::is_same_v<Executor, boost::asio::any_io_executor>) {
            std::move(handler)(result.error, std::move(*result.socket));
        } else {
            socket_type socket(executor);
            auto ec = result.error;
            if (!ec) {
                ec = adopt(socket, std::move(*result.socket));
            }
            std::move(handler)(ec, std::move(socket));
        }
    }
};

/// Completes a dial by moving the socket into the caller's: void(error_code, tcp::endpoint),
/// like asio::async_connect (on failure the caller's socket is left closed).
template <class Executor>
struct fill_socket {
    boost::asio::basic_socket<boost::asio::ip::tcp, Executor>* target;

    template <class Handler>
    void operator()(Handler&& handler, dial_result&& result) {
        auto ec = result.error;
        if (!ec) {
            ec = adopt(*target, std::move(*result.socket));
        } else {
            boost::system::error_code ignored;
            target->close(ignored);
        }
        std::move(handler)(ec, ec ? boost::asio::ip::tcp::endpoint{} : result.endpoint);
    }
};

}  // namespace happy_dial::detail
