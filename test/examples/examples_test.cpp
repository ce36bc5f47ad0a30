// Runs every example program against a local server of the right kind.
#include "catch.hpp"
#include "op/loopback.hpp"
#include "support/process.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <cstdio>
#include <string>
#include <thread>

using namespace happy_dial::test;

namespace {

run_result run(const std::string& command) {
    return run_command(command);
}

// Serves `connections` connections on 127.0.0.1 in a thread with `serve`, then stops.
template <class Serve>
class local_server {
  public:
    local_server(int connections, Serve serve)
        : acceptor_(ctx_, {loopback_v4, 0}), thread_([this, connections, serve]() mutable {
              for (int i = 0; i < connections; ++i) {
                  tcp::socket s(ctx_);
                  boost::system::error_code ec;
                  acceptor_.accept(s, ec);
                  if (ec) {
                      return;
                  }
                  serve(s);
              }
          }) {}
    ~local_server() {
        boost::system::error_code ec;
        acceptor_.close(ec);
        thread_.join();
    }
    std::string port() const { return std::to_string(acceptor_.local_endpoint().port()); }

  private:
    asio::io_context ctx_;
    tcp::acceptor acceptor_;
    std::thread thread_;
};

template <class Serve>
local_server(int, Serve) -> local_server<Serve>;

}  // namespace

TEST_CASE("examples: callback, future and coroutine connect to a local listener", "[examples]") {
    accepting_listener ok(loopback_v4);
    const std::string target = " 127.0.0.1 " + std::to_string(ok.endpoint().port());
    for (const char* example : {EXAMPLE_CALLBACK, EXAMPLE_FUTURE, EXAMPLE_COROUTINE}) {
        auto r = run(std::string(example) + target);
        CHECK(r.status == 0);
        CHECK(r.out.find("connected to 127.0.0.1:") != std::string::npos);
    }
    refusing_port refused(loopback_v4);
    auto r = run(std::string(EXAMPLE_CALLBACK) + " 127.0.0.1 " +
                 std::to_string(refused.endpoint().port()) + " 2>&1");
    CHECK(r.status == 1);
    CHECK(r.out.find("failed: Connection refused") != std::string::npos);
}

TEST_CASE("examples: the Beast HTTP client gets a page through happy_dial", "[examples]") {
    local_server server(1, [](tcp::socket& s) {
        asio::streambuf request;
        asio::read_until(s, request, "\r\n\r\n");
        const std::string reply =
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
        asio::write(s, asio::buffer(reply));
    });
    auto r = run(std::string(EXAMPLE_BEAST) + " 127.0.0.1 " + server.port() + " /");
    CHECK(r.status == 0);
    CHECK(r.out == "200 hello\n");
}

#ifdef EXAMPLE_TLS
TEST_CASE("examples: the TLS client verifies the server and talks over it", "[examples]") {
    namespace ssl = asio::ssl;
    ssl::context tls(ssl::context::tls_server);
    tls.use_certificate_chain_file(TEST_CERT);
    tls.use_private_key_file(TEST_KEY, ssl::context::pem);
    local_server server(1, [&tls](tcp::socket& s) {
        ssl::stream<tcp::socket&> stream(s, tls);
        boost::system::error_code ec;
        stream.handshake(ssl::stream_base::server, ec);
        if (ec) {
            return;
        }
        asio::streambuf line;
        asio::read_until(stream, line, '\n', ec);
        asio::write(stream, asio::buffer(std::string("hi over TLS\n")), ec);
        stream.shutdown(ec);
    });
    auto r = run(std::string(EXAMPLE_TLS) + " 127.0.0.1 " + server.port() + " " + TEST_CERT);
    CHECK(r.status == 0);
    CHECK(r.out.find("says: hi over TLS") != std::string::npos);
}
#endif
