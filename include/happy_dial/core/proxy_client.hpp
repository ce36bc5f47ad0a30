// The client side of the proxy handshakes, sans I/O: each says what to send and takes what was
// received, and never reads past the proxy's reply (the bytes after it are the origin's). The
// stages in src/proxy_stage.cpp drive them on a socket; tests and fuzzers drive them directly.
#pragma once

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace happy_dial::core {

/// What a proxy handshake waits for.
enum class proxy_step {
    write,   ///< output() must be sent, then written() called
    read,    ///< bytes from the proxy must be offered to input()
    done,    ///< the tunnel is open
    failed,  ///< error() says why
};

/// A proxy client handshake: a state machine over bytes.
class proxy_client {
  public:
    virtual ~proxy_client() = default;

    /// What to do next.
    proxy_step step() const noexcept { return step_; }
    /// With step() == write: every byte to send now.
    std::span<const std::uint8_t> output() const noexcept { return out_; }
    /// The output was sent.
    void written();
    /// With step() == read: offers bytes received from the proxy (read with MSG_PEEK, or
    /// read_limit() at most). Returns how many of them belong to the reply: consume exactly
    /// those from the socket, the rest belongs to the tunnel.
    std::size_t input(std::span<const std::uint8_t> bytes);
    /// The proxy closed the connection (a read returned end of file).
    void closed();
    /// Why step() == failed (error::proxy_..., socks5_reply, the HTTP status).
    boost::system::error_code error() const noexcept { return error_; }

  protected:
    proxy_client() = default;  ///< for the protocols
    /// Called by written(); sets the next step.
    virtual void on_written() = 0;
    /// Called by input(); returns how many bytes it took.
    virtual std::size_t on_input(std::span<const std::uint8_t> bytes) = 0;
    /// Ends the handshake with `ec`.
    void fail(boost::system::error_code ec);
    /// Makes `bytes` the next output.
    void send(std::vector<std::uint8_t> bytes);

    std::vector<std::uint8_t> out_;        ///< what output() returns
    proxy_step step_ = proxy_step::write;  ///< what step() returns
    boost::system::error_code error_;      ///< what error() returns
};

/// SOCKS5 (RFC 1928) CONNECT, with RFC 1929 username/password when `username` is not empty.
/// `host` is sent as an address when it is an IPv4 or IPv6 literal, else as a domain name.
class socks5_client final : public proxy_client {
  public:
    /// Fails at once (error::invalid_proxy) for a name or credential over 255 bytes or an empty
    /// host.
    socks5_client(std::string_view host,
                  std::uint16_t port,
                  std::string_view username = {},
                  std::string_view password = {});

  private:
    enum class state { greeting, method, auth, auth_reply, request, reply };
    void on_written() override;
    std::size_t on_input(std::span<const std::uint8_t> bytes) override;
    std::size_t wanted() const noexcept;
    void on_message();

    state state_ = state::greeting;
    std::vector<std::uint8_t> auth_;     // the RFC 1929 request, sent when asked for
    std::vector<std::uint8_t> request_;  // the CONNECT request
    std::vector<std::uint8_t> in_;       // the message being read
};

/// HTTP CONNECT (RFC 9110 §9.3.6) to `host`:`port`, with `Proxy-Authorization: Basic` when
/// `username` is not empty. The reply head (status line and fields, up to the empty line) may
/// be at most `max_reply_bytes`; a 2xx status opens the tunnel.
class http_connect_client final : public proxy_client {
  public:
    /// Fails at once (error::invalid_proxy) for an empty host, one over 255 bytes, or one with
    /// a space, CR, LF or NUL (it goes into the request line).
    http_connect_client(std::string_view host,
                        std::uint16_t port,
                        std::string_view username = {},
                        std::string_view password = {},
                        std::size_t max_reply_bytes = 8192);

    /// The status code of the proxy's reply, once read (0 before).
    int status() const noexcept { return status_; }

  private:
    void on_written() override;
    std::size_t on_input(std::span<const std::uint8_t> bytes) override;
    void on_head();

    std::string head_;
    std::size_t max_reply_bytes_;
    int status_ = 0;
};

/// RFC 4648 §4 base64 of `bytes` (for Basic credentials, RFC 7617).
std::string base64(std::string_view bytes);

}  // namespace happy_dial::core
