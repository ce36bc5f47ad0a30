// Bad input: every malformed host, service, range, policy, delay, hook or handler gets a
// specific, documented outcome (docs/reliability.md), never a crash, a hang or a generic error.
// (test/op/dial_test.cpp "bad input gets its own error" covers the first cases of each kind.)
#include "catch.hpp"
#include "op/loopback.hpp"
#include "support/counting_allocator.hpp"

#include <happy_dial/happy_dial.hpp>
#include <happy_dial/testing/mock_network.hpp>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace happy_dial;
using namespace happy_dial::test;
using namespace happy_dial::testing;
using namespace std::chrono_literals;
using core::address_family;

namespace {

// Dials and runs the context; the completion must come exactly once and hold no socket on error.
struct dialer_probe {
    asio::io_context ctx;
    asio::steady_timer warm{ctx};  // creates the reactor: its descriptors exist from here on

    template <class Initiate>
    boost::system::error_code run(Initiate initiate) {
        int calls = 0;
        boost::system::error_code result = asio::error::would_block;
        initiate([&](boost::system::error_code ec, tcp::socket s) {
            ++calls;
            result = ec;
            CHECK(s.is_open() == !ec);
        });
        ctx.restart();
        ctx.run_for(10s);
        CHECK(ctx.stopped());  // completed, nothing left behind
        CHECK(calls == 1);
        return result;
    }

    boost::system::error_code dial(const std::vector<tcp::endpoint>& range,
                                   dial_options options = {}) {
        return run([&](auto handler) { async_dial(ctx, range, options, std::move(handler)); });
    }

    boost::system::error_code dial(const std::string& host,
                                   const std::string& service,
                                   dial_options options = {}) {
        return run(
            [&](auto handler) { async_dial(ctx, host, service, options, std::move(handler)); });
    }
};

tcp::endpoint ep(const char* address, unsigned short port) {
    return {asio::ip::make_address(address), port};
}

}  // namespace

TEST_CASE("bad input: host names that are empty, too long or hold invalid characters",
          "[fault][input]") {
    dialer_probe p;
    CHECK(p.dial("", "443") == error::empty_host);
    CHECK(p.dial("[]", "443") == error::empty_host);  // an empty IPv6 literal
    CHECK(p.dial(std::string(254, 'a'), "443") == error::invalid_host);
    CHECK(p.dial(std::string(100000, 'a'), "443") == error::invalid_host);
    for (const std::string host :
         {"bad host",
          "bad/host",
          "bad@host",
          "bad\nhost",
          "bad\thost",
          "ex\xc3\xa4mple.test",
          "bad\\host",
          "a;b",
          "a,b",
          "host?",
          "*.test",
          "a..test",  // empty label (issue 13)
          ".test",
          "test..",
          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test"}) {
        INFO("host: " << host);
        CHECK(p.dial(host, "443") == error::invalid_host);
    }
    CHECK(p.dial(std::string("bad\0host", 8), "443") == error::invalid_host);  // embedded NUL

    // 253 bytes is allowed: it reaches the (scripted) resolver, which does not know it.
    auto net = mock_network::create(p.ctx.get_executor());
    std::string longest;
    while (longest.size() < 253) {
        longest += longest.size() + 2 <= 253 ? "a." : "a";
    }
    REQUIRE(longest.size() == 253);
    CHECK(p.dial(longest, "443", net->options()) == asio::error::host_not_found);
    CHECK(net->lookups().size() == 2);
}

TEST_CASE("bad input: ports 0, above 65535, empty, too long, and unknown service names",
          "[fault][input]") {
    dialer_probe p;
    for (const std::string service :
         {"0", "00000", "65536", "99999", "123456", "", "18446744073709551617"}) {
        INFO("service: " << service);
        CHECK(p.dial("127.0.0.1", service) == error::invalid_service);
        CHECK(p.dial("::1", service) == error::invalid_service);
    }
    // An unknown service name is rejected before any name lookup, the same by both resolvers
    // (getaddrinfo: EAI_SERVICE; c-ares: /etc/services is read first): invalid_service.
    for (const auto backend : {resolver_backend::system, resolver_backend::c_ares}) {
        if (backend == resolver_backend::c_ares && !c_ares_available()) {
            continue;
        }
        INFO("resolver: " << to_string(backend));
        dial_report report;
        dial_options options;
        options.report = &report;
        options.resolver = backend;
        CHECK(p.dial("localhost", "no-such-service-happy-dial", options) == error::invalid_service);
        CHECK(report.attempts.empty());
    }
    CHECK(p.dial("127.0.0.1", "-1") == error::invalid_service);
    CHECK(p.dial("127.0.0.1", "80a") == error::invalid_service);
}

TEST_CASE("bad input: the largest and padded ports are accepted", "[fault][input]") {
    refusing_port refused(loopback_v4);
    dialer_probe p;
    const auto port = std::to_string(refused.endpoint().port());
    CHECK(p.dial("127.0.0.1", port) == asio::error::connection_refused);
    CHECK(p.dial("127.0.0.1", std::string(5 - std::min<std::size_t>(5, port.size()), '0') + port) ==
          asio::error::connection_refused);
}

TEST_CASE("bad input: empty, all-invalid and all-filtered endpoint ranges", "[fault][input]") {
    dialer_probe p;
    CHECK(p.dial(std::vector<tcp::endpoint>{}) == error::no_endpoints);
    const std::vector<tcp::endpoint> invalid{ep("0.0.0.0", 80),
                                             ep("::", 80),
                                             ep("224.0.0.1", 80),
                                             ep("ff02::1", 80),
                                             ep("255.255.255.255", 80),
                                             ep("127.0.0.1", 0)};
    CHECK(p.dial(invalid) == error::invalid_endpoint);

    const std::vector<tcp::endpoint> loopback{ep("127.0.0.1", 9), ep("::1", 9)};
    dial_options refuse_all;
    refuse_all.endpoint_filter = [](const tcp::endpoint&) { return false; };
    CHECK(p.dial(loopback, refuse_all) == error::all_endpoints_filtered);

    dial_options throwing;
    throwing.endpoint_filter = [](const tcp::endpoint&) -> bool {
        throw std::runtime_error("filter");
    };
    CHECK(p.dial(loopback, throwing) == error::all_endpoints_filtered);

    // Filtered beats invalid: the caller's own policy explains best why nothing was dialled.
    auto mixed = invalid;
    mixed.insert(mixed.end(), loopback.begin(), loopback.end());
    dial_report report;
    refuse_all.report = &report;
    CHECK(p.dial(mixed, refuse_all) == error::all_endpoints_filtered);
    CHECK(report.attempts.empty());
    REQUIRE(report.answers.size() == 1);
    CHECK(report.answers[0].addresses == mixed.size());
    CHECK(report.answers[0].accepted == 0);
}

TEST_CASE("bad input: a family policy that leaves no address", "[fault][input]") {
    dialer_probe p;
    dial_options v6_only, v4_only;
    v6_only.family = family_preference::ipv6_only;
    v4_only.family = family_preference::ipv4_only;
    CHECK(p.dial(std::vector<tcp::endpoint>{ep("127.0.0.1", 9), ep("127.0.0.2", 9)}, v6_only) ==
          error::family_excluded);
    CHECK(p.dial(std::vector<tcp::endpoint>{ep("::1", 9)}, v4_only) == error::family_excluded);
    // IP literals take the same path.
    CHECK(p.dial("::1", "9", v4_only) == error::family_excluded);
    CHECK(p.dial("[::1]", "9", v4_only) == error::family_excluded);
    CHECK(p.dial("127.0.0.1", "9", v6_only) == error::family_excluded);

    // A host name: the excluded family is not even queried, so the allowed family's answer
    // decides: NODATA gives no_endpoints, a resolver error is passed through.
    auto net = mock_network::create(p.ctx.get_executor());
    net->answer("v4.test", address_family::ipv4, {"192.0.2.1"});
    net->answer("v4.test", address_family::ipv6, {});
    CHECK(p.dial("v4.test", "443", net->options(v6_only)) == error::no_endpoints);
    net->answer("v6.test", address_family::ipv6, {"2001:db8::1"});
    net->answer("v6.test", address_family::ipv4, {}, 0ms, asio::error::host_not_found);
    CHECK(p.dial("v6.test", "443", net->options(v4_only)) == asio::error::host_not_found);
    for (const auto& l : net->lookups()) {
        CHECK(((l.host == "v4.test" && l.family == address_family::ipv6) ||
               (l.host == "v6.test" && l.family == address_family::ipv4)));
    }
    CHECK(net->connects().empty());
}

TEST_CASE("bad input: negative, zero and huge delays and timeouts", "[fault][input]") {
    refusing_port refused(loopback_v4);
    const std::vector<tcp::endpoint> target{refused.endpoint()};
    dialer_probe p;
    using ms = std::chrono::milliseconds;
    constexpr auto max = ms::max();
    constexpr auto min = ms::min();
    const ms day(std::chrono::hours(24));
    // Wraps to about +99 ms when converted to nanoseconds without care: must still be rejected.
    const ms wraps(18'446'744'073'809);

    auto with = [](auto set) {
        dial_options o;
        set(o);
        return o;
    };
    // Resolution Delay: 0 is "don't wait", negative or beyond 24 h is a mistake.
    for (const ms bad : {ms(-1), day + ms(1), max, min, wraps, -wraps}) {
        INFO("resolution_delay " << bad.count());
        CHECK(p.dial(target, with([&](dial_options& o) { o.resolution_delay = bad; })) ==
              error::invalid_delay);
    }
    // Connection Attempt Delay: must be positive (clamped to [10 ms, 2 s]).
    for (const ms bad : {ms(0), ms(-1), day + ms(1), max, min, wraps, -wraps}) {
        INFO("connection_attempt_delay " << bad.count());
        CHECK(p.dial(target, with([&](dial_options& o) { o.connection_attempt_delay = bad; })) ==
              error::invalid_delay);
    }
    // Timeouts: positive, at most 24 h.
    for (const ms bad : {ms(0), ms(-1), day + ms(1), max, min, wraps, -wraps}) {
        INFO("timeout " << bad.count());
        CHECK(p.dial(target, with([&](dial_options& o) { o.timeout = bad; })) ==
              error::invalid_timeout);
        CHECK(p.dial(target, with([&](dial_options& o) { o.attempt_timeout = bad; })) ==
              error::invalid_timeout);
    }
    // The limits themselves are valid; huge delays are clamped, so the dial is not slowed.
    const auto start = std::chrono::steady_clock::now();
    CHECK(p.dial(target, with([&](dial_options& o) {
                     o.resolution_delay = day;
                     o.connection_attempt_delay = day;
                     o.timeout = day;
                     o.attempt_timeout = day;
                 })) == asio::error::connection_refused);
    CHECK(p.dial(target, with([&](dial_options& o) {
                     o.resolution_delay = ms(0);
                     o.connection_attempt_delay = ms(1);
                     o.timeout = ms(1000);
                     o.attempt_timeout = ms(1);
                 })) != error::invalid_timeout);
    CHECK(std::chrono::steady_clock::now() - start < 5s);
    // A huge first-address-family count is fine.
    CHECK(p.dial(target, with([](dial_options& o) {
                     o.first_address_family_count = std::numeric_limits<unsigned>::max();
                 })) == asio::error::connection_refused);
}

TEST_CASE("bad input: a setup hook that throws fails each attempt, closes its socket",
          "[fault][input]") {
    accepting_listener ok(loopback_v4);
    accepting_listener ok2(asio::ip::make_address("127.0.0.2"));
    dialer_probe p;
    const int fds = open_fd_count();
    dial_report report;
    dial_options options;
    options.report = &report;
    int calls = 0;
    options.socket_setup = [&](tcp::socket&, const tcp::endpoint&, boost::system::error_code&) {
        if (++calls % 2) {
            throw std::runtime_error("hook");
        }
        throw 42;  // not even a std::exception
    };
    CHECK(p.dial(std::vector<tcp::endpoint>{ok.endpoint(), ok2.endpoint()}, options) ==
          error::setup_hook_threw);
    CHECK(calls == 2);
    REQUIRE(report.attempts.size() == 2);
    for (const auto& a : report.attempts) {
        CHECK(a.error == error::setup_hook_threw);
        CHECK(a.outcome == attempt_outcome::failed);
    }
    CHECK(open_fd_count() == fds);
}

TEST_CASE("bad input: a handler that throws propagates out of run(), nothing leaks",
          "[fault][input]") {
    // Like any Asio completion handler, an exception thrown by the handler propagates out of
    // io_context::run(). The dial's state is freed before the handler is called, so there is
    // nothing left to clean up; the context can be run again for the other operations.
    accepting_listener ok(loopback_v4);
    refusing_port refused(loopback_v4);
    const int fds = open_fd_count();
    allocation_counters counters;
    int thrown = 0, calls = 0, other_calls = 0;
    {
        asio::io_context ctx;
        asio::cancellation_signal signal;
        counting_allocator<char> alloc(&counters);
        auto throwing = [&](boost::system::error_code, tcp::socket) {
            ++calls;
            throw std::runtime_error("handler");
        };
        auto other = [&](boost::system::error_code ec, tcp::socket s) {
            ++other_calls;
            CHECK_FALSE(ec);
            CHECK(s.is_open());
        };
        // Success path, failure path, bad input path; and two that must complete normally.
        async_dial(
            ctx,
            std::vector<tcp::endpoint>{ok.endpoint()},
            asio::bind_cancellation_slot(signal.slot(), asio::bind_allocator(alloc, throwing)));
        async_dial(ctx,
                   std::vector<tcp::endpoint>{refused.endpoint()},
                   asio::bind_allocator(alloc, throwing));
        async_dial(ctx, "", "443", asio::bind_allocator(alloc, throwing));
        async_dial(
            ctx, std::vector<tcp::endpoint>{ok.endpoint()}, asio::bind_allocator(alloc, other));
        tcp::socket filled(ctx);
        happy_dial::async_connect(
            filled,
            std::vector<tcp::endpoint>{ok.endpoint()},
            asio::bind_allocator(alloc, [&](boost::system::error_code, tcp::endpoint) {
                ++calls;
                throw std::logic_error("connect handler");
            }));
        for (int i = 0; i < 10 && !ctx.stopped(); ++i) {
            try {
                ctx.run_for(10s);
            } catch (const std::exception&) {
                ++thrown;
            }
        }
        CHECK(ctx.stopped());
        CHECK(thrown == 4);
        CHECK(calls == 4);
        CHECK(other_calls == 1);
        CHECK(counters.live == 0);                       // every dial's state is freed
        signal.emit(asio::cancellation_type::terminal);  // after completion: does nothing
        CHECK(filled.is_open());  // the async_connect filled the socket before the throw
        ctx.restart();
        CHECK(ctx.run() == 0);
    }
    CHECK(open_fd_count() == fds);
}
