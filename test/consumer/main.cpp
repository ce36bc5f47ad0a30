// Dials a closed loopback port: proves the package links and runs (no network needed).
#include <happy_dial/happy_dial.hpp>

#include <boost/asio/io_context.hpp>

#include <iostream>

int main() {
    namespace asio = boost::asio;
    asio::io_context ctx;
    asio::ip::tcp::acceptor closed(ctx);
    const asio::ip::tcp::endpoint where(asio::ip::make_address("127.0.0.1"), 0);
    closed.open(where.protocol());
    closed.bind(where);  // bound, not listening: connects are refused
    boost::system::error_code result;
    happy_dial::async_dial(
        ctx,
        std::vector<asio::ip::tcp::endpoint>{closed.local_endpoint()},
        [&](boost::system::error_code ec, asio::ip::tcp::socket) { result = ec; });
    ctx.run();
    std::cout << "consumer: " << result.message() << "\n";
    return result == asio::error::connection_refused ? 0 : 1;
}
