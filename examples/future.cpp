// Dial HOST PORT from plain synchronous code with std::future (the io_context runs elsewhere).
#include <happy_dial/happy_dial.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <iostream>
#include <thread>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: future HOST PORT\n";
        return 2;
    }
    boost::asio::io_context ctx;
    auto work = boost::asio::make_work_guard(ctx);
    std::thread runner([&ctx] { ctx.run(); });

    std::future<boost::asio::ip::tcp::socket> connecting =
        happy_dial::async_dial(ctx, argv[1], argv[2], boost::asio::use_future);
    int status = 1;
    try {
        auto socket = connecting.get();  // throws boost::system::system_error on failure
        std::cout << "connected to " << socket.remote_endpoint() << "\n";
        status = 0;
    } catch (const boost::system::system_error& e) {
        std::cerr << "failed: " << e.what() << "\n";
    }
    work.reset();
    runner.join();
    return status;
}
