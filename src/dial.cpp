#include <happy_dial/async_dial.hpp>
#include <happy_dial/dial.hpp>

#include <boost/asio/io_context.hpp>

namespace happy_dial::detail {

blocking_result blocking_dial(dial_request&& request, const dial_options& options) {
    boost::asio::io_context context;
    blocking_result result;
    auto handler = [&result](boost::system::error_code ec, boost::asio::ip::tcp::socket socket) {
        result.error = ec;
        if (!ec) {
            result.endpoint = socket.remote_endpoint(ec);
        }
        if (!ec) {
            // The descriptor leaves this context before it is destroyed; the caller's socket
            // adopts it on its own.
            result.handle = socket.release(ec);
        }
        result.error = ec;
    };
    initiate_dial<boost::asio::any_io_executor>(context.get_executor())(
        std::move(handler), std::move(request), options);
    context.run();
    return result;
}

}  // namespace happy_dial::detail
