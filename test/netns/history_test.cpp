// Shared history on a real kernel (issue 14): repeated dials of one host with one dial_history.
// Each case asserts the winner, the SYNs the kernel counted, and timing windows: lower bounds
// are physical, upper bounds add `slack` for 2 busy CI cores (as scenario_test.cpp).
#include "catch.hpp"
#include "netns/scenario.hpp"

#include <happy_dial/history.hpp>
#include <happy_dial/network_monitor.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <iostream>
#include <memory>
#include <thread>

using namespace happy_dial;
using namespace happy_dial::netns;
using namespace std::chrono_literals;

namespace {

constexpr double slack = 60;  // ms above every upper bound
constexpr double cad = 250;   // Connection Attempt Delay (default)

/// A history that never explores (the bench has an IPv6 default route on lo, so IPv6 counts
/// as routable).
std::shared_ptr<dial_history> bench_history(history_settings s = {}) {
    s.explore_one_in = 0;
    return std::make_shared<dial_history>(s);
}

/// One figure for tools/measure/history.sh: "[history] case=... first_ms=... repeat_ms=...".
void print_figures(std::string_view name, const outcome& first, const outcome& repeat) {
    std::cout << "[history] case=" << name << " first_ms=" << first.elapsed_ms()
              << " repeat_ms=" << repeat.elapsed_ms()
              << " repeat_syns=" << repeat.syns_v6() + repeat.syns_v4() << "\n"
              << std::flush;
}

}  // namespace

TEST_CASE("history: IPv6 black-holed: the second dial goes over IPv4 at once with one SYN",
          "[netns][history]") {
    scenario s;
    s.host = "v6-blackhole.hd.test";
    s.ipv6 = {black_holed("2001:db8::11")};
    s.ipv4 = {healthy("127.0.0.11")};
    s.options.history = bench_history();
    const auto first = run("history: first dial, IPv6 black-holed", s);
    REQUIRE_WINNER(first, "127.0.0.11");
    CHECK_WINDOW(first.elapsed_ms(), cad, cad + slack);
    for (int i = 0; i < 3; ++i) {
        const auto again = dial_on_bench(s.host, s.options, 5000ms);
        INFO("repeat #" << i << "\n" << again.describe());
        REQUIRE_WINNER(again, "127.0.0.11");
        CHECK_WINDOW(again.elapsed_ms(), 0, 15);
        CHECK(again.syns_v6() == 0);
        CHECK(again.syns_v4() == 1);
        REQUIRE(again.report.history);
        CHECK(again.report.history->penalised == 1);
        CHECK(again.report.history->first_family == address_family::ipv4);
        REQUIRE(again.report.attempts.size() == 1);
        CHECK(again.report.attempts[0].delay_from == delay_source::history);
        print_figures("v6-blackhole", first, again);
    }
}

TEST_CASE("history: three dead IPv6 addresses ahead of a working one: the repeat takes <= 5 ms",
          "[netns][history]") {
    scenario s;
    s.host = "dead-first.hd.test";
    s.ipv6 = {black_holed("2001:db8::11"),
              black_holed("2001:db8::12"),
              black_holed("2001:db8::13"),
              healthy("2001:db8::14")};
    s.options.history = bench_history();
    const auto first = run("history: first dial, three dead IPv6 first", s);
    REQUIRE_WINNER(first, "2001:db8::14");
    CHECK_WINDOW(first.elapsed_ms(), 3 * cad, 3 * cad + slack);
    for (int i = 0; i < 3; ++i) {
        const auto again = dial_on_bench(s.host, s.options, 5000ms);
        INFO("repeat #" << i << "\n" << again.describe());
        REQUIRE_WINNER(again, "2001:db8::14");
        CHECK_WINDOW(again.elapsed_ms(), 0, 5);
        CHECK(again.syns_v6() == 1);
        CHECK(again.syns_to("2001:db8::14") == 1);
        print_figures("three-dead-v6", first, again);
    }
}

TEST_CASE("history: after the penalty expires or an address is added, IPv6 goes first again",
          "[netns][history]") {
    history_settings settings;
    settings.failure_penalty = 400ms;
    settings.max_failure_penalty = 400ms;
    scenario s;
    s.host = "v6-blackhole.hd.test";
    s.ipv6 = {black_holed("2001:db8::11")};
    s.ipv4 = {healthy("127.0.0.11")};
    s.options.history = bench_history(settings);
    const auto first = run("history: expiry, first dial", s);
    REQUIRE_WINNER(first, "127.0.0.11");
    const auto remembered = dial_on_bench(s.host, s.options, 5000ms);
    CHECK(remembered.syns_v6() == 0);

    std::this_thread::sleep_for(450ms);  // the penalty (400 ms) is over
    const auto expired = dial_on_bench(s.host, s.options, 5000ms);
    INFO(expired.describe());
    REQUIRE_FALSE(expired.report.attempts.empty());
    CHECK(expired.report.attempts[0].endpoint.address().to_string() == "2001:db8::11");
    CHECK(expired.syns_v6() == 1);
    REQUIRE_WINNER(expired, "127.0.0.11");  // still black-holed: IPv4 wins one CAD later
    CHECK_WINDOW(expired.elapsed_ms(), cad, cad + slack);

    // Penalised again; an address added to the host is a network change: the monitor (on its
    // own io_context and thread) flushes the history, and IPv6 goes first again.
    CHECK(dial_on_bench(s.host, s.options, 5000ms).syns_v6() == 0);
    boost::asio::io_context monitor_ctx;
    network_monitor monitor(monitor_ctx.get_executor(), s.options.history);
    REQUIRE_FALSE(monitor.start());
    std::thread monitor_thread([&] { monitor_ctx.run_for(3s); });  // bounded
    const auto epoch = s.options.history->epoch();
    std::string out;
    REQUIRE(run_command({"ip", "addr", "add", "2001:db8::99/128", "dev", "lo", "nodad"}, &out) ==
            0);
    for (int i = 0; i < 200 && s.options.history->epoch() == epoch; ++i) {
        std::this_thread::sleep_for(10ms);  // bounded: 2 s
    }
    CHECK(s.options.history->epoch() > epoch);
    boost::asio::post(monitor_ctx, [&] { monitor.stop(); });
    monitor_thread.join();
    const auto changed = dial_on_bench(s.host, s.options, 5000ms);
    INFO(changed.describe());
    REQUIRE_FALSE(changed.report.attempts.empty());
    CHECK(changed.report.attempts[0].endpoint.address().to_string() == "2001:db8::11");
}

TEST_CASE("history: IPv6 80 ms slower: IPv4 is used while the difference lasts",
          "[netns][history]") {
    // A short attempt delay (30 ms) lets IPv4 overtake the 80 ms IPv6 path on the first dial.
    history_settings settings;
    settings.failure_penalty = 400ms;
    settings.max_failure_penalty = 400ms;
    settings.min_attempt_delay = 30ms;
    scenario s;
    s.host = "v6-slow.hd.test";
    s.ipv6 = {slow("2001:db8::11", 80ms)};
    s.ipv4 = {healthy("127.0.0.11")};
    s.options.connection_attempt_delay = 30ms;
    s.options.history = bench_history(settings);
    const auto first = run("history: IPv6 80 ms slower, first dial", s);
    REQUIRE_WINNER(first, "127.0.0.11");
    for (int i = 0; i < 3; ++i) {
        const auto again = dial_on_bench(s.host, s.options, 5000ms);
        INFO("repeat #" << i);
        REQUIRE_WINNER(again, "127.0.0.11");
        CHECK(again.syns_v6() == 0);
        CHECK(again.syns_v4() == 1);
        CHECK_WINDOW(again.elapsed_ms(), 0, 15);
        print_figures("v6-80ms-slower", first, again);
    }
    // The IPv6 path recovers; once the penalty is over IPv6 is tried first and wins.
    auto& b = bench::get();
    b.configure({healthy("2001:db8::11"), healthy("127.0.0.11")});
    std::this_thread::sleep_for(450ms);
    const auto recovered = dial_on_bench(s.host, s.options, 5000ms);
    REQUIRE_WINNER(recovered, "2001:db8::11");
    CHECK(recovered.syns_v4() == 0);
    CHECK_WINDOW(recovered.elapsed_ms(), 0, 15);
}

TEST_CASE("history: no IPv6 route: no AAAA query, the first SYN within 2 ms of the A answer",
          "[netns][history][dns]") {
    scenario s;
    s.host = "no-v6-route.hd.test";
    s.source = name_source::dns;
    s.ipv6 = {healthy("2001:db8::11")};
    s.ipv4 = {healthy("127.0.0.11")};
    // Without the bench's IPv6 default route the probe (a global address) finds no route.
    bench::get();  // sets the namespace up, default route included
    std::string out;
    REQUIRE(run_command({"ip", "-6", "route", "del", "default", "dev", "lo"}, &out) == 0);
    s.options.history = bench_history();
    const auto r = run("history: no IPv6 route", s);
    REQUIRE_WINNER(r, "127.0.0.11");
    CHECK(r.dns_queries_of(dns_server::type_aaaa) == 0);
    CHECK(r.dns_queries_of(dns_server::type_a) == 1);
    REQUIRE(r.report.history);
    CHECK_FALSE(r.report.history->ipv6_routable);
    const double a_at = r.answer_ms(address_family::ipv4);
    REQUIRE(a_at >= 0);
    CHECK_WINDOW(r.first_syn_ms("127.0.0.11") - a_at, 0, 2);
}
