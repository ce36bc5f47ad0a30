// The test kit's proxy server: one connection object per accepted socket, a callback chain per
// protocol, every step bounded, and no connect but to loopback.
#include <happy_dial/testing/proxy_server.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/error_code.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace happy_dial::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::size_t max_request_head = 16 * 1024;  // HTTP request head, blank line included
constexpr std::size_t max_junk = 1024 * 1024;        // endless_header, and draining a client
constexpr std::size_t relay_chunk = 16 * 1024;       // one read of one relay direction
constexpr auto accept_retry = std::chrono::milliseconds(10);  // after EMFILE and the like

constexpr std::string_view junk = "HELLO\r\n\r\n";  // starts with 0x48: no SOCKS version

// SOCKS5 reply codes (RFC 1928 §6).
constexpr std::uint8_t socks_ok = 0;
constexpr std::uint8_t socks_general_failure = 1;
constexpr std::uint8_t socks_not_allowed = 2;
constexpr std::uint8_t socks_connection_refused = 5;
constexpr std::uint8_t socks_command_not_supported = 7;
constexpr std::uint8_t socks_address_not_supported = 8;

char byte(unsigned value) {
    return static_cast<char>(static_cast<unsigned char>(value & 0xFFu));
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

std::string base64(std::string_view in) {
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < in.size(); i += 3) {
        const std::size_t n = std::min<std::size_t>(3, in.size() - i);
        std::uint32_t v = 0;
        for (std::size_t k = 0; k < 3; ++k) {
            v <<= 8;
            if (k < n) {
                v |= static_cast<unsigned char>(in[i + k]);
            }
        }
        for (std::size_t k = 0; k < 4; ++k) {
            out += k <= n ? alphabet[(v >> (18 - 6 * k)) & 0x3Fu] : '=';
        }
    }
    return out;
}

// "host:port" for last_target(): IPv6 in brackets.
std::string target_text(const asio::ip::address& address, std::uint16_t port) {
    const auto host = address.to_string();
    return (address.is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// The safety rule: the loopback address of an IP literal or "localhost", else nothing. Never
// looks a name up (make_address is inet_pton).
std::optional<asio::ip::address> loopback_target(std::string_view host) {
    if (iequals(host, "localhost")) {
        return asio::ip::address_v4::loopback();
    }
    error_code ec;
    const auto address = asio::ip::make_address(std::string(host), ec);
    if (ec || !address.is_loopback()) {
        return std::nullopt;
    }
    return address;
}

// VER REP RSV ATYP BND.ADDR BND.PORT; the default `bound` is 0.0.0.0:0.
std::string socks_reply(std::uint8_t code, const tcp::endpoint& bound = {}) {
    std::string out{byte(5), byte(code), byte(0)};
    const auto address = bound.address();
    if (address.is_v6()) {
        out += byte(4);
        for (const auto b : address.to_v6().to_bytes()) {
            out += byte(b);
        }
    } else {
        out += byte(1);
        for (const auto b : address.to_v4().to_bytes()) {
            out += byte(b);
        }
    }
    out += byte(static_cast<unsigned>(bound.port()) >> 8);
    out += byte(bound.port());
    return out;
}

std::string_view reason_phrase(int status) {
    switch (status) {
        case 200:
            return "Connection established";
        case 400:
            return "Bad Request";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 407:
            return "Proxy Authentication Required";
        case 500:
            return "Internal Server Error";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        default:
            return "Refused";
    }
}

std::string http_answer(int status) {
    std::string out = "HTTP/1.1 " + std::to_string(status) + " ";
    out += reason_phrase(status);
    out += "\r\n";
    if (status == 407) {
        out += "Proxy-Authenticate: Basic realm=\"happy_dial\"\r\n";
    }
    out += "Content-Length: 0\r\n\r\n";
    return out;
}

// The parts of an HTTP request head this server looks at.
struct http_request {
    std::string_view method;
    std::string_view target;  // the request line's authority, "host:port"
    std::string_view version;
    std::optional<std::string_view> proxy_authorization;
};

std::optional<http_request> parse_head(std::string_view head) {
    const auto line_end = head.find("\r\n");
    if (line_end == std::string_view::npos) {
        return std::nullopt;
    }
    const auto line = head.substr(0, line_end);
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
        return std::nullopt;
    }
    http_request request;
    request.method = line.substr(0, sp1);
    request.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    request.version = line.substr(sp2 + 1);
    // Header lines, up to the blank line (the head ends with "\r\n\r\n").
    for (auto rest = head.substr(line_end + 2); !rest.empty();) {
        const auto end = rest.find("\r\n");
        const auto field = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 2);
        if (field.empty()) {
            break;
        }
        const auto colon = field.find(':');
        if (colon != std::string_view::npos &&
            iequals(trim(field.substr(0, colon)), "Proxy-Authorization")) {
            request.proxy_authorization = trim(field.substr(colon + 1));
        }
    }
    return request;
}

// "host:port" or "[v6]:port" into host (brackets removed) and port.
bool split_authority(std::string_view authority, std::string_view& host, std::uint16_t& port) {
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find("]:");
        if (close == std::string_view::npos) {
            return false;
        }
        host = authority.substr(1, close - 1);
        port_text = authority.substr(close + 2);
    } else {
        const auto colon = authority.rfind(':');
        if (colon == std::string_view::npos) {
            return false;
        }
        host = authority.substr(0, colon);
        port_text = authority.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) {
            return false;  // an IPv6 literal without brackets
        }
    }
    if (host.empty() || port_text.empty() || port_text.size() > 5) {
        return false;
    }
    unsigned value = 0;
    const auto* const last = port_text.data() + port_text.size();
    const auto [ptr, ec] = std::from_chars(port_text.data(), last, value);
    if (ec != std::errc{} || ptr != last || value > 65535) {
        return false;
    }
    port = static_cast<std::uint16_t>(value);
    return true;
}

bool basic_credentials_match(std::string_view value, const std::string& expected_token) {
    const auto space = value.find(' ');
    if (space == std::string_view::npos || !iequals(value.substr(0, space), "Basic")) {
        return false;
    }
    return trim(value.substr(space + 1)) == expected_token;
}

}  // namespace

// Shared by the proxy_server, the accept handler and every connection, so that a handler never
// touches a destroyed server; close() stops the connections through their weak entries.
struct proxy_server::state : std::enable_shared_from_this<state> {
    class connection;

    state(const asio::any_io_executor& executor, proxy_server_options opts)
        : options(std::move(opts)), acceptor(executor), retry(executor) {
        if (!options.username.empty()) {
            expected_credentials = base64(options.username + ":" + options.password);
        }
    }

    void listen(const tcp::endpoint& where) {
        acceptor.open(where.protocol());
        acceptor.set_option(asio::socket_base::reuse_address(true));
        acceptor.bind(where);
        acceptor.listen(asio::socket_base::max_listen_connections);
        local = acceptor.local_endpoint();
    }

    void accept_next();
    void close();

    void record(std::string target, std::string head) {
        connects.fetch_add(1, std::memory_order_relaxed);
        std::lock_guard<std::mutex> lock(mutex);
        last_target = std::move(target);
        last_request = std::move(head);
    }

    const proxy_server_options options;
    std::string expected_credentials;  // base64(username:password) for HTTP
    tcp::acceptor acceptor;
    asio::steady_timer retry;  // between accepts after an error
    tcp::endpoint local;
    std::atomic<bool> closed{false};
    std::atomic<std::size_t> accepted{0};
    std::atomic<std::size_t> connects{0};

    mutable std::mutex mutex;  // guards the members below
    std::string last_target;
    std::string last_request;
    std::map<std::uint64_t, std::weak_ptr<connection>> live;  // every connection not yet freed
    std::uint64_t next_id = 0;
};

// One accepted client. Owned by its pending handlers only: it is freed when the last one
// completes (the connection ended) or is destroyed with its io_context.
class proxy_server::state::connection : public std::enable_shared_from_this<connection> {
  public:
    connection(std::shared_ptr<state> server, tcp::socket client, std::uint64_t id)
        : server_(std::move(server)),
          options_(server_->options),
          id_(id),
          client_(std::move(client)),
          upstream_(client_.get_executor()),
          timer_(client_.get_executor()) {}

    ~connection() {
        std::lock_guard<std::mutex> lock(server_->mutex);
        server_->live.erase(id_);
    }

    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    void start() {
        if (options_.behaviour == proxy_behaviour::silent) {
            drain();  // notices the client's close, never answers
        } else if (options_.protocol == proxy_protocol::socks5) {
            socks_greeting();
        } else {
            http_head();
        }
    }

    // Idempotent; handlers that run afterwards see stopped_ and end.
    void stop() {
        stopped_ = true;
        error_code ignored;
        client_.close(ignored);
        upstream_.close(ignored);
        timer_.cancel();
    }

  private:
    // Reads exactly `n` bytes into in_, then calls `next`.
    template <class Next>
    void read_exact(std::size_t n, Next next) {
        asio::async_read(client_,
                         asio::buffer(in_.data(), n),
                         [self = shared_from_this(), next = std::move(next)](const error_code& ec,
                                                                             std::size_t) mutable {
                             if (ec || self->stopped_) {
                                 return self->stop();
                             }
                             next();
                         });
    }

    // Writes `bytes` (kept in out_ until done), then calls `next`.
    template <class Next>
    void write(std::string bytes, Next next) {
        out_ = std::move(bytes);
        asio::async_write(client_,
                          asio::buffer(out_),
                          [self = shared_from_this(), next = std::move(next)](const error_code& ec,
                                                                              std::size_t) mutable {
                              if (ec || self->stopped_) {
                                  return self->stop();
                              }
                              next();
                          });
    }

    // Calls `next` after options_.reply_delay.
    template <class Next>
    void after_delay(Next next) {
        if (options_.reply_delay.count() <= 0) {
            return next();
        }
        timer_.expires_after(options_.reply_delay);
        timer_.async_wait(
            [self = shared_from_this(), next = std::move(next)](const error_code& ec) mutable {
                if (ec || self->stopped_) {
                    return self->stop();
                }
                next();
            });
    }

    // The answer that ends the handshake: after the delay, `bytes` (none: only the close),
    // then a graceful close.
    void finish(std::string bytes) {
        after_delay([this, bytes = std::move(bytes)]() mutable {
            if (bytes.empty()) {
                return linger();
            }
            write(std::move(bytes), [this] { linger(); });
        });
    }

    // FIN, then reads until the client closes, so that unread client bytes cannot turn the
    // close into a RST that would destroy the answer before the client reads it.
    void linger() {
        error_code ignored;
        client_.shutdown(tcp::socket::shutdown_send, ignored);
        drain();
    }

    // Discards what the client sends until it closes (or max_junk bytes), then closes.
    void drain() {
        client_.async_read_some(asio::buffer(down_),
                                [self = shared_from_this()](const error_code& ec, std::size_t n) {
                                    self->drained_ += n;
                                    if (ec || self->stopped_ || self->drained_ >= max_junk) {
                                        return self->stop();
                                    }
                                    self->drain();
                                });
    }

    // ---- SOCKS5 (RFC 1928, RFC 1929) ----

    void socks_greeting() {
        read_exact(2, [this] {
            if (in_[0] != 5) {
                return stop();
            }
            const std::size_t methods = in_[1];
            read_exact(methods, [this, methods] { socks_methods(methods); });
        });
    }

    void socks_methods(std::size_t count) {
        switch (options_.behaviour) {
            case proxy_behaviour::close_mid_handshake:
                return finish({});
            case proxy_behaviour::garbage:
            case proxy_behaviour::endless_header:
                return finish(std::string(junk));
            default:
                break;
        }
        const std::uint8_t wanted = options_.username.empty() ? 0x00 : 0x02;
        bool offered = false;
        for (std::size_t i = 0; i < count; ++i) {
            offered = offered || in_[i] == wanted;
        }
        if (!offered) {
            return finish({byte(5), byte(0xFF)});
        }
        write({byte(5), byte(wanted)}, [this, wanted] {
            if (wanted == 0x02) {
                socks_auth();
            } else {
                socks_request();
            }
        });
    }

    // VER=1 ULEN UNAME PLEN PASSWD.
    void socks_auth() {
        read_exact(2, [this] {
            const bool version_ok = in_[0] == 1;
            const std::size_t ulen = in_[1];
            read_exact(ulen + 1, [this, version_ok, ulen] {
                std::string user(reinterpret_cast<const char*>(in_.data()), ulen);
                const std::size_t plen = in_[ulen];
                read_exact(plen, [this, version_ok, user = std::move(user), plen] {
                    const std::string_view password(reinterpret_cast<const char*>(in_.data()),
                                                    plen);
                    if (!version_ok || user != options_.username || password != options_.password) {
                        return finish({byte(1), byte(1)});
                    }
                    write({byte(1), byte(0)}, [this] { socks_request(); });
                });
            });
        });
    }

    // VER CMD RSV ATYP DST.ADDR DST.PORT.
    void socks_request() {
        read_exact(4, [this] {
            if (in_[0] != 5) {
                return stop();
            }
            const std::uint8_t command = in_[1];
            switch (in_[3]) {
                case 1:
                    return read_exact(4 + 2, [this, command] {
                        asio::ip::address_v4::bytes_type b{};
                        std::copy_n(in_.begin(), b.size(), b.begin());
                        socks_target(command, asio::ip::address_v4(b), {}, port_at(4));
                    });
                case 4:
                    return read_exact(16 + 2, [this, command] {
                        asio::ip::address_v6::bytes_type b{};
                        std::copy_n(in_.begin(), b.size(), b.begin());
                        socks_target(command, asio::ip::address_v6(b), {}, port_at(16));
                    });
                case 3:
                    return read_exact(1, [this, command] {
                        const std::size_t length = in_[0];
                        read_exact(length + 2, [this, command, length] {
                            const std::string name(reinterpret_cast<const char*>(in_.data()),
                                                   length);
                            socks_target(command, {}, name, port_at(length));
                        });
                    });
                default:
                    return finish(socks_reply(socks_address_not_supported));
            }
        });
    }

    std::uint16_t port_at(std::size_t offset) const {
        return static_cast<std::uint16_t>((in_[offset] << 8) | in_[offset + 1]);
    }

    // `name` empty: the target is `address`.
    void socks_target(std::uint8_t command,
                      const asio::ip::address& address,
                      const std::string& name,
                      std::uint16_t port) {
        if (command != 1) {
            return finish(socks_reply(socks_command_not_supported));
        }
        server_->record(
            name.empty() ? target_text(address, port) : name + ":" + std::to_string(port), {});
        if (options_.behaviour == proxy_behaviour::refuse) {
            const int code = options_.refuse_code;
            return finish(socks_reply(code >= 0 && code <= 255 ? static_cast<std::uint8_t>(code)
                                                               : socks_general_failure));
        }
        const auto target = name.empty() ? std::optional(address) : loopback_target(name);
        if (!target || !target->is_loopback()) {
            return finish(socks_reply(socks_not_allowed));
        }
        connect_upstream(tcp::endpoint(*target, port), [this](bool connected) {
            if (!connected) {
                return finish(socks_reply(socks_connection_refused));
            }
            error_code ec;
            const auto bound = upstream_.local_endpoint(ec);
            if (ec) {
                return finish(socks_reply(socks_general_failure));
            }
            answer_and_relay(socks_reply(socks_ok, bound));
        });
    }

    // ---- HTTP CONNECT (RFC 9110 §9.3.6) ----

    void http_head() {
        asio::async_read_until(
            client_,
            asio::dynamic_buffer(head_, max_request_head),
            "\r\n\r\n",
            [self = shared_from_this()](const error_code& ec, std::size_t n) {
                if (self->stopped_) {
                    return self->stop();
                }
                if (ec == asio::error::not_found) {
                    return self->finish(http_answer(400));  // longer than max_request_head
                }
                if (ec) {
                    return self->stop();
                }
                self->early_ = self->head_.substr(n);  // sent before our answer: for the target
                self->head_.resize(n);
                self->http_request_received();
            });
    }

    void http_request_received() {
        const auto request = parse_head(head_);
        const bool is_connect = request && request->method == "CONNECT";
        if (is_connect) {
            server_->record(std::string(request->target), head_);
        } else {
            std::lock_guard<std::mutex> lock(server_->mutex);
            server_->last_request = head_;
        }
        switch (options_.behaviour) {
            case proxy_behaviour::close_mid_handshake:
                return finish({});
            case proxy_behaviour::garbage:
                return finish(std::string(junk));
            case proxy_behaviour::endless_header:
                return after_delay([this] { write("HTTP/1.1 200 OK\r\n", [this] { endless(); }); });
            default:
                break;
        }
        if (!request || request->version.substr(0, 7) != "HTTP/1.") {
            return finish(http_answer(400));
        }
        if (!is_connect) {
            return finish(http_answer(405));
        }
        if (!options_.username.empty() &&
            !(request->proxy_authorization &&
              basic_credentials_match(*request->proxy_authorization,
                                      server_->expected_credentials))) {
            return finish(http_answer(407));
        }
        if (options_.behaviour == proxy_behaviour::refuse) {
            const int code = options_.refuse_code;
            return finish(http_answer(code >= 100 && code <= 999 ? code : 502));
        }
        std::string_view host;
        std::uint16_t port = 0;
        if (!split_authority(request->target, host, port)) {
            return finish(http_answer(400));
        }
        const auto target = loopback_target(host);
        if (!target) {
            return finish(http_answer(403));
        }
        connect_upstream(tcp::endpoint(*target, port), [this](bool connected) {
            if (!connected) {
                return finish(http_answer(502));
            }
            answer_and_relay(http_answer_established());
        });
    }

    static std::string http_answer_established() {
        return "HTTP/1.1 200 Connection established\r\n\r\n";
    }

    // Header lines, about 4 KiB a write, until max_junk bytes or a write fails.
    void endless() {
        if (junk_sent_ >= max_junk) {
            return linger();
        }
        std::string lines;
        for (int i = 0; i < 64; ++i) {
            lines += "X-Filler: ";
            lines.append(52, 'a');
            lines += "\r\n";
        }
        junk_sent_ += lines.size();
        write(std::move(lines), [this] { endless(); });
    }

    // ---- relay ----

    template <class Next>
    void connect_upstream(const tcp::endpoint& target, Next next) {
        upstream_.async_connect(
            target,
            [self = shared_from_this(), next = std::move(next)](const error_code& ec) mutable {
                if (self->stopped_) {
                    return self->stop();
                }
                next(!ec);
            });
    }

    void answer_and_relay(std::string reply) {
        after_delay([this, reply = std::move(reply)]() mutable {
            write(std::move(reply), [this] {
                if (early_.empty()) {
                    pump(client_, upstream_, up_);
                    pump(upstream_, client_, down_);
                    return;
                }
                asio::async_write(upstream_,
                                  asio::buffer(early_),
                                  [self = shared_from_this()](const error_code& ec, std::size_t) {
                                      if (ec || self->stopped_) {
                                          return self->stop();
                                      }
                                      self->pump(self->client_, self->upstream_, self->up_);
                                      self->pump(self->upstream_, self->client_, self->down_);
                                  });
            });
        });
    }

    // One direction: read, write it all, again; the first end or error closes both sides.
    void pump(tcp::socket& from, tcp::socket& to, std::array<char, relay_chunk>& buffer) {
        from.async_read_some(asio::buffer(buffer),
                             [self = shared_from_this(), &from, &to, &buffer](
                                 const error_code& read_error, std::size_t n) {
                                 if (read_error || self->stopped_) {
                                     return self->stop();
                                 }
                                 asio::async_write(to,
                                                   asio::buffer(buffer.data(), n),
                                                   [self, &from, &to, &buffer](
                                                       const error_code& write_error, std::size_t) {
                                                       if (write_error || self->stopped_) {
                                                           return self->stop();
                                                       }
                                                       self->pump(from, to, buffer);
                                                   });
                             });
    }

    std::shared_ptr<state> server_;
    const proxy_server_options& options_;  // server_'s, alive as long as server_
    const std::uint64_t id_;
    tcp::socket client_;
    tcp::socket upstream_;
    asio::steady_timer timer_;
    bool stopped_ = false;
    std::array<std::uint8_t, 512> in_{};  // one SOCKS5 message part (at most 257 bytes)
    std::string out_;                     // the write in flight to the client
    std::string head_;                    // the HTTP request head
    std::string early_;                   // bytes the client sent after its head
    std::size_t drained_ = 0;
    std::size_t junk_sent_ = 0;
    std::array<char, relay_chunk> up_{};    // client -> upstream
    std::array<char, relay_chunk> down_{};  // upstream -> client (and drain)
};

void proxy_server::state::accept_next() {
    acceptor.async_accept([self = shared_from_this()](const error_code& ec, tcp::socket socket) {
        if (self->closed) {
            return;  // `socket`, if any, closes here
        }
        if (ec) {
            if (ec == asio::error::operation_aborted) {
                return;
            }
            // Out of descriptors or buffers: try again a little later, not in a busy loop.
            self->retry.expires_after(accept_retry);
            self->retry.async_wait([self](const error_code& wait_error) {
                if (!wait_error && !self->closed) {
                    self->accept_next();
                }
            });
            return;
        }
        self->accepted.fetch_add(1, std::memory_order_relaxed);
        std::shared_ptr<connection> c;
        {
            std::lock_guard<std::mutex> lock(self->mutex);
            const auto id = self->next_id++;
            c = std::make_shared<connection>(self, std::move(socket), id);
            self->live.emplace(id, c);
        }
        c->start();
        self->accept_next();
    });
}

void proxy_server::state::close() {
    closed = true;
    error_code ignored;
    acceptor.close(ignored);
    retry.cancel();
    std::vector<std::shared_ptr<connection>> open;
    {
        std::lock_guard<std::mutex> lock(mutex);
        open.reserve(live.size());
        for (const auto& [id, weak] : live) {
            if (auto c = weak.lock()) {
                open.push_back(std::move(c));
            }
        }
    }
    for (const auto& c : open) {
        c->stop();
    }
    // `open` may hold the last owners: their destructors erase them from `live`, unlocked here.
}

proxy_server::proxy_server(asio::any_io_executor executor,
                           tcp::endpoint listen_on,
                           proxy_server_options options)
    : state_(std::make_shared<state>(executor, std::move(options))) {
    state_->listen(listen_on);
    state_->accept_next();
}

proxy_server::~proxy_server() {
    state_->close();
}

tcp::endpoint proxy_server::endpoint() const {
    return state_->local;
}

std::size_t proxy_server::accepted() const noexcept {
    return state_->accepted.load();
}

std::size_t proxy_server::connects() const noexcept {
    return state_->connects.load();
}

std::string proxy_server::last_target() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->last_target;
}

std::string proxy_server::last_request() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->last_request;
}

void proxy_server::close() {
    state_->close();
}

}  // namespace happy_dial::testing
