// Runs every example program against a local server of the right kind.
#include "catch.hpp"
#include "op/loopback.hpp"
#include "support/process.hpp"

#include <happy_dial/testing/proxy_server.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <cstdio>
#include <map>
#include <sstream>
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

// The series the metrics example printed: `name{attrs}` -> the rest of the line (a counter's
// value, or a histogram's "count=N sum=S le=...").
std::map<std::string, std::string> series_of(const std::string& out) {
    std::map<std::string, std::string> series;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        const auto close = line.find("} ");
        if (line.rfind("dial ", 0) != 0 && close != std::string::npos) {
            series[line.substr(0, close + 1)] = line.substr(close + 2);
        }
    }
    return series;
}

// A counter's value, or a histogram's count; -1 when the series is missing.
long long count_of(const std::map<std::string, std::string>& series, const std::string& name) {
    const auto it = series.find(name);
    if (it == series.end()) {
        return -1;
    }
    const auto& value = it->second;
    return std::stoll(value.rfind("count=", 0) == 0 ? value.substr(6) : value);
}

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
namespace {

namespace ssl = asio::ssl;

// The examples' TLS server context, with the committed test-only certificate (127.0.0.1).
ssl::context server_tls() {
    ssl::context tls(ssl::context::tls_server);
    tls.use_certificate_chain_file(TEST_CERT);
    tls.use_private_key_file(TEST_KEY, ssl::context::pem);
    return tls;
}

// Answers one line with "hi over TLS" after the handshake.
struct line_over_tls {
    ssl::context* tls;
    void operator()(tcp::socket& s) const {
        ssl::stream<tcp::socket&> stream(s, *tls);
        boost::system::error_code ec;
        stream.handshake(ssl::stream_base::server, ec);
        if (ec) {
            return;
        }
        asio::streambuf line;
        asio::read_until(stream, line, '\n', ec);
        asio::write(stream, asio::buffer(std::string("hi over TLS\n")), ec);
        stream.shutdown(ec);
    }
};

// A test-kit SOCKS5 proxy on 127.0.0.1, run on a thread of its own while it lives.
class proxy_on_thread {
  public:
    proxy_on_thread()
        : proxy_(ctx_.get_executor(), {loopback_v4, 0}), thread_([this] { ctx_.run(); }) {}
    ~proxy_on_thread() {
        ctx_.stop();
        thread_.join();
    }
    std::string url() const {
        return "socks5h://127.0.0.1:" + std::to_string(proxy_.endpoint().port());
    }
    std::size_t connects() const { return proxy_.connects(); }

  private:
    asio::io_context ctx_;
    happy_dial::testing::proxy_server proxy_;
    std::thread thread_;
};

}  // namespace

TEST_CASE("examples: the TLS client verifies the server and talks over it", "[examples]") {
    auto tls = server_tls();
    local_server server(1, line_over_tls{&tls});
    auto r = run(std::string(EXAMPLE_TLS) + " 127.0.0.1 " + server.port() + " " + TEST_CERT);
    CHECK(r.status == 0);
    CHECK(r.out.find("says: hi over TLS") != std::string::npos);
}

TEST_CASE("examples: the TLS client reaches the server through a SOCKS5 proxy", "[examples]") {
    auto tls = server_tls();
    local_server server(1, line_over_tls{&tls});
    proxy_on_thread proxy;
    auto r = run(std::string(EXAMPLE_TLS) + " 127.0.0.1 " + server.port() + " " + TEST_CERT + " " +
                 proxy.url());
    CHECK(r.status == 0);
    CHECK(r.out.find("says: hi over TLS") != std::string::npos);
    CHECK(proxy.connects() == 1);
}

TEST_CASE("examples: the Beast HTTPS client gets a page through a proxy", "[examples]") {
    auto tls = server_tls();
    local_server server(1, [&tls](tcp::socket& s) {
        ssl::stream<tcp::socket&> stream(s, tls);
        boost::system::error_code ec;
        stream.handshake(ssl::stream_base::server, ec);
        if (ec) {
            return;
        }
        asio::streambuf request;
        asio::read_until(stream, request, "\r\n\r\n", ec);
        const std::string reply =
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
        asio::write(stream, asio::buffer(reply), ec);
        stream.shutdown(ec);
    });
    proxy_on_thread proxy;
    auto r = run(std::string(EXAMPLE_BEAST_HTTPS) + " 127.0.0.1 " + server.port() + " / " +
                 TEST_CERT + " " + proxy.url());
    CHECK(r.status == 0);
    CHECK(r.out == "200 hello\n");
    CHECK(proxy.connects() == 1);
}
#endif

TEST_CASE("examples: the metrics observer counts attempts and fallbacks and times dials",
          "[examples]") {
    auto r = run(EXAMPLE_METRICS);
    CHECK(r.status == 0);
    INFO(r.out);
    const auto series = series_of(r.out);
    const std::string attempts = "happy_dial.connection.attempts{network.type=";
    const std::string duration = "happy_dial.connection.duration{network.type=";
    // Dials 1 and 2 (refusing address, then 127.0.0.1) and 4 (the refusing address only) are
    // fixed; 3 (both families accept) and 5 (localhost) win over IPv6 when ::1 exists.
    CHECK(r.out.find("dial 1 (refused, then accepted): connected to 127.0.0.1:") !=
          std::string::npos);
    CHECK(r.out.find("dial 4 (refused only): failed: Connection refused\n") != std::string::npos);
    if (has_ipv6_loopback()) {
        CHECK(count_of(series, attempts + "\"ipv6\",happy_dial.attempt.outcome=\"failed\"}") >= 3);
        CHECK(count_of(series, attempts + "\"ipv4\",happy_dial.attempt.outcome=\"won\"}") >= 2);
        CHECK(count_of(series, attempts + "\"ipv6\",happy_dial.attempt.outcome=\"won\"}") >= 1);
        // The preferred family (IPv6) refused first in dials 1 and 2: two fallbacks.
        CHECK(count_of(series, "happy_dial.fallback{}") >= 2);
        CHECK(count_of(series, duration + "\"ipv6\",network.peer.address=\"::1\"}") >= 1);
    } else {
        CHECK(count_of(series, attempts + "\"ipv4\",happy_dial.attempt.outcome=\"failed\"}") >= 3);
        CHECK(count_of(series, attempts + "\"ipv4\",happy_dial.attempt.outcome=\"won\"}") >= 3);
        CHECK(count_of(series, "happy_dial.fallback{}") == 0);
    }
    CHECK(count_of(series, duration + "\"ipv4\",network.peer.address=\"127.0.0.1\"}") >= 2);
    // Four dials over endpoint lists connected or failed without a lookup; only localhost
    // looked anything up, so an A lookup was timed at most once.
    long long total = 0;
    for (const auto& [name, value] : series) {
        if (name.rfind(duration, 0) == 0) {
            total += count_of(series, name);
        }
    }
    CHECK(total == (r.out.find("dial 5 (localhost): connected") != std::string::npos ? 4 : 3));
    CHECK(count_of(series, "dns.lookup.duration{dns.question.type=\"A\"}") <= 1);
    if (r.out.find("dial 5 (localhost): connected to 127.0.0.1") != std::string::npos) {
        CHECK(count_of(series, "dns.lookup.duration{dns.question.type=\"A\"}") == 1);
    }
    // Every histogram line has its count, sum and cumulative buckets.
    for (const auto& [name, value] : series) {
        if (value.rfind("count=", 0) == 0) {
            CHECK(value.find(" sum=") != std::string::npos);
            CHECK(value.find(" le=0.001:") != std::string::npos);
            CHECK(value.find(",5:" + std::to_string(count_of(series, name))) != std::string::npos);
        }
    }
}
