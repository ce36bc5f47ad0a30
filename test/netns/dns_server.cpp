#include "netns/dns_server.hpp"

#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

namespace happy_dial::netns {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;

struct parsed_query {
    std::uint16_t id = 0;
    std::uint16_t flags = 0;
    std::string name;
    std::uint16_t type = 0;
    std::size_t question_end = 0;  ///< offset just after the question (qtype, qclass)
};

std::optional<parsed_query> parse(const unsigned char* p, std::size_t n) {
    if (n < 12) {
        return std::nullopt;
    }
    parsed_query q;
    q.id = static_cast<std::uint16_t>((p[0] << 8) | p[1]);
    q.flags = static_cast<std::uint16_t>((p[2] << 8) | p[3]);
    const unsigned qdcount = (p[4] << 8) | p[5];
    if ((q.flags & 0x8000) != 0 || qdcount != 1) {
        return std::nullopt;
    }
    std::size_t at = 12;
    // At most 127 labels in a name: bounded.
    for (int labels = 0; labels < 128; ++labels) {
        if (at >= n) {
            return std::nullopt;
        }
        const std::size_t len = p[at++];
        if (len == 0) {
            break;
        }
        if (len > 63 || at + len > n) {
            return std::nullopt;
        }
        if (!q.name.empty()) {
            q.name += '.';
        }
        for (std::size_t i = 0; i < len; ++i) {
            q.name += static_cast<char>(std::tolower(p[at + i]));
        }
        at += len;
    }
    if (at + 4 > n) {
        return std::nullopt;
    }
    q.type = static_cast<std::uint16_t>((p[at] << 8) | p[at + 1]);
    q.question_end = at + 4;
    return q;
}

void put16(std::vector<unsigned char>& out, unsigned v) {
    out.push_back(static_cast<unsigned char>(v >> 8));
    out.push_back(static_cast<unsigned char>(v));
}

std::vector<unsigned char> build_response(const unsigned char* query,
                                          const parsed_query& q,
                                          unsigned rcode,
                                          const std::vector<asio::ip::address>& records) {
    std::vector<unsigned char> out;
    put16(out, q.id);
    put16(out, 0x8000 | 0x0400 | (q.flags & 0x0100) | 0x0080 | rcode);  // QR AA RD RA rcode
    put16(out, 1);
    put16(out, static_cast<unsigned>(records.size()));
    put16(out, 0);
    put16(out, 0);
    out.insert(out.end(), query + 12, query + q.question_end);
    for (const auto& a : records) {
        put16(out, 0xc00c);  // the name in the question
        put16(out, a.is_v6() ? dns_server::type_aaaa : dns_server::type_a);
        put16(out, 1);  // IN
        put16(out, 0);  // TTL 0: nobody caches
        put16(out, 0);
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
    return out;
}

}  // namespace

struct dns_server::state {
    explicit state(asio::io_context& ctx, const udp::endpoint& where) : socket(ctx, where) {}

    udp::socket socket;
    std::array<unsigned char, 1500> buffer{};
    udp::endpoint sender;

    mutable std::mutex mutex;
    struct scripts {
        dns_answer_script aaaa, a;
    };
    std::map<std::string, scripts> names;
    std::vector<query> log;
};

dns_server::dns_server(asio::io_context& ctx, const udp::endpoint& where)
    : state_(std::make_shared<state>(ctx, where)) {
    receive(state_);
}

void dns_server::set(const std::string& name, dns_answer_script aaaa, dns_answer_script a) {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->names[name] = state::scripts{std::move(aaaa), std::move(a)};
}

void dns_server::reset() {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->names.clear();
    state_->log.clear();
}

std::vector<dns_server::query> dns_server::queries() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->log;
}

void dns_server::receive(const std::shared_ptr<state>& s) {
    s->socket.async_receive_from(
        asio::buffer(s->buffer), s->sender, [s](boost::system::error_code ec, std::size_t n) {
            if (ec == asio::error::operation_aborted) {
                return;
            }
            const auto q = ec ? std::nullopt : parse(s->buffer.data(), n);
            if (q) {
                unsigned rcode = 3;  // NXDOMAIN
                std::optional<dns_answer_script> script;
                {
                    std::lock_guard<std::mutex> lock(s->mutex);
                    s->log.push_back(query{std::chrono::steady_clock::now(), q->name, q->type});
                    if (auto it = s->names.find(q->name); it != s->names.end()) {
                        rcode = 0;
                        if (q->type == type_aaaa) {
                            script = it->second.aaaa;
                        } else if (q->type == type_a) {
                            script = it->second.a;
                        }
                    }
                }
                if (!script || !script->lost) {
                    std::vector<asio::ip::address> records;
                    if (script) {
                        records = script->addresses;
                    }
                    auto reply = std::make_shared<std::vector<unsigned char>>(
                        build_response(s->buffer.data(), *q, rcode, records));
                    const auto to = s->sender;
                    const auto delay = script ? script->delay : std::chrono::milliseconds(0);
                    auto timer = std::make_shared<asio::steady_timer>(s->socket.get_executor());
                    timer->expires_after(delay);
                    timer->async_wait([s, reply, to, timer](boost::system::error_code) {
                        boost::system::error_code ignored;
                        s->socket.send_to(asio::buffer(*reply), to, 0, ignored);
                    });
                }
            }
            receive(s);
        });
}

}  // namespace happy_dial::netns
