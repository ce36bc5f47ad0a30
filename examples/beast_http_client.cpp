// An HTTP GET with Boost.Beast whose connection is dialled by happy_dial.
#include <happy_dial/beast.hpp>
#include <happy_dial/happy_dial.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <iostream>
#include <string>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

asio::awaitable<void> get(std::string host, std::string port, std::string target) {
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    // The one line that changes from Beast's examples: stream.async_connect(resolved, ...). The
    // stream's expiry bounds the dial, and ends it with beast::error::timeout, as in Beast.
    stream.expires_after(std::chrono::seconds(30));
    co_await happy_dial::async_connect(stream, host, port, asio::use_awaitable);

    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, host);
    request.set(http::field::user_agent, "happy_dial-example");
    co_await http::async_write(stream, request, asio::use_awaitable);

    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    co_await http::async_read(stream, buffer, response, asio::use_awaitable);
    std::cout << response.result_int() << " " << response.body() << "\n";
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
}

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: beast_http_client HOST PORT TARGET\n";
        return 2;
    }
    asio::io_context ctx;
    int status = 0;
    asio::co_spawn(ctx, get(argv[1], argv[2], argv[3]), [&](std::exception_ptr e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& error) {
                std::cerr << "failed: " << error.what() << "\n";
            }
            status = 1;
        }
    });
    ctx.run();
    return status;
}
