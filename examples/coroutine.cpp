// Dial HOST PORT from a C++20 coroutine, with an overall timeout and the attempt record.
#include <happy_dial/happy_dial.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <iostream>
#include <string>

namespace asio = boost::asio;
using namespace std::chrono_literals;

asio::awaitable<int> dial(std::string host, std::string port) {
    happy_dial::dialer dialer(co_await asio::this_coro::executor);
    dialer.options().timeout = 5s;
    happy_dial::dial_report report;
    auto [ec, socket] =
        co_await dialer.async_dial(host, port, report, asio::as_tuple(asio::use_awaitable));
    for (const auto& attempt : report.attempts) {
        std::cout << "attempt " << attempt.endpoint << ": "
                  << happy_dial::core::to_string(attempt.outcome) << "\n";
    }
    if (ec) {
        std::cerr << "failed: " << ec.message() << "\n";
        co_return 1;
    }
    std::cout << "connected to " << socket.remote_endpoint() << "\n";
    co_return 0;
}

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: coroutine HOST PORT\n";
        return 2;
    }
    asio::io_context ctx;
    int status = 1;
    asio::co_spawn(
        ctx, dial(argv[1], argv[2]), [&](std::exception_ptr, int result) { status = result; });
    ctx.run();
    return status;
}
