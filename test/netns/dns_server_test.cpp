// The scripted DNS server checks itself over loopback: hand-built queries over UDP and TCP to a
// server on 127.0.0.1 (ephemeral port), without the bench. Each case runs in its own fresh
// namespace (run-in-netns.sh), where only lo has to be brought up.
#include "catch.hpp"
#include "netns/bench.hpp"
#include "netns/dns_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace happy_dial::netns;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using udp = asio::ip::udp;
using tcp = asio::ip::tcp;

namespace {

using bytes = std::vector<unsigned char>;

/// Long enough for an answer on loopback, short enough that waiting out each deliberately
/// dropped query keeps a case well under 3 s.
constexpr auto drop_wait = 100ms;
constexpr auto answer_wait = 1000ms;

/// A fresh namespace's lo is down; the server and its clients need it up.
bool bring_lo_up() {
    std::string out;
    return run_command({"ip", "link", "set", "lo", "up"}, &out) == 0;
}

/// A dns_server on 127.0.0.1, port chosen by the kernel, on its own io_context thread.
struct loopback_server {
    loopback_server() : lo_up(bring_lo_up()), dns(ctx, {asio::ip::make_address("127.0.0.1"), 0}) {
        thread = std::thread([this] { ctx.run(); });
    }
    ~loopback_server() {
        ctx.stop();
        thread.join();
    }
    udp::endpoint udp_endpoint() const { return dns.local_endpoint(); }
    tcp::endpoint tcp_endpoint() const {
        return {dns.local_endpoint().address(), dns.local_endpoint().port()};
    }

    bool lo_up;
    asio::io_context ctx;
    dns_server dns;
    std::thread thread;
};

void put16(bytes& out, unsigned v) {
    out.push_back(static_cast<unsigned char>(v >> 8));
    out.push_back(static_cast<unsigned char>(v));
}

std::uint16_t get16(const bytes& m, std::size_t at) {
    return static_cast<std::uint16_t>((m[at] << 8) | m[at + 1]);
}

/// A standard recursive query (RFC 1035 §4.1): one question `name` `type` IN.
bytes make_query(const std::string& name, std::uint16_t type, std::uint16_t id) {
    bytes q;
    put16(q, id);
    put16(q, 0x0100);  // RD
    put16(q, 1);
    put16(q, 0);
    put16(q, 0);
    put16(q, 0);
    std::size_t start = 0;
    while (start <= name.size()) {
        const auto dot = std::min(name.find('.', start), name.size());
        q.push_back(static_cast<unsigned char>(dot - start));
        q.insert(q.end(),
                 name.begin() + static_cast<std::ptrdiff_t>(start),
                 name.begin() + static_cast<std::ptrdiff_t>(dot));
        start = dot + 1;
    }
    q.push_back(0);
    put16(q, type);
    put16(q, 1);  // IN
    return q;
}

struct record {
    std::uint16_t type = 0;
    std::uint32_t ttl = 0;
    std::string address;
};

struct response {
    std::uint16_t id = 0;
    std::uint16_t flags = 0;
    std::size_t question_end = 0;
    std::vector<record> answers;

    unsigned rcode() const { return flags & 0x000fu; }
    bool truncated() const { return (flags & 0x0200) != 0; }
};

/// One answer record whose owner is the compression pointer 0xC00C; nullopt otherwise.
std::optional<record> parse_record(const bytes& m, std::size_t& at) {
    if (at + 12 > m.size() || get16(m, at) != 0xc00c) {
        return std::nullopt;
    }
    record r;
    r.type = get16(m, at + 2);
    r.ttl = (std::uint32_t{get16(m, at + 6)} << 16) | get16(m, at + 8);
    const std::size_t length = get16(m, at + 10);
    at += 12;
    if (at + length > m.size() || (length != 4 && length != 16)) {
        return std::nullopt;
    }
    if (length == 4) {
        asio::ip::address_v4::bytes_type b;
        std::copy_n(m.begin() + static_cast<std::ptrdiff_t>(at), 4, b.begin());
        r.address = asio::ip::address_v4(b).to_string();
    } else {
        asio::ip::address_v6::bytes_type b;
        std::copy_n(m.begin() + static_cast<std::ptrdiff_t>(at), 16, b.begin());
        r.address = asio::ip::address_v6(b).to_string();
    }
    at += length;
    return r;
}

/// A response to `query`: its question echoed byte for byte, then A/AAAA answers.
std::optional<response> parse_response(const bytes& m, const bytes& query) {
    const std::size_t question_end = query.size();
    if (m.size() < question_end || !std::equal(query.begin() + 12, query.end(), m.begin() + 12)) {
        return std::nullopt;
    }
    response r;
    r.id = get16(m, 0);
    r.flags = get16(m, 2);
    if (get16(m, 4) != 1) {
        return std::nullopt;
    }
    std::size_t at = question_end;
    for (unsigned i = 0; i < get16(m, 6); ++i) {
        auto rec = parse_record(m, at);
        if (!rec) {
            return std::nullopt;
        }
        r.answers.push_back(*rec);
    }
    return at == m.size() ? std::optional<response>(r) : std::nullopt;
}

/// Runs `ctx` until `done` or `wait` has passed; then `cancel` and drain the aborted handlers.
template <class Cancel>
bool run_until(asio::io_context& ctx,
               const bool& done,
               std::chrono::milliseconds wait,
               Cancel cancel) {
    ctx.restart();
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (!done && std::chrono::steady_clock::now() < deadline && !ctx.stopped()) {
        ctx.run_one_until(deadline);
    }
    if (!done) {
        cancel();
        ctx.restart();
        ctx.run();
    }
    return done;
}

/// A UDP client; ids rise with each query so a late answer cannot pass for the next one.
struct udp_client {
    explicit udp_client(udp::endpoint server) : to(server) {}

    /// The parsed response to `name` `type`, or nullopt when none came within `wait`.
    std::optional<response> ask(const std::string& name,
                                std::uint16_t type,
                                std::chrono::milliseconds wait = answer_wait) {
        const auto query = make_query(name, type, ++id);
        socket.send_to(asio::buffer(query), to);
        bytes buffer(1500);
        std::size_t got = 0;
        bool done = false;
        udp::endpoint from;
        socket.async_receive_from(
            asio::buffer(buffer), from, [&](boost::system::error_code ec, std::size_t n) {
                done = !ec;
                got = n;
            });
        if (!run_until(ctx, done, wait, [&] { socket.cancel(); })) {
            return std::nullopt;
        }
        buffer.resize(got);
        auto r = parse_response(buffer, query);
        REQUIRE(r);
        CHECK(r->id == id);
        return r;
    }

    asio::io_context ctx;
    udp::socket socket{ctx, udp::v4()};
    udp::endpoint to;
    std::uint16_t id = 0;
};

/// One TCP connection carrying length-prefixed messages (RFC 1035 §4.2.2).
struct tcp_client {
    explicit tcp_client(tcp::endpoint server) { socket.connect(server); }

    void send(const bytes& message) {
        bytes framed;
        put16(framed, static_cast<unsigned>(message.size()));
        framed.insert(framed.end(), message.begin(), message.end());
        // A server that closed the connection shows in receive(); the write itself may fail.
        boost::system::error_code ignored;
        asio::write(socket, asio::buffer(framed), ignored);
    }

    /// The next message, or nullopt on EOF, error or after `wait`.
    std::optional<bytes> receive(std::chrono::milliseconds wait = answer_wait) {
        std::array<unsigned char, 2> length{};
        bytes message;
        bool done = false;
        bool ok = false;
        asio::async_read(
            socket, asio::buffer(length), [&](boost::system::error_code ec, std::size_t) {
                if (ec) {
                    done = true;
                    return;
                }
                message.resize(static_cast<std::size_t>((length[0] << 8) | length[1]));
                asio::async_read(
                    socket, asio::buffer(message), [&](boost::system::error_code ec2, std::size_t) {
                        done = true;
                        ok = !ec2;
                    });
            });
        boost::system::error_code ignored;
        run_until(ctx, done, wait, [&] { socket.cancel(ignored); });
        return ok ? std::optional<bytes>(message) : std::nullopt;
    }

    std::optional<response> ask(const std::string& name, std::uint16_t type) {
        const auto query = make_query(name, type, ++id);
        send(query);
        const auto m = receive();
        if (!m) {
            return std::nullopt;
        }
        return parse_response(*m, query);
    }

    asio::io_context ctx;
    tcp::socket socket{ctx};
    std::uint16_t id = 0;
};

asio::ip::address addr(const char* s) {
    return asio::ip::make_address(s);
}

dns_answer_script answering(std::vector<asio::ip::address> addresses) {
    dns_answer_script s;
    s.addresses = std::move(addresses);
    return s;
}

dns_answer_script with_rcode(dns_rcode rcode) {
    dns_answer_script s;
    s.rcode = rcode;
    return s;
}

std::size_t count_outcome(const std::vector<dns_server::query>& log,
                          dns_transport t,
                          dns_query_outcome o) {
    return static_cast<std::size_t>(std::count_if(
        log.begin(), log.end(), [&](const auto& q) { return q.transport == t && q.outcome == o; }));
}

}  // namespace

TEST_CASE("dns_server: TTL per record type in every answer record", "[netns][dns_server]") {
    loopback_server s;
    REQUIRE(s.lo_up);
    auto aaaa = answering({addr("2001:db8::21"), addr("2001:db8::22")});
    aaaa.ttl = 60;
    auto a = answering({addr("127.0.0.21")});
    a.ttl = 86400;
    s.dns.set("ttl.hd.test", aaaa, a);
    s.dns.set("default.hd.test", answering({addr("2001:db8::23")}), answering({}));
    udp_client c(s.udp_endpoint());

    const auto six = c.ask("ttl.hd.test", dns_server::type_aaaa);
    REQUIRE(six);
    CHECK(six->rcode() == 0);
    CHECK((six->flags & 0x8000) != 0);  // QR
    REQUIRE(six->answers.size() == 2);
    for (const auto& r : six->answers) {
        CHECK(r.type == dns_server::type_aaaa);
        CHECK(r.ttl == 60);
    }
    CHECK(six->answers[0].address == "2001:db8::21");
    CHECK(six->answers[1].address == "2001:db8::22");

    const auto four = c.ask("ttl.hd.test", dns_server::type_a);
    REQUIRE(four);
    REQUIRE(four->answers.size() == 1);
    CHECK(four->answers[0].ttl == 86400);
    CHECK(four->answers[0].address == "127.0.0.21");

    const auto old = c.ask("default.hd.test", dns_server::type_aaaa);  // today's TTL: 0
    REQUIRE(old);
    REQUIRE(old->answers.size() == 1);
    CHECK(old->answers[0].ttl == 0);
    const auto nodata = c.ask("default.hd.test", dns_server::type_a);
    REQUIRE(nodata);
    CHECK(nodata->rcode() == 0);
    CHECK(nodata->answers.empty());
}

TEST_CASE("dns_server: loss_rate 0.1 drops exactly every 10th query of its name and type",
          "[netns][dns_server]") {
    loopback_server s;
    REQUIRE(s.lo_up);
    auto a = answering({addr("127.0.0.31")});
    a.loss_rate = 0.1;
    s.dns.set("lossy.hd.test", answering({addr("2001:db8::31")}), a);
    dns_answer_script lost = answering({addr("127.0.0.32")});
    lost.lost = true;
    s.dns.set("lost.hd.test", answering({}), lost);
    udp_client c(s.udp_endpoint());

    std::vector<int> dropped;
    for (int k = 1; k <= 20; ++k) {
        if (!c.ask("lossy.hd.test", dns_server::type_a, drop_wait)) {
            dropped.push_back(k);
        }
        // The other type of the same name has its own script and counter: never dropped.
        CHECK(c.ask("lossy.hd.test", dns_server::type_aaaa, drop_wait));
    }
    CHECK(dropped == std::vector<int>{10, 20});
    for (int k = 0; k < 3; ++k) {
        CHECK_FALSE(c.ask("lost.hd.test", dns_server::type_a, drop_wait));
    }

    const auto log = s.dns.queries();
    CHECK(log.size() == 43);
    CHECK(count_outcome(log, dns_transport::udp, dns_query_outcome::dropped) == 2 + 3);
    CHECK(count_outcome(log, dns_transport::udp, dns_query_outcome::answered) == 38);
    REQUIRE(log.size() > 19);
    CHECK(log[18].type == dns_server::type_a);  // the 10th A query (A, AAAA alternate)
    CHECK(log[18].outcome == dns_query_outcome::dropped);

    // set() restarts the name's counters: the 10th query from now is the next one dropped.
    s.dns.set("lossy.hd.test", answering({}), a);
    int answered = 0;
    while (answered < 9 && c.ask("lossy.hd.test", dns_server::type_a, drop_wait)) {
        ++answered;
    }
    CHECK(answered == 9);
    CHECK_FALSE(c.ask("lossy.hd.test", dns_server::type_a, drop_wait));
}

TEST_CASE("dns_server: SERVFAIL, REFUSED and NXDOMAIN per record type", "[netns][dns_server]") {
    loopback_server s;
    REQUIRE(s.lo_up);
    auto refused = with_rcode(dns_rcode::refused);
    refused.addresses = {addr("127.0.0.41")};  // not written: only NOERROR carries records
    s.dns.set("codes.hd.test", with_rcode(dns_rcode::servfail), refused);
    s.dns.set("gone.hd.test", with_rcode(dns_rcode::nxdomain), with_rcode(dns_rcode::nxdomain));
    udp_client c(s.udp_endpoint());

    const auto servfail = c.ask("codes.hd.test", dns_server::type_aaaa);
    REQUIRE(servfail);
    CHECK(servfail->rcode() == 2);
    CHECK(servfail->answers.empty());
    const auto refusal = c.ask("codes.hd.test", dns_server::type_a);
    REQUIRE(refusal);
    CHECK(refusal->rcode() == 5);
    CHECK(refusal->answers.empty());
    const auto scripted_nx = c.ask("gone.hd.test", dns_server::type_a);
    REQUIRE(scripted_nx);
    CHECK(scripted_nx->rcode() == 3);
    const auto unknown = c.ask("nobody.hd.test", dns_server::type_aaaa);
    REQUIRE(unknown);
    CHECK(unknown->rcode() == 3);
    CHECK(unknown->answers.empty());
    CHECK((unknown->flags & 0x0100) != 0);  // RD echoed
}

TEST_CASE("dns_server: truncate_udp sets TC over UDP, the full answer comes over TCP",
          "[netns][dns_server]") {
    loopback_server s;
    REQUIRE(s.lo_up);
    auto big = answering({addr("2001:db8::51"), addr("2001:db8::52"), addr("2001:db8::53")});
    big.truncate_udp = true;
    big.ttl = 30;
    s.dns.set("big.hd.test", big, answering({addr("127.0.0.51")}));
    udp_client c(s.udp_endpoint());

    const auto cut = c.ask("big.hd.test", dns_server::type_aaaa);
    REQUIRE(cut);
    CHECK(cut->truncated());
    CHECK(cut->rcode() == 0);
    CHECK(cut->answers.empty());
    const auto whole_a = c.ask("big.hd.test", dns_server::type_a);
    REQUIRE(whole_a);
    CHECK_FALSE(whole_a->truncated());
    CHECK(whole_a->answers.size() == 1);

    // Same address and port over TCP; one connection carries several queries, also pipelined.
    tcp_client t(s.tcp_endpoint());
    const auto full = t.ask("big.hd.test", dns_server::type_aaaa);
    REQUIRE(full);
    CHECK_FALSE(full->truncated());
    REQUIRE(full->answers.size() == 3);
    CHECK(full->answers[2].address == "2001:db8::53");
    CHECK(full->answers[2].ttl == 30);
    const auto q1 = make_query("big.hd.test", dns_server::type_a, 101);
    const auto q2 = make_query("big.hd.test", dns_server::type_aaaa, 102);
    t.send(q1);
    t.send(q2);
    const auto r1 = t.receive();
    const auto r2 = t.receive();
    REQUIRE(r1);
    REQUIRE(r2);
    CHECK(get16(*r1, 0) == 101);
    CHECK(get16(*r2, 0) == 102);
    REQUIRE(parse_response(*r2, q2));
    CHECK(parse_response(*r2, q2)->answers.size() == 3);

    const auto log = s.dns.queries();
    CHECK(count_outcome(log, dns_transport::udp, dns_query_outcome::truncated) == 1);
    CHECK(count_outcome(log, dns_transport::udp, dns_query_outcome::answered) == 1);
    CHECK(count_outcome(log, dns_transport::tcp, dns_query_outcome::answered) == 3);

    // Malformed input closes the connection: a length no query can have, or a bad message.
    tcp_client too_long(s.tcp_endpoint());
    too_long.send(bytes(5000, 0));
    CHECK_FALSE(too_long.receive());
    tcp_client garbage(s.tcp_endpoint());
    garbage.send(
        bytes{0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40});
    CHECK_FALSE(garbage.receive());
    CHECK(s.dns.queries().size() == log.size());

    // At most max_tcp_connections at once: one more is closed as soon as it is accepted.
    std::vector<std::unique_ptr<tcp_client>> many;
    for (std::size_t i = 1; i < dns_server::max_tcp_connections; ++i) {  // t is the first
        many.push_back(std::make_unique<tcp_client>(s.tcp_endpoint()));
    }
    CHECK(many.back()->ask("big.hd.test", dns_server::type_a));
    tcp_client extra(s.tcp_endpoint());
    extra.send(make_query("big.hd.test", dns_server::type_a, 1));
    CHECK_FALSE(extra.receive());
    CHECK(t.ask("big.hd.test", dns_server::type_a));  // the first one still works
}

TEST_CASE("dns_server: pattern names, exact names first, default loss rate for patterns",
          "[netns][dns_server]") {
    loopback_server s;
    REQUIRE(s.lo_up);
    s.dns.set_pattern(".hd.test", answering({}), answering({addr("127.0.0.60")}));
    s.dns.set_pattern(
        ".many.hd.test", answering({addr("2001:db8::61")}), answering({addr("127.0.0.61")}));
    s.dns.set("n7.many.hd.test", answering({}), answering({addr("127.0.0.62")}));
    udp_client c(s.udp_endpoint());

    std::size_t pattern = 0;
    std::size_t exact = 0;
    for (int i = 0; i < 1000; ++i) {
        const auto r = c.ask("n" + std::to_string(i) + ".many.hd.test", dns_server::type_a);
        REQUIRE(r);
        REQUIRE(r->answers.size() == 1);
        pattern += r->answers[0].address == "127.0.0.61";
        exact += r->answers[0].address == "127.0.0.62";
    }
    CHECK(pattern == 999);
    CHECK(exact == 1);
    const auto six = c.ask("n3.many.hd.test", dns_server::type_aaaa);
    REQUIRE(six);
    REQUIRE(six->answers.size() == 1);
    CHECK(six->answers[0].address == "2001:db8::61");
    const auto shorter = c.ask("other.hd.test", dns_server::type_a);  // only ".hd.test" matches
    REQUIRE(shorter);
    REQUIRE(shorter->answers.size() == 1);
    CHECK(shorter->answers[0].address == "127.0.0.60");
    const auto outside = c.ask("hd.test.example", dns_server::type_a);
    REQUIRE(outside);
    CHECK(outside->rcode() == 3);

    // The server-wide default loss rate: one counter for the whole pattern, across its names.
    s.dns.reset();
    s.dns.set_pattern(".lossy.hd.test", answering({}), answering({addr("127.0.0.63")}));
    s.dns.set_default_loss_rate(dns_server::type_a, 0.25);
    std::vector<int> dropped;
    for (int k = 1; k <= 8; ++k) {
        if (!c.ask("n" + std::to_string(k) + ".lossy.hd.test", dns_server::type_a, drop_wait)) {
            dropped.push_back(k);
        }
    }
    CHECK(dropped == std::vector<int>{4, 8});
}

TEST_CASE("dns_server: HTTPS (type 65) and other types get NODATA for a known name",
          "[netns][dns_server]") {
    loopback_server s;
    REQUIRE(s.lo_up);
    s.dns.set("svc.hd.test", answering({addr("2001:db8::71")}), answering({addr("127.0.0.71")}));
    s.dns.set_pattern(".wild.hd.test", answering({}), answering({addr("127.0.0.72")}));
    udp_client c(s.udp_endpoint());

    for (const char* name : {"svc.hd.test", "x.wild.hd.test"}) {
        INFO(name);
        const auto https = c.ask(name, dns_server::type_https);
        REQUIRE(https);
        CHECK(https->rcode() == 0);
        CHECK_FALSE(https->truncated());
        CHECK(https->answers.empty());
        const auto mx = c.ask(name, 15);
        REQUIRE(mx);
        CHECK(mx->rcode() == 0);
        CHECK(mx->answers.empty());
    }
    const auto unknown = c.ask("nobody.hd.test", dns_server::type_https);
    REQUIRE(unknown);
    CHECK(unknown->rcode() == 3);

    // Scripted otherwise: SERVFAIL for HTTPS; A and AAAA keep their scripts.
    s.dns.set_type("svc.hd.test", dns_server::type_https, with_rcode(dns_rcode::servfail));
    const auto failing = c.ask("svc.hd.test", dns_server::type_https);
    REQUIRE(failing);
    CHECK(failing->rcode() == 2);
    const auto four = c.ask("svc.hd.test", dns_server::type_a);
    REQUIRE(four);
    REQUIRE(four->answers.size() == 1);
    CHECK(four->answers[0].address == "127.0.0.71");
    const auto log = s.dns.queries();
    REQUIRE_FALSE(log.empty());
    CHECK(log.front().type == dns_server::type_https);
    CHECK(log.front().name == "svc.hd.test");
}
