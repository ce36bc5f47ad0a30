// The C++ blocks of README.md. Each block is the text between `// [snippet:NAME]` and
// `// [/snippet:NAME]` below, copied verbatim (test/docs/check_snippets.cmake compares them);
// the doc_snippets target compiles this file (test/docs/CMakeLists.txt). Edit here first.
// [snippet:callback]
#include <happy_dial/happy_dial.hpp>

#include <boost/asio/io_context.hpp>

#include <iostream>

int main() {
    boost::asio::io_context ctx;
    auto on_dialed = [](boost::system::error_code ec, boost::asio::ip::tcp::socket socket) {
        if (!ec) {
            std::cout << "connected to " << socket.remote_endpoint() << "\n";
        }
    };
    happy_dial::async_dial(ctx, "example.com", "443", on_dialed);
    ctx.run();
}
// [/snippet:callback]

// The fragments below need these names around them.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <future>
#include <string>
#include <utility>

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace readme {

asio::awaitable<void> coroutine(asio::any_io_executor ex, std::string host, std::string port) {
    // [snippet:coroutine]
    tcp::socket socket = co_await happy_dial::async_dial(ex, host, port, asio::use_awaitable);
    auto [ec, s] =
        co_await happy_dial::async_dial(ex, host, port, asio::as_tuple(asio::use_awaitable));
    // [/snippet:coroutine]
}

void future(asio::io_context& ctx, const std::string& host, const std::string& port) {
    // [snippet:future]
    std::future<tcp::socket> f = happy_dial::async_dial(ctx, host, port, asio::use_future);
    tcp::socket socket = f.get();  // throws boost::system::system_error on failure
    // [/snippet:future]
}

void deferred(asio::io_context& ctx, const std::string& host, const std::string& port) {
    // [snippet:deferred]
    auto op = happy_dial::async_dial(ctx, host, port, asio::deferred);  // nothing started yet
    std::move(op)([](boost::system::error_code ec, tcp::socket s) {
        if (!ec) {
            std::cout << "connected to " << s.remote_endpoint() << "\n";
        }
    });
    // [/snippet:deferred]
}

asio::awaitable<void> beast_stream(asio::any_io_executor ex, std::string host, std::string port) {
    // [snippet:beast]
    beast::tcp_stream stream(ex);
    happy_dial::dial_options options;
    options.timeout = 300ms;  // not stream.expires_after(300ms): that one would not apply
    co_await happy_dial::async_connect(stream.socket(), host, port, options, asio::use_awaitable);
    stream.expires_after(30s);  // Beast's timer, for the reads and writes that follow
    // [/snippet:beast]
}

}  // namespace readme
