// A TLS client over asio::ssl: happy_dial dials TCP, then the TLS handshake verifies the peer.
#include <happy_dial/happy_dial.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <iostream>
#include <string>

namespace asio = boost::asio;
namespace ssl = asio::ssl;

asio::awaitable<void> talk(ssl::context& tls, std::string host, std::string port) {
    ssl::stream<asio::ip::tcp::socket> stream(co_await asio::this_coro::executor, tls);
    const auto peer =
        co_await happy_dial::async_connect(stream.next_layer(), host, port, asio::use_awaitable);
    stream.set_verify_mode(ssl::verify_peer);
    stream.set_verify_callback(ssl::host_name_verification(host));
    SSL_set_tlsext_host_name(stream.native_handle(), host.c_str());
    co_await stream.async_handshake(ssl::stream_base::client, asio::use_awaitable);

    co_await asio::async_write(stream, asio::buffer(std::string("hello\n")), asio::use_awaitable);
    asio::streambuf reply;
    co_await asio::async_read_until(stream, reply, '\n', asio::use_awaitable);
    std::cout << "TLS to " << peer << " says: "
              << std::string(asio::buffers_begin(reply.data()), asio::buffers_end(reply.data()));
}

int main(int argc, char** argv) {
    if (argc != 3 && argc != 4) {
        std::cerr << "usage: tls_client HOST PORT [CA_FILE]\n";
        return 2;
    }
    ssl::context tls(ssl::context::tls_client);
    if (argc == 4) {
        tls.load_verify_file(argv[3]);
    } else {
        tls.set_default_verify_paths();
    }
    asio::io_context ctx;
    int status = 0;
    asio::co_spawn(ctx, talk(tls, argv[1], argv[2]), [&](std::exception_ptr e) {
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
