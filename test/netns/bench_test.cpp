// The bench checks itself: each impairment is verified with a plain connect, timed, before the
// scenarios trust it; name resolution is checked per family.
#include "catch.hpp"
#include "netns/scenario.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstring>
#include <iostream>
#include <netdb.h>
#include <sys/socket.h>

using namespace happy_dial::netns;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

struct plain_connect_result {
    bool completed = false;
    boost::system::error_code error;
    double ms = 0;
};

/// One plain Asio connect to `address`, given up after `limit`.
plain_connect_result plain_connect(std::string_view address, std::chrono::milliseconds limit) {
    asio::io_context ctx;
    tcp::socket socket(ctx);
    plain_connect_result r;
    const auto start = std::chrono::steady_clock::now();
    socket.async_connect(tcp::endpoint(asio::ip::make_address(std::string(address)), bench::port),
                         [&](boost::system::error_code ec) {
                             r.completed = true;
                             r.error = ec;
                             r.ms = ms(std::chrono::steady_clock::now() - start);
                         });
    ctx.run_for(limit);
    if (!r.completed) {
        r.ms = ms(std::chrono::steady_clock::now() - start);
    }
    std::cout << "[netns] bench: plain connect to " << address << ": "
              << (r.completed ? r.error.message() : std::string("no answer")) << " after " << r.ms
              << " ms\n";
    return r;
}

}  // namespace

TEST_CASE("bench: each impairment verified with a timed plain connect", "[netns][bench]") {
    auto& b = bench::get();
    b.configure({healthy("2001:db8::1"),
                 healthy("127.0.0.1"),
                 black_holed("2001:db8::2"),
                 black_holed("127.0.0.2"),
                 refusing("2001:db8::3"),
                 refusing("127.0.0.3"),
                 unreachable("2001:db8::4"),
                 unreachable("127.0.0.4"),
                 slow("2001:db8::5", 200ms),
                 slow("127.0.0.5", 200ms)});
    // Tolerance: 30 ms above each physical bound (2 busy cores).
    for (const char* a : {"2001:db8::1", "127.0.0.1"}) {
        const auto r = plain_connect(a, 1000ms);
        INFO(a << ": " << r.error.message() << " after " << r.ms << " ms");
        CHECK(r.completed);
        CHECK_FALSE(r.error);
        CHECK(r.ms < 30);
    }
    for (const char* a : {"2001:db8::3", "127.0.0.3"}) {
        const auto r = plain_connect(a, 1000ms);
        INFO(a << ": " << r.error.message() << " after " << r.ms << " ms");
        CHECK(r.error == asio::error::connection_refused);
        CHECK(r.ms < 30);
    }
    for (const char* a : {"2001:db8::4", "127.0.0.4"}) {
        const auto r = plain_connect(a, 1000ms);
        INFO(a << ": " << r.error.message() << " after " << r.ms << " ms");
        CHECK(r.error == asio::error::host_unreachable);
        CHECK(r.ms >= 2);
        CHECK(r.ms < 2 + 30);
    }
    for (const char* a : {"2001:db8::5", "127.0.0.5"}) {
        const auto r = plain_connect(a, 1000ms);
        INFO(a << ": " << r.error.message() << " after " << r.ms << " ms");
        CHECK_FALSE(r.error);
        CHECK(r.ms >= 200);
        CHECK(r.ms < 200 + 30);
    }
    b.reset_syns();
    for (const char* a : {"2001:db8::2", "127.0.0.2"}) {
        const auto r = plain_connect(a, 700ms);
        INFO(a << ": after " << r.ms << " ms");
        CHECK_FALSE(r.completed);  // nothing came back within 700 ms
    }
    const auto counts = b.syn_counts();
    CHECK(counts.at(asio::ip::make_address("2001:db8::2")) == 1);
    CHECK(counts.at(asio::ip::make_address("127.0.0.2")) == 1);
}

namespace {

struct lookup_result {
    int rc = 0;
    double ms = 0;
    std::vector<std::string> addresses;
};

/// getaddrinfo for one family, as happy_dial's resolver threads call it (no flags).
lookup_result lookup(const std::string& host, int family) {
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    lookup_result r;
    const auto start = std::chrono::steady_clock::now();
    r.rc = ::getaddrinfo(host.c_str(), "7080", &hints, &res);
    r.ms = ms(std::chrono::steady_clock::now() - start);
    for (auto* i = res; i; i = i->ai_next) {
        tcp::endpoint e;
        std::memcpy(e.data(), i->ai_addr, i->ai_addrlen);
        r.addresses.push_back(e.address().to_string());
    }
    if (res) {
        ::freeaddrinfo(res);
    }
    return r;
}

std::vector<std::uint16_t> query_types(const std::vector<dns_server::query>& log) {
    std::vector<std::uint16_t> types;
    for (const auto& q : log) {
        types.push_back(q.type);
    }
    return types;
}

}  // namespace

TEST_CASE("bench: name resolution per family through the hosts file and the DNS server",
          "[netns][bench]") {
    auto& b = bench::get();
    b.configure({});
    using addr = asio::ip::address;
    const auto a = [](const char* s) { return asio::ip::make_address(s); };

    // The hosts file keeps its order within a family (RFC 6724 sorting leaves these alone).
    b.write_hosts("hosts.hd.test",
                  {a("2001:db8::13"), a("127.0.0.13"), a("2001:db8::11"), a("127.0.0.11")});
    auto v6 = lookup("hosts.hd.test", AF_INET6);
    auto v4 = lookup("hosts.hd.test", AF_INET);
    CHECK(v6.rc == 0);
    CHECK(v6.addresses == std::vector<std::string>{"2001:db8::13", "2001:db8::11"});
    CHECK(v4.addresses == std::vector<std::string>{"127.0.0.13", "127.0.0.11"});
    CHECK(b.dns().queries().empty());

    // Per-family getaddrinfo sends exactly one query of its own type; each answer keeps its
    // own delay. Tolerance: 30 ms above the configured delay.
    const std::vector<addr> six{a("2001:db8::12"), a("2001:db8::11")};
    const std::vector<addr> four{a("127.0.0.12"), a("127.0.0.11")};
    b.dns().set("dns.hd.test", {six, 200ms, false}, {four, 0ms, false});
    v6 = lookup("dns.hd.test", AF_INET6);
    INFO("AF_INET6 lookup: " << v6.ms << " ms");
    CHECK(v6.rc == 0);
    CHECK(v6.addresses == std::vector<std::string>{"2001:db8::12", "2001:db8::11"});
    CHECK(v6.ms >= 200);
    CHECK(v6.ms < 200 + 30);
    CHECK(query_types(b.dns().queries()) == std::vector<std::uint16_t>{dns_server::type_aaaa});
    v4 = lookup("dns.hd.test", AF_INET);
    INFO("AF_INET lookup: " << v4.ms << " ms");
    CHECK(v4.rc == 0);
    CHECK(v4.addresses == std::vector<std::string>{"127.0.0.12", "127.0.0.11"});
    CHECK(v4.ms < 30);
    CHECK(query_types(b.dns().queries()) ==
          std::vector<std::uint16_t>{dns_server::type_aaaa, dns_server::type_a});

    // A lost answer: glibc gives up after one try of 1 s (resolv.conf: timeout:1 attempts:1).
    b.dns().reset();
    b.dns().set("lost.hd.test", {six, 0ms, true}, {four, 0ms, false});
    const auto lost = lookup("lost.hd.test", AF_INET6);
    INFO("lost AAAA lookup: " << lost.ms << " ms, rc " << lost.rc);
    CHECK(lost.rc != 0);
    CHECK(lost.ms >= 1000);
    CHECK(lost.ms < 1000 + 500);
    std::cout << "[netns] bench: AF_INET6 lookup (AAAA +200 ms) " << v6.ms << " ms, AF_INET "
              << v4.ms << " ms, lost AAAA gives up after " << lost.ms << " ms\n";
}
