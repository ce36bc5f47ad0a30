// The resolver backends on a real io_context, against the suite's scripted DNS server on
// 127.0.0.1 (resolver_settings::dns_servers points c-ares at it; nothing leaves loopback).
#include "catch.hpp"
#include "netns/dns_server.hpp"
#include "op/loopback.hpp"

#include <happy_dial/happy_dial.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

using namespace happy_dial;
using namespace happy_dial::test;
using namespace std::chrono_literals;
using happy_dial::netns::dns_answer_script;
using happy_dial::netns::dns_rcode;
using happy_dial::netns::dns_server;
using clock_type = std::chrono::steady_clock;

namespace {

// A DNS server on 127.0.0.1 with its own thread.
class loopback_dns {
  public:
    loopback_dns() : server_(ctx_, {asio::ip::make_address("127.0.0.1"), 0}) {
        thread_ = std::thread([this] { ctx_.run(); });
    }
    ~loopback_dns() {
        ctx_.stop();
        thread_.join();
    }
    dns_server& operator*() { return server_; }
    dns_server* operator->() { return &server_; }
    resolver_settings settings() const {
        resolver_settings s;
        s.backend = resolver_backend::c_ares;
        s.dns_servers = {server_.local_endpoint()};
        return s;
    }

  private:
    asio::io_context ctx_;
    dns_server server_;
    std::thread thread_;
};

std::size_t open_fds() {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& entry :
         std::filesystem::directory_iterator("/proc/self/fd")) {
        ++n;
    }
    return n;
}

dns_answer_script addresses(std::vector<const char*> list, std::uint32_t ttl = 300) {
    dns_answer_script s;
    for (const char* a : list) {
        s.addresses.push_back(asio::ip::make_address(a));
    }
    s.ttl = ttl;
    return s;
}

dns_answer_script lost() {
    dns_answer_script s;
    s.lost = true;
    return s;
}

struct dial_outcome {
    boost::system::error_code error;
    std::optional<tcp::endpoint> peer;
    dial_report report;
    clock_type::duration elapsed{};
};

dial_outcome dial_by_name(asio::io_context& ctx,
                          const std::string& host,
                          unsigned short port,
                          dial_options options = {}) {
    dial_outcome out;
    options.report = &out.report;
    const auto start = clock_type::now();
    async_dial(ctx, host, std::to_string(port), options, [&](auto ec, tcp::socket s) {
        out.error = ec;
        if (!ec) {
            out.peer = s.remote_endpoint();
        }
    });
    ctx.run();
    out.elapsed = clock_type::now() - start;
    return out;
}

}  // namespace

TEST_CASE("c-ares: a name resolves on the io_context, with its TTL, and connects", "[op][c-ares]") {
    if (!c_ares_available()) {
        WARN("built without c-ares: skipped");
        return;
    }
    loopback_dns dns;
    accepting_listener v4(loopback_v4);
    dns->set("svc.hd.test", dns_answer_script{}, addresses({"127.0.0.1"}, 42));
    asio::io_context ctx;
    configure_resolvers(ctx, dns.settings());
    const auto out = dial_by_name(ctx, "svc.hd.test", v4.endpoint().port());
    REQUIRE_FALSE(out.error);
    CHECK(out.peer == v4.endpoint());
    REQUIRE(out.report.resolver);
    CHECK(out.report.resolver->backend == resolver_backend::c_ares);
    REQUIRE(out.report.answers.size() == 2);
    for (const auto& a : out.report.answers) {
        CHECK_FALSE(a.error);
        if (a.family == address_family::ipv4) {
            CHECK(a.ttl == std::chrono::seconds(42));
        } else {
            CHECK(a.addresses == 0);  // NODATA: no error, no address
        }
    }
    // Both queries were sent at once, AAAA first (RFC 8305 §3).
    const auto queries = dns->queries();
    REQUIRE(queries.size() == 2);
    CHECK(queries[0].type == dns_server::type_aaaa);
    CHECK(queries[1].type == dns_server::type_a);
    CHECK(queries[1].at - queries[0].at < 20ms);
}

TEST_CASE("c-ares: NXDOMAIN, SERVFAIL and REFUSED are distinct errors", "[op][c-ares]") {
    if (!c_ares_available()) {
        WARN("built without c-ares: skipped");
        return;
    }
    loopback_dns dns;
    auto failing = [](dns_rcode rcode) {
        dns_answer_script s;
        s.rcode = rcode;
        return s;
    };
    dns->set("servfail.hd.test", failing(dns_rcode::servfail), failing(dns_rcode::servfail));
    dns->set("refused.hd.test", failing(dns_rcode::refused), failing(dns_rcode::refused));
    dns->set("nodata.hd.test", dns_answer_script{}, dns_answer_script{});
    const std::pair<const char*, boost::system::error_code> cases[] = {
        {"unknown.hd.test", asio::error::host_not_found},
        {"servfail.hd.test", error::dns_server_failure},
        {"refused.hd.test", error::dns_refused},
        {"nodata.hd.test", error::no_endpoints},
    };
    for (const auto& [name, expected] : cases) {
        CAPTURE(name);
        asio::io_context ctx;
        configure_resolvers(ctx, dns.settings());
        const auto out = dial_by_name(ctx, name, 9);
        CHECK(out.error == expected);
    }
}

TEST_CASE("c-ares: a cancelled dial ends its lookups at once and leaves nothing behind",
          "[op][c-ares][cancel]") {
    if (!c_ares_available()) {
        WARN("built without c-ares: skipped");
        return;
    }
    loopback_dns dns;
    dns->set("silent.hd.test", lost(), lost());
    const auto fds_before = open_fds();
    boost::system::error_code result;
    int calls = 0;
    clock_type::time_point cancelled_at;
    clock_type::time_point finished;
    {
        asio::io_context ctx;
        configure_resolvers(ctx, dns.settings());
        asio::cancellation_signal cancel;
        async_dial(ctx,
                   "silent.hd.test",
                   "9",
                   dial_options{},
                   asio::bind_cancellation_slot(cancel.slot(), [&](auto ec, tcp::socket) {
                       result = ec;
                       ++calls;
                   }));
        asio::steady_timer timer(ctx, 30ms);
        timer.async_wait([&](auto) {
            cancelled_at = clock_type::now();
            cancel.emit(asio::cancellation_type::terminal);
        });
        ctx.run();  // returns only when nothing is pending: no descriptor wait, no timer left
        finished = clock_type::now();
    }
    CHECK(calls == 1);
    CHECK(result == asio::error::operation_aborted);
    CHECK(finished - cancelled_at < 50ms);
    CHECK(dns->queries().size() == 2);  // both were sent
    CHECK(open_fds() == fds_before);    // the channels' sockets are closed
}

TEST_CASE("c-ares: a lost AAAA costs only the resolution delay", "[op][c-ares]") {
    if (!c_ares_available()) {
        WARN("built without c-ares: skipped");
        return;
    }
    loopback_dns dns;
    accepting_listener v4(loopback_v4);
    dns->set("v6lost.hd.test", lost(), addresses({"127.0.0.1"}));
    asio::io_context ctx;
    configure_resolvers(ctx, dns.settings());
    const auto out = dial_by_name(ctx, "v6lost.hd.test", v4.endpoint().port());
    REQUIRE_FALSE(out.error);
    CHECK(out.peer == v4.endpoint());
    CHECK(out.elapsed >= 50ms);  // RFC 8305 §3 resolution delay
    CHECK(out.elapsed < 400ms);  // not c-ares's retry timeout
}

TEST_CASE("async_dns_query: a raw query of any type, with every completion token",
          "[op][c-ares][token]") {
    if (!c_ares_available()) {
        WARN("built without c-ares: skipped");
        return;
    }
    loopback_dns dns;
    dns->set("raw.hd.test", addresses({"::1"}, 7), addresses({"127.0.0.1"}, 7));
    asio::io_context ctx;
    configure_resolvers(ctx, dns.settings());
    auto check_answer =
        [](boost::system::error_code ec, const std::vector<std::uint8_t>& bytes, unsigned answers) {
            CHECK_FALSE(ec);
            REQUIRE(bytes.size() >= 12);
            CHECK((bytes[3] & 0x0f) == 0);                        // RCODE NOERROR
            CHECK(((bytes[6] << 8) | bytes[7]) == int(answers));  // ANCOUNT
        };
    SECTION("callback") {
        bool called = false;
        async_dns_query(ctx.get_executor(), "raw.hd.test", 28, [&](auto ec, auto bytes) {
            check_answer(ec, bytes, 1);
            called = true;
        });
        CHECK_FALSE(called);  // never inside the initiating function
        ctx.run();
        CHECK(called);
    }
    SECTION("use_future, and HTTPS (65) is NODATA: no error, no answer") {
        auto f = async_dns_query(ctx.get_executor(), "raw.hd.test", 65, asio::use_future);
        ctx.run();
        const auto bytes = f.get();
        REQUIRE(bytes.size() >= 12);
        CHECK(((bytes[6] << 8) | bytes[7]) == 0);
    }
    SECTION("deferred and use_awaitable") {
        auto op = async_dns_query(ctx.get_executor(), "raw.hd.test", 1, asio::deferred);
        bool called = false;
        std::move(op)([&](auto ec, auto bytes) {
            check_answer(ec, bytes, 1);
            called = true;
        });
        asio::co_spawn(
            ctx,
            [&]() -> asio::awaitable<void> {
                auto bytes = co_await async_dns_query(
                    co_await asio::this_coro::executor, "raw.hd.test", 28, asio::use_awaitable);
                check_answer({}, bytes, 1);
            },
            asio::detached);
        ctx.run();
        CHECK(called);
    }
    SECTION("NXDOMAIN is host_not_found") {
        boost::system::error_code result;
        async_dns_query(
            ctx.get_executor(), "nothing.hd.test", 1, [&](auto ec, auto) { result = ec; });
        ctx.run();
        CHECK(result == asio::error::host_not_found);
    }
}

TEST_CASE("resolver choice: asking for c-ares in a build without it is a clear error",
          "[op][resolver]") {
    if (c_ares_available()) {
        asio::io_context ctx;
        CHECK(effective_resolver(ctx, resolver_backend::c_ares).backend ==
              resolver_backend::c_ares);
        return;
    }
    asio::io_context ctx;
    dial_options options;
    options.resolver = resolver_backend::c_ares;
    CHECK(dial_by_name(ctx, "localhost", 9, options).error == error::resolver_unavailable);
}
