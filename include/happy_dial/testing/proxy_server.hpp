// A test kit proxy: a SOCKS5 or HTTP CONNECT server with scripted misbehaviours, for loopback
// tests of proxy clients (make_proxy_stage, dial_options::proxy). It relays only to loopback
// targets, so a test can never reach the outside world through it.
#pragma once

#include <happy_dial/proxy.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace happy_dial::testing {

/// How a proxy_server answers each connection: one working mode and the failures a client must
/// survive (lose the race like a dead path) without hanging.
enum class proxy_behaviour {
    /// a working proxy: connects to the requested target and relays bytes both ways until
    /// either side closes, then closes both (a half-close is not passed on)
    relay,
    refuse,  ///< answers the CONNECT with proxy_server_options::refuse_code
    /// answers the client's first message with bytes that are not the protocol ("HELLO\r\n\r\n":
    /// for SOCKS5 a version byte of 0x48), then closes
    garbage,
    /// reads the client's first message (SOCKS5 greeting, HTTP request head), then closes the
    /// connection without answering
    close_mid_handshake,
    /// HTTP: answers "HTTP/1.1 200 OK\r\n" then header lines without end, cut off after 1 MiB or
    /// when the peer closes (a client must bound the reply); SOCKS5: the same as garbage
    endless_header,
    /// accepts and never sends anything (a black-holed proxy): the connection stays open until
    /// the client or the server closes it
    silent,
};

/// What a proxy_server speaks and how it behaves.
struct proxy_server_options {
    proxy_protocol protocol = proxy_protocol::socks5;    ///< SOCKS5 or HTTP CONNECT
    proxy_behaviour behaviour = proxy_behaviour::relay;  ///< the same for every connection
    /// For `refuse`: the SOCKS5 reply code (RFC 1928 §6; outside 0..255 sends 1) or the HTTP
    /// status (outside 100..999, like the default 5, answers 502, HTTP's "connection refused").
    int refuse_code = 5;
    /// Non-empty: credentials are required (SOCKS5: method 0x02 and RFC 1929; HTTP:
    /// `Proxy-Authorization: Basic base64(username:password)`, else 407).
    std::string username{};
    std::string password{};  ///< with `username`
    /// Waits this long before the answer that ends the handshake (the CONNECT's reply or
    /// refusal, the junk, the close), so that tests can make one proxy lose a race.
    std::chrono::milliseconds reply_delay{0};
};

/// A SOCKS5 (RFC 1928/1929) or HTTP CONNECT (RFC 9110 §9.3.6) proxy on a loopback port:
/// @code
/// proxy_server_options http;
/// http.protocol = proxy_protocol::http_connect;
/// proxy_server proxy(ctx.get_executor(), {asio::ip::make_address("127.0.0.1"), 0}, http);
/// // dial through proxy.endpoint() to "localhost":<a loopback port>, run ctx, then:
/// CHECK(proxy.connects() == 1);
/// @endcode
/// Safety: `relay` connects only to 127.0.0.0/8, ::1 or the name "localhost" (127.0.0.1); any
/// other target is refused (SOCKS5 code 2, HTTP 403) without a lookup or a connect, and a
/// failed connect answers SOCKS5 code 5 / HTTP 502.
///
/// Everything runs on the executor given (one thread). The counters may be read from any
/// thread; construct, close() and destroy the server on the executor's thread or while its
/// io_context is not running. Each connection's state is freed when the connection ends or the
/// server closes; pending handlers then only touch state they own, so the server may be
/// destroyed while its io_context is stopped (but not after the io_context itself).
class proxy_server {
  public:
    /// Listens on `listen_on` (port 0 = any free port) on `executor` right away. Throws
    /// boost::system::system_error when it cannot listen there.
    proxy_server(boost::asio::any_io_executor executor,
                 boost::asio::ip::tcp::endpoint listen_on,
                 proxy_server_options options = {});
    /// Closes the acceptor and every connection (close()).
    ~proxy_server();
    proxy_server(const proxy_server&) = delete;
    proxy_server& operator=(const proxy_server&) = delete;

    /// Where it listens, with the actual port (also after close()).
    boost::asio::ip::tcp::endpoint endpoint() const;
    /// Connections accepted so far.
    std::size_t accepted() const noexcept;
    /// CONNECT requests received so far, whatever was answered (SOCKS5 CMD=1 requests, HTTP
    /// CONNECT request heads; a SOCKS5 client that fails authentication sends none).
    std::size_t connects() const noexcept;
    /// The last CONNECT target as "host:port": a SOCKS5 domain as sent, IPv4 dotted, IPv6 in
    /// brackets; HTTP as in the request line. Empty before the first.
    std::string last_target() const;
    /// HTTP: the whole last request head as received, up to and including its blank line (to
    /// check Proxy-Authorization and Host). SOCKS5: empty.
    std::string last_request() const;
    /// Closes the acceptor and every connection now (their clients see the connection closed).
    void close();

  private:
    struct state;
    std::shared_ptr<state> state_;  // shared with the pending handlers, which outlive *this
};

}  // namespace happy_dial::testing
