// dial_history through async_dial on a real io_context over loopback (issue 14): what a dial
// records, what the next dial does with it, partitions, and the network monitor's lifetime.
#include "catch.hpp"
#include "op/loopback.hpp"

#include <happy_dial/happy_dial.hpp>
#include <happy_dial/history.hpp>
#include <happy_dial/network_monitor.hpp>

#include <boost/asio/io_context.hpp>

#include <memory>
#include <vector>

using namespace happy_dial;
using namespace happy_dial::test;
using namespace std::chrono_literals;

namespace {

struct dial_outcome {
    boost::system::error_code ec;
    dial_report report;
};

dial_outcome dial_list(const std::vector<tcp::endpoint>& endpoints, dial_options options) {
    asio::io_context ctx;
    dial_outcome out;
    options.report = &out.report;
    async_dial(
        ctx, endpoints, options, [&](boost::system::error_code ec, tcp::socket) { out.ec = ec; });
    ctx.run_for(5s);  // bounded
    return out;
}

}  // namespace

TEST_CASE("history: a refused address is recorded and the next dial skips to the winner",
          "[history]") {
    refusing_port refused(asio::ip::make_address("127.0.0.3"));
    accepting_listener ok(asio::ip::make_address("127.0.0.4"));
    dial_options options;
    options.history = std::make_shared<dial_history>();
    const std::vector<tcp::endpoint> endpoints{refused.endpoint(), ok.endpoint()};

    const auto first = dial_list(endpoints, options);
    REQUIRE_FALSE(first.ec);
    REQUIRE(first.report.attempts.size() == 2);
    REQUIRE(first.report.history);
    CHECK(first.report.history->hints == 0);
    CHECK(first.report.history->updated == 2);
    CHECK(first.report.attempts[0].delay_from == delay_source::configured);

    const auto second = dial_list(endpoints, options);
    REQUIRE_FALSE(second.ec);
    REQUIRE(second.report.attempts.size() == 1);  // the refused address went last
    CHECK(second.report.attempts[0].endpoint == ok.endpoint());
    CHECK(second.report.history->hints == 2);
    CHECK(second.report.history->penalised == 1);
    CHECK(second.report.attempts[0].delay_from == delay_source::history);
    const auto entry =
        options.history->find({"", "", refused.endpoint().port()}, refused.endpoint().address());
    REQUIRE(entry);
    CHECK(entry->outcome == address_outcome::refused);

    // Another partition knows nothing: the refused address is tried first again.
    options.history_partition = "another user";
    const auto other = dial_list(endpoints, options);
    CHECK(other.report.attempts.size() == 2);
    CHECK(other.report.history->hints == 0);
}

TEST_CASE("history: without a history the report has none and nothing is remembered", "[history]") {
    refusing_port refused(asio::ip::make_address("127.0.0.3"));
    accepting_listener ok(asio::ip::make_address("127.0.0.4"));
    const std::vector<tcp::endpoint> endpoints{refused.endpoint(), ok.endpoint()};
    for (int i = 0; i < 2; ++i) {
        const auto r = dial_list(endpoints, {});
        REQUIRE_FALSE(r.ec);
        CHECK(r.report.attempts.size() == 2);
        CHECK_FALSE(r.report.history);
    }
}

TEST_CASE("history: a dial by name records under the host and port", "[history]") {
    accepting_listener ok(loopback_v4);
    dial_options options;
    options.history = std::make_shared<dial_history>();
    options.family = family_preference::ipv4_only;
    asio::io_context ctx;
    dial_report report;
    options.report = &report;
    boost::system::error_code result = asio::error::would_block;
    async_dial(ctx,
               "127.0.0.1",
               std::to_string(ok.endpoint().port()),
               options,
               [&](boost::system::error_code ec, tcp::socket) { result = ec; });
    ctx.run_for(5s);
    REQUIRE_FALSE(result);
    REQUIRE(report.history);
    CHECK(report.history->updated == 1);
    CHECK(report.history->first_family == address_family::ipv4);
    const auto entry = options.history->find({"", "127.0.0.1", ok.endpoint().port()}, loopback_v4);
    REQUIRE(entry);
    CHECK(entry->outcome == address_outcome::connected);
    CHECK(entry->srtt.has_value());
}

TEST_CASE("network_monitor: starts on an io_context, stops without leaving work", "[history]") {
    asio::io_context ctx;
    auto history = std::make_shared<dial_history>();
    network_monitor monitor(ctx.get_executor(), history);
    CHECK_FALSE(monitor.start());
    CHECK(monitor.running());
    ctx.run_for(20ms);  // nothing changes on this machine's network in the meantime, usually
    monitor.stop();
    CHECK_FALSE(monitor.running());
    ctx.restart();
    const auto t0 = std::chrono::steady_clock::now();
    ctx.run_for(2s);
    CHECK(std::chrono::steady_clock::now() - t0 < 1s);  // no pending work left behind
}
