#include "catch.hpp"

#include <happy_dial/happy_dial.hpp>
#include <happy_dial/testing/mock_network.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>

using namespace happy_dial;
using namespace happy_dial::testing;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using core::address_family;

namespace {

struct outcome {
    boost::system::error_code ec = asio::error::would_block;
    tcp::socket socket;
    std::chrono::milliseconds elapsed{};
    dial_report report;
};

// Dials `host` over the mock network on a fresh io_context and runs it to completion.
outcome dial(asio::io_context& ctx,
             mock_network& net,
             const std::string& host,
             dial_options options = {},
             const std::string& service = "443") {
    outcome out{asio::error::would_block, tcp::socket(ctx), {}, {}};
    options.report = &out.report;
    const auto start = clock_type::now();
    async_dial(
        ctx, host, service, net.options(options), [&](boost::system::error_code ec, tcp::socket s) {
            out.ec = ec;
            out.socket = std::move(s);
            out.elapsed =
                std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start);
        });
    ctx.run();
    return out;
}

}  // namespace

TEST_CASE("mock: slow AAAA costs one Resolution Delay, not the AAAA delay (RFC 8305 §3)",
          "[op][mock]") {
    asio::io_context ctx;
    auto net = mock_network::create(ctx.get_executor());
    net->answer("svc.test", address_family::ipv6, {"2001:db8::1"}, 300ms);
    net->answer("svc.test", address_family::ipv4, {"192.0.2.1"}, 0ms);
    net->endpoint("2001:db8::1", 443, behaviour::connects);
    net->endpoint("192.0.2.1", 443, behaviour::connects);
    auto out = dial(ctx, *net, "svc.test");
    REQUIRE_FALSE(out.ec);
    CHECK(out.socket.is_open());
    CHECK(out.elapsed >= 50ms);
    CHECK(out.elapsed < 120ms);
    REQUIRE(out.report.attempts.size() == 1);
    CHECK(out.report.attempts[0].endpoint.address().is_v4());
}

TEST_CASE("mock: slow A does not delay IPv6", "[op][mock]") {
    asio::io_context ctx;
    auto net = mock_network::create(ctx.get_executor());
    net->answer("svc.test", address_family::ipv6, {"2001:db8::1"}, 0ms);
    net->answer("svc.test", address_family::ipv4, {"192.0.2.1"}, 300ms);
    net->endpoint("2001:db8::1", 443, behaviour::connects);
    auto out = dial(ctx, *net, "svc.test");
    REQUIRE_FALSE(out.ec);
    CHECK(out.elapsed < 50ms);
    CHECK(out.report.attempts.at(0).endpoint.address().is_v6());
}

TEST_CASE("mock: lost AAAA answer falls back to IPv4 after the Resolution Delay", "[op][mock]") {
    asio::io_context ctx;
    auto net = mock_network::create(ctx.get_executor());
    net->never_answer("svc.test", address_family::ipv6);
    net->answer("svc.test", address_family::ipv4, {"192.0.2.1"});
    net->endpoint("192.0.2.1", 443, behaviour::connects);
    auto out = dial(ctx, *net, "svc.test");
    REQUIRE_FALSE(out.ec);
    CHECK(out.elapsed >= 50ms);
    CHECK(out.elapsed < 120ms);
}

TEST_CASE("mock: black-holed IPv6 host falls back after the attempt delay", "[op][mock]") {
    asio::io_context ctx;
    auto net = mock_network::create(ctx.get_executor());
    net->resolve("svc.test", {"2001:db8::1", "192.0.2.1"});
    net->endpoint("2001:db8::1", 443, behaviour::never);
    net->endpoint("192.0.2.1", 443, behaviour::connects, 5ms);
    auto out = dial(ctx, *net, "svc.test");
    REQUIRE_FALSE(out.ec);
    CHECK(out.elapsed >= 255ms);
    CHECK(out.elapsed < 320ms);
    CHECK(net->pending_connects() == 0);
    REQUIRE(out.report.attempts.size() == 2);
    CHECK(out.report.attempts[0].outcome == attempt_outcome::cancelled);
    CHECK(out.report.winner == 1u);
}

TEST_CASE("mock: unknown host reports host_not_found", "[op][mock]") {
    asio::io_context ctx;
    auto net = mock_network::create(ctx.get_executor());
    auto out = dial(ctx, *net, "nowhere.test");
    CHECK(out.ec == asio::error::host_not_found);
    CHECK(net->connects().empty());
}

TEST_CASE("mock: a service name resolves like getaddrinfo, an unknown one fails (issue 11)",
          "[op][mock]") {
    asio::io_context ctx;
    auto net = mock_network::create(ctx.get_executor());
    net->resolve("svc.test", {"192.0.2.1"});
    net->endpoint("192.0.2.1", 443, behaviour::connects);
    SECTION("https is port 443 (/etc/services), as for the real network") {
        auto out = dial(ctx, *net, "svc.test", {}, "https");
        REQUIRE_FALSE(out.ec);
        REQUIRE(net->connects().size() == 1);
        CHECK(net->connects()[0].target.port() == 443);
    }
    SECTION("an unknown name completes through the handler with invalid_service") {
        auto out = dial(ctx, *net, "svc.test", {}, "no-such-service-name");
        CHECK(out.ec == error::invalid_service);
        CHECK(net->connects().empty());
    }
}

TEST_CASE("mock: a scripted address that does not parse throws when scripted, not in a dial",
          "[op][mock]") {
    asio::io_context ctx;
    auto net = mock_network::create(ctx.get_executor());
    CHECK_THROWS(net->answer("svc.test", address_family::ipv4, {"192.0.2.300"}));
}
