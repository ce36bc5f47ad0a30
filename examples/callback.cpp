// Dial HOST PORT with a completion callback.
#include <happy_dial/happy_dial.hpp>

#include <boost/asio/io_context.hpp>

#include <iostream>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: callback HOST PORT\n";
        return 2;
    }
    boost::asio::io_context ctx;
    int status = 1;
    happy_dial::async_dial(ctx,
                           argv[1],
                           argv[2],
                           [&](boost::system::error_code ec, boost::asio::ip::tcp::socket socket) {
                               if (ec) {
                                   std::cerr << "failed: " << ec.message() << "\n";
                                   return;
                               }
                               std::cout << "connected to " << socket.remote_endpoint() << "\n";
                               status = 0;
                           });
    ctx.run();
    return status;
}
