// The observer (issue 17): every callback of a scripted race, in order, on success, failure,
// cancellation and deadline; and the report's completeness (every endpoint's fate, local
// endpoints, the non-preferred-family flag).
#include "catch.hpp"
#include "op/loopback.hpp"

#include <happy_dial/happy_dial.hpp>
#include <happy_dial/testing/mock_network.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace happy_dial;
using namespace happy_dial::testing;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::string text(const tcp::endpoint& ep) {
    std::ostringstream os;
    os << ep;
    return os.str();
}

// Writes each callback as one line; the times are left out (the sequence is the contract).
struct recorder final : dial_observer {
    std::vector<std::string> lines;
    std::uintptr_t dial = 0;
    bool same_dial = true;

    void seen(const dial_event& e) {
        if (dial == 0) {
            dial = e.dial;
        }
        same_dial = same_dial && e.dial == dial;
    }
    void lookup_sent(const dial_event& e, address_family f) override {
        seen(e);
        lines.push_back(std::string("lookup ") + (f == address_family::ipv6 ? "AAAA" : "A"));
    }
    void answer_received(const dial_event& e, const answer_report& a) override {
        seen(e);
        std::string line = "answer";
        if (a.family) {
            line += *a.family == address_family::ipv6 ? " AAAA" : " A";
        }
        for (const auto& ep : a.endpoints) {
            line += " " + text(ep.endpoint) + "=" + core::to_string(ep.fate);
        }
        lines.push_back(line);
    }
    void attempt_started(const dial_event& e, std::size_t i, const attempt_report& a) override {
        seen(e);
        lines.push_back("start #" + std::to_string(i) + " " + text(a.endpoint));
    }
    void delay_shortened(const dial_event& e, std::size_t i, const attempt_report& a) override {
        seen(e);
        lines.push_back("shortened #" + std::to_string(i) + " " + core::to_string(a.delay_from));
    }
    void stage_done(const dial_event& e, std::size_t i, attempt_stage) override {
        seen(e);
        lines.push_back("connected #" + std::to_string(i));
    }
    void attempt_ended(const dial_event& e, std::size_t i, const attempt_report& a) override {
        seen(e);
        lines.push_back("end #" + std::to_string(i) + " " + core::to_string(a.outcome));
    }
    void endpoint_never_tried(const dial_event& e, const endpoint_report& ep) override {
        seen(e);
        lines.push_back("never tried " + text(ep.endpoint));
    }
    void dial_done(const dial_event& e, const dial_report& r) override {
        seen(e);
        lines.push_back(std::string("done ") + (r.error ? r.error.message() : "connected") +
                        (r.winner ? " #" + std::to_string(*r.winner) : ""));
    }
};

struct observed {
    boost::system::error_code ec;
    std::vector<std::string> lines;
    dial_report report;
};

// Dials svc.test over `net` with a recorder; `cancel_after` emits a terminal cancellation.
observed run(asio::io_context& ctx,
             mock_network& net,
             dial_options options,
             std::optional<std::chrono::milliseconds> cancel_after = std::nullopt) {
    auto rec = std::make_shared<recorder>();
    observed out;
    options.observer = rec;
    options.report = &out.report;
    asio::cancellation_signal signal;
    asio::steady_timer canceller(ctx);
    if (cancel_after) {
        canceller.expires_after(*cancel_after);
        canceller.async_wait([&](boost::system::error_code ec) {
            if (!ec) {
                signal.emit(asio::cancellation_type::terminal);
            }
        });
    }
    async_dial(
        ctx,
        "svc.test",
        "443",
        net.options(options),
        asio::bind_cancellation_slot(signal.slot(), [&](boost::system::error_code ec, tcp::socket) {
            out.ec = ec;
            canceller.cancel();
        }));
    ctx.run();
    CHECK(rec->same_dial);
    out.lines = rec->lines;
    return out;
}

using lines = std::vector<std::string>;

}  // namespace

TEST_CASE("observer: a race won by IPv4 after a black-holed IPv6, every callback in order",
          "[op][observer]") {
    asio::io_context ctx;
    auto net = mock_network::create(ctx.get_executor());
    net->answer("svc.test", address_family::ipv6, {"2001:db8::1"}, 0ms);
    net->answer("svc.test", address_family::ipv4, {"192.0.2.1"}, 20ms);
    net->endpoint("2001:db8::1", 443, behaviour::never);
    net->endpoint("192.0.2.1", 443, behaviour::connects);
    dial_options options;
    options.connection_attempt_delay = 100ms;
    const auto out = run(ctx, *net, options);
    REQUIRE_FALSE(out.ec);
    CHECK(out.lines == lines{"lookup AAAA",
                             "lookup A",
                             "answer AAAA [2001:db8::1]:443=queued",
                             "start #0 [2001:db8::1]:443",
                             "answer A 192.0.2.1:443=queued",
                             "start #1 192.0.2.1:443",
                             "connected #1",
                             "end #1 won",
                             "end #0 cancelled",
                             "done connected #1"});
    CHECK(out.report.non_preferred_family_won);
}

TEST_CASE("observer: both addresses refused, the dial fails after two attempts", "[op][observer]") {
    asio::io_context ctx;
    auto net = mock_network::create(ctx.get_executor());
    net->answer("svc.test", address_family::ipv6, {"2001:db8::1"}, 0ms);
    net->answer("svc.test", address_family::ipv4, {"192.0.2.1"}, 20ms);
    net->endpoint("2001:db8::1", 443, behaviour::refuses, 40ms);
    net->endpoint("192.0.2.1", 443, behaviour::refuses, 5ms);
    const auto out = run(ctx, *net, {});
    REQUIRE(out.ec == asio::error::connection_refused);
    CHECK(out.lines == lines{"lookup AAAA",
                             "lookup A",
                             "answer AAAA [2001:db8::1]:443=queued",
                             "start #0 [2001:db8::1]:443",
                             "answer A 192.0.2.1:443=queued",
                             "end #0 failed",  // the failure starts the next one (§5)
                             "start #1 192.0.2.1:443",
                             "end #1 failed",
                             "done " + out.ec.message()});
    CHECK_FALSE(out.report.non_preferred_family_won);
}

TEST_CASE("observer: a cancelled dial ends its attempt and names the address never tried",
          "[op][observer]") {
    asio::io_context ctx;
    auto net = mock_network::create(ctx.get_executor());
    net->answer("svc.test", address_family::ipv6, {"2001:db8::1"}, 0ms);
    net->answer("svc.test", address_family::ipv4, {"192.0.2.1"}, 10ms);
    net->endpoint("2001:db8::1", 443, behaviour::never);
    net->endpoint("192.0.2.1", 443, behaviour::never);
    dial_options options;
    options.connection_attempt_delay = 2000ms;
    const auto out = run(ctx, *net, options, 50ms);
    REQUIRE(out.ec == asio::error::operation_aborted);
    CHECK(out.lines == lines{"lookup AAAA",
                             "lookup A",
                             "answer AAAA [2001:db8::1]:443=queued",
                             "start #0 [2001:db8::1]:443",
                             "answer A 192.0.2.1:443=queued",
                             "end #0 cancelled",
                             "never tried 192.0.2.1:443",
                             "done " + out.ec.message()});
}

TEST_CASE("observer: a deadline shortens the attempt delay and ends the dial", "[op][observer]") {
    asio::io_context ctx;
    auto net = mock_network::create(ctx.get_executor());
    net->answer("svc.test", address_family::ipv6, {"2001:db8::1"}, 0ms);
    net->answer("svc.test", address_family::ipv4, {"192.0.2.1"}, 5ms);
    net->endpoint("2001:db8::1", 443, behaviour::never);
    net->endpoint("192.0.2.1", 443, behaviour::never);
    dial_options options;
    options.timeout = 120ms;
    const auto out = run(ctx, *net, options);
    REQUIRE(out.ec == error::timed_out);
    // The IPv6 attempt starts alone with the 250 ms delay; the A answer leaves two addresses
    // to try before the deadline, so that delay is cut to half of what is left.
    CHECK(out.lines == lines{"lookup AAAA",
                             "lookup A",
                             "answer AAAA [2001:db8::1]:443=queued",
                             "start #0 [2001:db8::1]:443",
                             "answer A 192.0.2.1:443=queued",
                             "shortened #0 deadline",
                             "start #1 192.0.2.1:443",
                             "end #0 cancelled",
                             "end #1 cancelled",
                             "done " + out.ec.message()});
    REQUIRE(out.report.attempts.size() == 2);
    CHECK(out.report.attempts[0].delay_from == delay_source::deadline);
    CHECK(out.report.attempts[0].delay < 250ms);
}

TEST_CASE("observer: what it throws is swallowed and the dial completes", "[op][observer]") {
    struct throwing final : dial_observer {
        int calls = 0;
        void attempt_started(const dial_event&, std::size_t, const attempt_report&) override {
            ++calls;
            throw std::runtime_error("observer bug");
        }
    };
    asio::io_context ctx;
    auto net = mock_network::create(ctx.get_executor());
    net->resolve("svc.test", {"192.0.2.1"});
    net->endpoint("192.0.2.1", 443, behaviour::connects);
    auto obs = std::make_shared<throwing>();
    dial_options options;
    options.observer = obs;
    boost::system::error_code result = asio::error::would_block;
    async_dial(
        ctx, "svc.test", "443", net->options(options), [&](auto ec, tcp::socket) { result = ec; });
    ctx.run();
    CHECK_FALSE(result);
    CHECK(obs->calls == 1);
}

TEST_CASE(
    "report: every endpoint's fate: attempted, never tried, duplicate, invalid, "
    "excluded, filtered",
    "[op][observer]") {
    asio::io_context ctx;
    auto net = mock_network::create(ctx.get_executor());
    net->answer("svc.test",
                address_family::ipv4,
                {"0.0.0.0", "192.0.2.9", "192.0.2.1", "192.0.2.1", "192.0.2.2"},
                0ms);
    net->answer("svc.test", address_family::ipv6, {"2001:db8::1"}, 0ms);
    net->endpoint("192.0.2.1", 443, behaviour::connects);
    dial_options options;
    options.family = family_preference::ipv4_only;
    options.endpoint_filter = [](const tcp::endpoint& ep) {
        return ep.address() != asio::ip::make_address("192.0.2.9");
    };
    const auto out = run(ctx, *net, options);
    REQUIRE_FALSE(out.ec);
    REQUIRE(out.report.answers.size() == 1);  // ipv4_only: no AAAA query
    const auto& eps = out.report.answers[0].endpoints;
    REQUIRE(eps.size() == 5);
    CHECK(eps[0].fate == endpoint_fate::invalid);
    CHECK(eps[1].fate == endpoint_fate::filtered);
    CHECK(eps[2].fate == endpoint_fate::attempted);
    CHECK(eps[2].attempt == std::optional<std::size_t>(0));
    CHECK(eps[3].fate == endpoint_fate::duplicate);
    CHECK(eps[4].fate == endpoint_fate::never_tried);
    CHECK_FALSE(eps[4].attempt);
    CHECK(std::find(out.lines.begin(), out.lines.end(), "never tried 192.0.2.2:443") !=
          out.lines.end());

    // A family policy excludes the other family's endpoints given directly.
    asio::io_context ctx2;
    dial_report report;
    dial_options v6_only;
    v6_only.family = family_preference::ipv6_only;
    v6_only.report = &report;
    const std::vector<tcp::endpoint> given{{asio::ip::make_address("127.0.0.1"), 1}};
    async_dial(ctx2, given, v6_only, [](auto, tcp::socket) {});
    ctx2.run();
    REQUIRE(report.answers.size() == 1);
    REQUIRE(report.answers[0].endpoints.size() == 1);
    CHECK(report.answers[0].endpoints[0].fate == endpoint_fate::excluded);
}

TEST_CASE("report: each attempt's local endpoint is the socket's own address", "[op][observer]") {
    asio::io_context ctx;
    tcp::acceptor server(ctx, {test::loopback_v4, 0});
    server.listen();
    dial_report report;
    dial_options options;
    options.report = &report;
    tcp::socket accepted(ctx);
    server.async_accept(accepted, [](auto) {});
    tcp::socket client(ctx);
    async_dial(ctx,
               std::vector<tcp::endpoint>{server.local_endpoint()},
               options,
               [&](boost::system::error_code ec, tcp::socket s) {
                   CHECK_FALSE(ec);
                   client = std::move(s);
               });
    ctx.run();
    REQUIRE(report.attempts.size() == 1);
    REQUIRE(report.attempts[0].local);
    CHECK(*report.attempts[0].local == client.local_endpoint());
    CHECK(*report.attempts[0].local == accepted.remote_endpoint());
    CHECK_FALSE(report.non_preferred_family_won);  // an IPv4-only list: nothing to prefer
}
