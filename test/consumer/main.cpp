// Dials a loopback listener: proves the package compiles, links and runs (no network needed).
// Built by test/consumer/CMakeLists.txt (find_package, add_subdirectory, FetchContent) and by
// run.sh with plain `c++ ... $(pkg-config --cflags --libs happy_dial)`.
#include <happy_dial/happy_dial.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <iostream>
#include <string>

int main() {
    namespace asio = boost::asio;
    asio::io_context ctx;
    asio::ip::tcp::acceptor listener(
        ctx, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const std::string port = std::to_string(listener.local_endpoint().port());
    happy_dial::dial_options options;
    options.timeout = std::chrono::seconds(10);
    boost::system::error_code result = asio::error::would_block;
    asio::ip::tcp::endpoint peer;
    happy_dial::async_dial(ctx,
                           "127.0.0.1",
                           port,
                           options,
                           [&](boost::system::error_code ec, asio::ip::tcp::socket socket) {
                               result = ec;
                               if (!ec) {
                                   peer = socket.remote_endpoint();
                               }
                           });
    ctx.run();
    std::cout << "consumer: " << result.message();
    if (!result) {
        std::cout << ", connected to " << peer;
    }
    std::cout << "\n";
    return !result && peer == listener.local_endpoint() ? 0 : 1;
}
