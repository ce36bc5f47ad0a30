// A TLS client over asio::ssl that races through the handshake: an address whose TCP connects
// but whose TLS stalls or fails loses like a dead one. An optional proxy URL (socks5h://,
// socks5://, http://) makes it race the proxy's addresses and do TLS to HOST through it.
#include <happy_dial/happy_dial.hpp>
#include <happy_dial/proxy.hpp>
#include <happy_dial/tls.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <iostream>
#include <string>

namespace asio = boost::asio;
namespace ssl = asio::ssl;

asio::awaitable<void> talk(ssl::context& tls,
                           std::string host,
                           std::string port,
                           happy_dial::dial_options options) {
    // SNI and host name verification use HOST; an attempt wins once its handshake succeeded.
    auto stream = co_await happy_dial::async_dial_tls(
        co_await asio::this_coro::executor, tls, host, port, options, asio::use_awaitable);

    co_await asio::async_write(stream, asio::buffer(std::string("hello\n")), asio::use_awaitable);
    asio::streambuf reply;
    co_await asio::async_read_until(stream, reply, '\n', asio::use_awaitable);
    std::cout << "TLS to " << host << " via " << stream.next_layer().remote_endpoint() << " says: "
              << std::string(asio::buffers_begin(reply.data()), asio::buffers_end(reply.data()));
}

int main(int argc, char** argv) {
    if (argc < 3 || argc > 5) {
        std::cerr << "usage: tls_client HOST PORT [CA_FILE [PROXY_URL]]\n";
        return 2;
    }
    ssl::context tls(ssl::context::tls_client);
    tls.set_verify_mode(ssl::verify_peer);
    if (argc >= 4 && std::string(argv[3]) != "-") {
        tls.load_verify_file(argv[3]);
    } else {
        tls.set_default_verify_paths();
    }
    happy_dial::dial_options options;
    if (argc == 5) {
        options.proxy.emplace();
        if (happy_dial::parse_proxy_url(argv[4], *options.proxy)) {
            std::cerr << "not a proxy URL: " << argv[4] << "\n";
            return 2;
        }
    }
    asio::io_context ctx;
    int status = 0;
    asio::co_spawn(ctx, talk(tls, argv[1], argv[2], options), [&](std::exception_ptr e) {
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
