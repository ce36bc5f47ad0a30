// An HTTPS GET with Boost.Beast whose connection is dialled by happy_dial, racing through the
// TLS handshake, optionally through a proxy (socks5h://, socks5://, http://).
#include <happy_dial/beast_tls.hpp>
#include <happy_dial/happy_dial.hpp>
#include <happy_dial/proxy.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>
#include <iostream>
#include <string>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;

asio::awaitable<void> get(ssl::context& tls,
                          std::string host,
                          std::string port,
                          std::string target,
                          happy_dial::dial_options options) {
    beast::ssl_stream<beast::tcp_stream> stream(co_await asio::this_coro::executor, tls);
    // Where Beast's examples resolve, connect, then handshake: one call. The expiry bounds the
    // dial (beast::error::timeout), the handshake is done when it completes.
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
    co_await happy_dial::async_connect(stream, tls, host, port, options, asio::use_awaitable);

    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, host);
    request.set(http::field::user_agent, "happy_dial-example");
    co_await http::async_write(stream, request, asio::use_awaitable);

    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    co_await http::async_read(stream, buffer, response, asio::use_awaitable);
    std::cout << response.result_int() << " " << response.body() << "\n";
}

int main(int argc, char** argv) {
    if (argc < 4 || argc > 6) {
        std::cerr << "usage: beast_https_client HOST PORT TARGET [CA_FILE [PROXY_URL]]\n";
        return 2;
    }
    ssl::context tls(ssl::context::tls_client);
    tls.set_verify_mode(ssl::verify_peer);
    if (argc >= 5 && std::string(argv[4]) != "-") {
        tls.load_verify_file(argv[4]);
    } else {
        tls.set_default_verify_paths();
    }
    happy_dial::dial_options options;
    if (argc == 6) {
        options.proxy.emplace();
        if (happy_dial::parse_proxy_url(argv[5], *options.proxy)) {
            std::cerr << "not a proxy URL: " << argv[5] << "\n";
            return 2;
        }
    }
    asio::io_context ctx;
    int status = 0;
    asio::co_spawn(ctx, get(tls, argv[1], argv[2], argv[3], options), [&](std::exception_ptr e) {
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
