#include "netns/dns_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cmath>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <sys/socket.h>
#include <utility>

namespace happy_dial::netns {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using tcp = asio::ip::tcp;

/// One Ethernet MTU: the bench's resolvers send small queries without EDNS.
constexpr std::size_t max_udp_message = 1500;
/// A question is at most 12 + 255 + 4 octets; the rest leaves room for EDNS options.
constexpr std::size_t max_tcp_query = 4096;
/// Replies of one TCP connection scheduled but not yet written: a client pipelining more than
/// this is cut off rather than queued without bound.
constexpr std::size_t max_pending_replies = 16;
/// RFC 7766 §6.2.3: a server may close idle connections; tests finish well before this.
constexpr std::chrono::seconds tcp_idle_timeout{10};

constexpr std::uint16_t flag_qr = 0x8000;
constexpr std::uint16_t flag_aa = 0x0400;
constexpr std::uint16_t flag_tc = 0x0200;
constexpr std::uint16_t flag_rd = 0x0100;
constexpr std::uint16_t flag_ra = 0x0080;

using type_scripts = std::map<std::uint16_t, dns_answer_script>;

struct parsed_query {
    std::uint16_t id = 0;
    std::uint16_t flags = 0;
    std::string name;
    std::uint16_t type = 0;
    std::size_t question_end = 0;  ///< offset just after the question (qtype, qclass)
};

std::uint16_t get16(const unsigned char* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

/// The question's name, lower-cased, and the offset just after it; nullopt when it is malformed
/// or runs past the packet. RFC 1035 §2.3.4: labels of at most 63 octets, names of at most 255,
/// so at most 128 labels. A compression pointer (length octet 0xC0 and up) is refused: the
/// question is the first name of the message, there is nothing before it to point to.
std::optional<std::pair<std::string, std::size_t>> parse_name(const unsigned char* p,
                                                              std::size_t n,
                                                              std::size_t at) {
    const std::size_t start = at;
    std::string name;
    for (int labels = 0; labels < 128; ++labels) {
        if (at >= n) {
            return std::nullopt;
        }
        const std::size_t len = p[at++];
        if (len == 0) {
            return std::pair{std::move(name), at};
        }
        if (len > 63 || at + len > n || (at + len + 1) - start > 255) {
            return std::nullopt;
        }
        if (!name.empty()) {
            name += '.';
        }
        for (std::size_t i = 0; i < len; ++i) {
            name += static_cast<char>(std::tolower(p[at + i]));
        }
        at += len;
    }
    return std::nullopt;
}

/// A standard query with exactly one question (RFC 1035 §4.1); nullopt for anything else.
std::optional<parsed_query> parse(const unsigned char* p, std::size_t n) {
    if (n < 12) {
        return std::nullopt;
    }
    parsed_query q;
    q.id = get16(p);
    q.flags = get16(p + 2);
    if ((q.flags & flag_qr) != 0 || get16(p + 4) != 1) {
        return std::nullopt;
    }
    auto name = parse_name(p, n, 12);
    if (!name || name->second + 4 > n) {
        return std::nullopt;
    }
    q.name = std::move(name->first);
    q.type = get16(p + name->second);
    q.question_end = name->second + 4;
    return q;
}

void put16(std::vector<unsigned char>& out, unsigned v) {
    out.push_back(static_cast<unsigned char>(v >> 8));
    out.push_back(static_cast<unsigned char>(v));
}

void put32(std::vector<unsigned char>& out, std::uint32_t v) {
    put16(out, v >> 16);
    put16(out, v & 0xffff);
}

/// One A or AAAA resource record (RFC 1035 §4.1.3), its owner the question's name.
void put_record(std::vector<unsigned char>& out, const asio::ip::address& a, std::uint32_t ttl) {
    put16(out, 0xc00c);  // compression pointer to the name in the question (RFC 1035 §4.1.4)
    put16(out, a.is_v6() ? dns_server::type_aaaa : dns_server::type_a);
    put16(out, 1);  // class IN
    put32(out, ttl);
    if (a.is_v6()) {
        const auto b = a.to_v6().to_bytes();
        put16(out, 16);
        out.insert(out.end(), b.begin(), b.end());
    } else {
        const auto b = a.to_v4().to_bytes();
        put16(out, 4);
        out.insert(out.end(), b.begin(), b.end());
    }
}

/// One record of the question's type given as RDATA.
void put_raw_record(std::vector<unsigned char>& out,
                    std::uint16_t type,
                    const std::vector<std::uint8_t>& rdata,
                    std::uint32_t ttl) {
    put16(out, 0xc00c);
    put16(out, type);
    put16(out, 1);
    put32(out, ttl);
    put16(out, static_cast<unsigned>(rdata.size()));
    out.insert(out.end(), rdata.begin(), rdata.end());
}

/// The response: header, the question echoed from the query, then `records` and `raw`.
std::vector<unsigned char> build_response(const unsigned char* query,
                                          const parsed_query& q,
                                          dns_rcode rcode,
                                          bool truncated,
                                          const std::vector<asio::ip::address>& records,
                                          std::uint32_t ttl,
                                          const std::vector<std::vector<std::uint8_t>>& raw = {}) {
    std::vector<unsigned char> out;
    put16(out, q.id);
    put16(out,
          flag_qr | flag_aa | (truncated ? flag_tc : 0u) | (q.flags & flag_rd) | flag_ra |
              static_cast<unsigned>(rcode));
    put16(out, 1);
    put16(out, static_cast<unsigned>(records.size() + raw.size()));
    put16(out, 0);
    put16(out, 0);
    out.insert(out.end(), query + 12, query + q.question_end);
    for (const auto& a : records) {
        put_record(out, a, ttl);
    }
    for (const auto& r : raw) {
        put_raw_record(out, q.type, r, ttl);
    }
    return out;
}

/// Whether the k-th query (k >= 1) is lost at `rate`: when floor(k * rate) steps up, in parts
/// per million so that 0.1 is exact (no binary fraction drift).
bool nth_is_lost(std::uint64_t k, double rate) {
    const auto ppm = static_cast<std::uint64_t>(std::llround(std::clamp(rate, 0.0, 1.0) * 1e6));
    return (k * ppm) / 1'000'000 > ((k - 1) * ppm) / 1'000'000;
}

/// What to send for one well-formed query; empty bytes: nothing (dropped).
struct reply {
    std::vector<unsigned char> bytes;
    std::chrono::milliseconds delay{0};
};

}  // namespace

const char* to_string(dns_transport t) noexcept {
    return t == dns_transport::udp ? "udp" : "tcp";
}

const char* to_string(dns_query_outcome o) noexcept {
    switch (o) {
        case dns_query_outcome::answered:
            return "answered";
        case dns_query_outcome::dropped:
            return "dropped";
        case dns_query_outcome::truncated:
            return "truncated";
    }
    return "?";
}

struct dns_server::state : std::enable_shared_from_this<state> {
    state(asio::io_context& ctx, const udp::endpoint& where);

    void receive();
    void accept();
    void send_udp(reply r, const udp::endpoint& to);
    /// Decides, logs and builds the reply to one message; nullopt when it is not a query.
    std::optional<reply> answer(const unsigned char* p, std::size_t n, dns_transport t);

    udp::socket socket;
    tcp::acceptor acceptor;
    udp::endpoint where;  ///< bound address and port, fixed after construction
    std::array<unsigned char, max_udp_message> buffer{};
    udp::endpoint sender;
    std::atomic<std::size_t> connections{0};

    mutable std::mutex mutex;  ///< guards everything below: the test thread scripts and reads
    std::map<std::string, type_scripts> names;
    std::map<std::string, type_scripts> patterns;  ///< by suffix
    std::map<std::uint16_t, double> default_loss;  ///< by type, for pattern-matched names
    /// Queries seen per (counter key, type): the name, or "*" + suffix for a pattern.
    std::map<std::pair<std::string, std::uint16_t>, std::uint64_t> counts;
    std::vector<query> log;

  private:
    struct match {
        const type_scripts* scripts;
        std::string counter_key;
        bool pattern;
    };
    std::optional<match> find(const std::string& name) const;
    bool lose(const match& m, std::uint16_t type, const dns_answer_script& script);
};

/// One TCP client: 2-octet length-prefixed messages both ways (RFC 1035 §4.2.2), several queries
/// per connection, replies written in the order their delays end (RFC 7766 §7 allows it).
struct dns_server::tcp_connection : std::enable_shared_from_this<tcp_connection> {
    tcp_connection(std::shared_ptr<state> s, tcp::socket peer)
        : server(std::move(s)), socket(std::move(peer)), idle(socket.get_executor()) {}
    ~tcp_connection() { --server->connections; }

    void read_length();
    void read_message(std::size_t n);
    void on_message();
    void schedule(reply r);
    void enqueue(std::shared_ptr<std::vector<unsigned char>> framed);
    void write_next();
    void close();

    std::shared_ptr<state> server;
    tcp::socket socket;
    asio::steady_timer idle;
    std::array<unsigned char, 2> length{};
    std::vector<unsigned char> message;
    std::deque<std::shared_ptr<std::vector<unsigned char>>> outbox;  ///< front: being written
    std::size_t pending = 0;  ///< replies scheduled or queued, not yet written
};

dns_server::state::state(asio::io_context& ctx, const udp::endpoint& at)
    : socket(ctx, at), acceptor(ctx), where(socket.local_endpoint()) {
    // TCP on the UDP socket's address and port: clients retry a truncated answer there. An
    // ephemeral UDP port may be taken for TCP (another test's connection holds it): then take
    // another UDP port, a bounded number of times.
    for (int tries = 0;; ++tries) {
        boost::system::error_code ec;
        const tcp::endpoint stream(where.address(), where.port());
        acceptor.open(stream.protocol());
        acceptor.set_option(asio::socket_base::reuse_address(true));
        acceptor.bind(stream, ec);
        if (!ec) {
            break;
        }
        acceptor.close();
        if (at.port() != 0 || tries == 50) {
            throw boost::system::system_error(ec, "dns_server: TCP bind");
        }
        socket.close();
        socket.open(at.protocol());
        socket.bind(at);
        where = socket.local_endpoint();
    }
    // Room for a burst: 1,000 dials by name send 2,000 queries at once (256 getaddrinfo threads
    // in a few ms), more than the default 208 kB holds; a query the kernel drops here is a loss
    // nobody scripted. Root may exceed net.core.rmem_max (SO_RCVBUFFORCE); else the capped size.
    const int rcvbuf = 8 << 20;
    if (::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) !=
        0) {
        ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    }
    acceptor.listen(static_cast<int>(max_tcp_connections));
}

std::optional<dns_server::state::match> dns_server::state::find(const std::string& name) const {
    if (auto it = names.find(name); it != names.end()) {
        return match{&it->second, name, false};
    }
    const std::pair<const std::string, type_scripts>* best = nullptr;
    for (const auto& entry : patterns) {
        if (name.ends_with(entry.first) && (!best || entry.first.size() > best->first.size())) {
            best = &entry;
        }
    }
    if (!best) {
        return std::nullopt;
    }
    return match{&best->second, "*" + best->first, true};
}

bool dns_server::state::lose(const match& m, std::uint16_t type, const dns_answer_script& script) {
    double rate = script.loss_rate;
    if (rate <= 0 && m.pattern) {
        if (auto it = default_loss.find(type); it != default_loss.end()) {
            rate = it->second;
        }
    }
    const auto k = ++counts[{m.counter_key, type}];
    return script.lost || nth_is_lost(k, rate);
}

std::optional<reply> dns_server::state::answer(const unsigned char* p,
                                               std::size_t n,
                                               dns_transport t) {
    const auto q = parse(p, n);
    if (!q) {
        return std::nullopt;
    }
    std::lock_guard<std::mutex> lock(mutex);
    query entry{std::chrono::steady_clock::now(), q->name, q->type, t, dns_query_outcome::answered};
    const auto m = find(q->name);
    if (!m) {
        log.push_back(std::move(entry));
        return reply{build_response(p, *q, dns_rcode::nxdomain, false, {}, 0), {}};
    }
    // A known name's type without a script (HTTPS, MX, ...): NODATA at once.
    const auto it = m->scripts->find(q->type);
    const dns_answer_script script = it != m->scripts->end() ? it->second : dns_answer_script{};
    if (t == dns_transport::udp && lose(*m, q->type, script)) {
        entry.outcome = dns_query_outcome::dropped;
        log.push_back(std::move(entry));
        return reply{};
    }
    const bool truncated = t == dns_transport::udp && script.truncate_udp;
    const bool with_records = script.rcode == dns_rcode::noerror && !truncated &&
                              (q->type == type_a || q->type == type_aaaa);
    entry.outcome = truncated ? dns_query_outcome::truncated : dns_query_outcome::answered;
    log.push_back(std::move(entry));
    return reply{build_response(p,
                                *q,
                                script.rcode,
                                truncated,
                                with_records ? script.addresses : std::vector<asio::ip::address>{},
                                script.ttl,
                                script.rcode == dns_rcode::noerror && !truncated
                                    ? script.rdata
                                    : std::vector<std::vector<std::uint8_t>>{}),
                 script.delay};
}

void dns_server::state::receive() {
    socket.async_receive_from(
        asio::buffer(buffer),
        sender,
        [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
            if (ec == asio::error::operation_aborted) {
                return;
            }
            if (!ec) {
                auto r = self->answer(self->buffer.data(), n, dns_transport::udp);
                if (r && !r->bytes.empty()) {
                    self->send_udp(std::move(*r), self->sender);
                }
            }
            self->receive();
        });
}

void dns_server::state::send_udp(reply r, const udp::endpoint& to) {
    auto bytes = std::make_shared<std::vector<unsigned char>>(std::move(r.bytes));
    auto timer = std::make_shared<asio::steady_timer>(socket.get_executor());
    timer->expires_after(r.delay);
    timer->async_wait([self = shared_from_this(), bytes, to, timer](boost::system::error_code) {
        boost::system::error_code ignored;
        self->socket.send_to(asio::buffer(*bytes), to, 0, ignored);
    });
}

void dns_server::state::accept() {
    acceptor.async_accept(
        [self = shared_from_this()](boost::system::error_code ec, tcp::socket peer) {
            if (ec == asio::error::operation_aborted) {
                return;
            }
            // Over the limit the peer socket is closed here, as it goes out of scope.
            if (!ec && self->connections < max_tcp_connections) {
                ++self->connections;
                std::make_shared<tcp_connection>(self, std::move(peer))->read_length();
            }
            self->accept();
        });
}

void dns_server::tcp_connection::read_length() {
    idle.expires_after(tcp_idle_timeout);
    idle.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec) {
            self->close();
        }
    });
    asio::async_read(socket,
                     asio::buffer(length),
                     [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                         const std::size_t n = get16(self->length.data());
                         // EOF (the client is done), an error, or a length no query can have.
                         if (ec || n < 12 || n > max_tcp_query) {
                             self->close();
                             return;
                         }
                         self->read_message(n);
                     });
}

void dns_server::tcp_connection::read_message(std::size_t n) {
    message.resize(n);
    asio::async_read(socket,
                     asio::buffer(message),
                     [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                         if (ec) {
                             self->close();
                             return;
                         }
                         self->on_message();
                     });
}

void dns_server::tcp_connection::on_message() {
    auto r = server->answer(message.data(), message.size(), dns_transport::tcp);
    if (!r || pending >= max_pending_replies) {
        close();
        return;
    }
    schedule(std::move(*r));
    read_length();
}

void dns_server::tcp_connection::schedule(reply r) {
    if (r.bytes.empty()) {
        return;
    }
    if (r.bytes.size() > 0xffff) {
        close();  // cannot be framed in 2 octets
        return;
    }
    auto framed = std::make_shared<std::vector<unsigned char>>();
    put16(*framed, static_cast<unsigned>(r.bytes.size()));
    framed->insert(framed->end(), r.bytes.begin(), r.bytes.end());
    ++pending;
    auto timer = std::make_shared<asio::steady_timer>(socket.get_executor());
    timer->expires_after(r.delay);
    timer->async_wait([self = shared_from_this(), framed, timer](boost::system::error_code) {
        self->enqueue(framed);
    });
}

void dns_server::tcp_connection::enqueue(std::shared_ptr<std::vector<unsigned char>> framed) {
    if (!socket.is_open()) {
        return;
    }
    outbox.push_back(std::move(framed));
    if (outbox.size() == 1) {
        write_next();
    }
}

void dns_server::tcp_connection::write_next() {
    asio::async_write(socket,
                      asio::buffer(*outbox.front()),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                          self->outbox.pop_front();
                          --self->pending;
                          if (ec) {
                              self->close();
                              return;
                          }
                          if (!self->outbox.empty()) {
                              self->write_next();
                          }
                      });
}

void dns_server::tcp_connection::close() {
    boost::system::error_code ignored;
    socket.close(ignored);
    idle.cancel();
}

dns_server::dns_server(asio::io_context& ctx, const udp::endpoint& where)
    : state_(std::make_shared<state>(ctx, where)) {
    state_->receive();
    state_->accept();
}

void dns_server::set(const std::string& name, dns_answer_script aaaa, dns_answer_script a) {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->names[name] = type_scripts{{type_aaaa, std::move(aaaa)}, {type_a, std::move(a)}};
    std::erase_if(state_->counts, [&](const auto& c) { return c.first.first == name; });
}

void dns_server::set_type(const std::string& name, std::uint16_t type, dns_answer_script script) {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->names[name][type] = std::move(script);
    state_->counts.erase({name, type});
}

void dns_server::set_pattern(const std::string& suffix,
                             dns_answer_script aaaa,
                             dns_answer_script a) {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->patterns[suffix] = type_scripts{{type_aaaa, std::move(aaaa)}, {type_a, std::move(a)}};
    const std::string key = "*" + suffix;
    std::erase_if(state_->counts, [&](const auto& c) { return c.first.first == key; });
}

void dns_server::set_default_loss_rate(std::uint16_t type, double rate) {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->default_loss[type] = rate;
}

void dns_server::reset() {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->names.clear();
    state_->patterns.clear();
    state_->default_loss.clear();
    state_->counts.clear();
    state_->log.clear();
}

std::vector<dns_server::query> dns_server::queries() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->log;
}

udp::endpoint dns_server::local_endpoint() const {
    return state_->where;  // immutable after construction: no lock needed
}

}  // namespace happy_dial::netns
