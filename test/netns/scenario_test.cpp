// RFC 8305 scenarios on a real kernel: each TEST_CASE is one scenario, run by run-in-netns.sh
// in its own fresh namespace (docs/testing.md: "Adding a scenario").
//
// Every scenario asserts the winning address and family (or the error and every attempt's
// record), the elapsed time inside a window [lower, upper] and the SYNs per family counted by
// the kernel. Lower bounds are physical (the configured delays: nothing can be faster); upper
// bounds add `slack` (60 ms) for scheduling on 2 busy CI cores. Defaults: Resolution Delay (RD)
// 50 ms, Connection Attempt Delay (CAD) 250 ms, never two starts within 10 ms.
#include "catch.hpp"
#include "netns/scenario.hpp"

#include <netdb.h>
#include <sys/socket.h>

using namespace happy_dial;
using namespace happy_dial::netns;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

constexpr double slack = 60;     // ms of tolerance above every upper bound, stated once
constexpr double rd = 50;        // Resolution Delay (default)
constexpr double cad = 250;      // Connection Attempt Delay (default)
constexpr double floor_ms = 10;  // minimum spacing between two starts (RFC 8305 §5)

/// The SYNs sent per family (nftables counters), and the SYN queue's log agreeing with them.
void check_syns(const outcome& r, std::uint64_t v6, std::uint64_t v4) {
    CHECK(r.syns_v6() == v6);
    CHECK(r.syns_v4() == v4);
    CHECK(r.queued_syns(true) == r.syns_v6());
    CHECK(r.queued_syns(false) == r.syns_v4());
}

/// One attempt of the report: endpoint address, outcome and error.
void check_attempt(const outcome& r,
                   std::size_t i,
                   std::string_view address,
                   attempt_outcome expected,
                   boost::system::error_code error = {}) {
    REQUIRE(r.report.attempts.size() > i);
    const auto& a = r.report.attempts[i];
    INFO("attempt #" << i);
    CHECK(a.endpoint.address().to_string() == address);
    CHECK(a.endpoint.port() == bench::port);
    CHECK(a.outcome == expected);
    CHECK(a.error == error);
    CHECK(a.ended.has_value());
}

double started_ms(const outcome& r, std::size_t i) {
    REQUIRE(r.report.attempts.size() > i);
    return ms(r.report.attempts[i].started);
}

/// Time a getaddrinfo(AF_UNSPEC) caller (any non-RFC 8305 client) waits for `host`.
double unspec_lookup_ms(const std::string& host) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const auto t0 = std::chrono::steady_clock::now();
    const int rc = ::getaddrinfo(host.c_str(), "7080", &hints, &res);
    const double elapsed = ms(std::chrono::steady_clock::now() - t0);
    if (rc == 0) {
        ::freeaddrinfo(res);
    }
    return elapsed;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Names from the hosts file (both answers at once)

TEST_CASE("both families healthy: IPv6 connects at once with one SYN", "[netns]") {
    scenario s;
    s.host = "dual.hd.test";
    s.ipv6 = {healthy("2001:db8::11")};
    s.ipv4 = {healthy("127.0.0.11")};
    const auto r = run("both healthy", s);
    INFO(r.describe());
    REQUIRE_WINNER(r, "2001:db8::11");
    CHECK(r.connected->address().is_v6());
    CHECK_WINDOW(r.elapsed_ms(), 0, 0 + slack);
    check_syns(r, 1, 0);
    CHECK(r.report.attempts.size() == 1);
}

TEST_CASE("IPv6 black-holed: IPv4 connects one Connection Attempt Delay later", "[netns]") {
    scenario s;
    s.host = "v6-blackhole.hd.test";
    s.ipv6 = {black_holed("2001:db8::11")};
    s.ipv4 = {healthy("127.0.0.11")};
    const auto r = run("IPv6 black-holed", s);
    INFO(r.describe());
    REQUIRE_WINNER(r, "127.0.0.11");
    CHECK(r.connected->address().is_v4());
    CHECK_WINDOW(r.elapsed_ms(), cad, cad + slack);
    CHECK_WINDOW(r.first_syn_ms("127.0.0.11"), cad, cad + slack);  // seen by the kernel
    // The black-holed SYN is not retransmitted before the win.
    check_syns(r, 1, 1);
    check_attempt(r, 0, "2001:db8::11", attempt_outcome::cancelled, asio::error::operation_aborted);
    check_attempt(r, 1, "127.0.0.11", attempt_outcome::won);
}

TEST_CASE("IPv6 refused: IPv4 connects at once after the RST", "[netns]") {
    scenario s;
    s.host = "v6-refused.hd.test";
    s.ipv6 = {refusing("2001:db8::11")};
    s.ipv4 = {healthy("127.0.0.11")};
    const auto r = run("IPv6 refused", s);
    INFO(r.describe());
    REQUIRE_WINNER(r, "127.0.0.11");
    // The RST comes back in < 1 ms; the next start waits only for the 10 ms floor.
    CHECK_WINDOW(r.elapsed_ms(), floor_ms, floor_ms + slack);
    check_syns(r, 1, 1);
    check_attempt(r, 0, "2001:db8::11", attempt_outcome::failed, asio::error::connection_refused);
    check_attempt(r, 1, "127.0.0.11", attempt_outcome::won);
}

TEST_CASE("IPv6 unreachable (ICMP): IPv4 connects at once after the error", "[netns]") {
    scenario s;
    s.host = "v6-unreachable.hd.test";
    s.ipv6 = {unreachable("2001:db8::11")};
    s.ipv4 = {healthy("127.0.0.11")};
    const auto r = run("IPv6 unreachable", s);
    INFO(r.describe());
    REQUIRE_WINNER(r, "127.0.0.11");
    // The ICMP error arrives after 2 ms (bench::unreachable_delay); then the 10 ms floor.
    CHECK_WINDOW(r.elapsed_ms(), floor_ms, floor_ms + slack);
    check_syns(r, 1, 1);
    check_attempt(r, 0, "2001:db8::11", attempt_outcome::failed, asio::error::host_unreachable);
    check_attempt(r, 1, "127.0.0.11", attempt_outcome::won);
}

TEST_CASE("IPv6 slower than the attempt delay (400 ms): IPv4 wins at 250 ms", "[netns]") {
    scenario s;
    s.host = "v6-slow.hd.test";
    s.ipv6 = {slow("2001:db8::11", 400ms)};
    s.ipv4 = {healthy("127.0.0.11")};
    const auto r = run("IPv6 400 ms slow", s);
    INFO(r.describe());
    REQUIRE_WINNER(r, "127.0.0.11");
    CHECK_WINDOW(r.elapsed_ms(), cad, cad + slack);
    check_syns(r, 1, 1);
    check_attempt(r, 0, "2001:db8::11", attempt_outcome::cancelled, asio::error::operation_aborted);
    check_attempt(r, 1, "127.0.0.11", attempt_outcome::won);
}

TEST_CASE("IPv6 slower than IPv4 but under the attempt delay (100 ms): IPv6 wins", "[netns]") {
    scenario s;
    s.host = "v6-bit-slow.hd.test";
    s.ipv6 = {slow("2001:db8::11", 100ms)};
    s.ipv4 = {healthy("127.0.0.11")};
    const auto r = run("IPv6 100 ms slow", s);
    INFO(r.describe());
    REQUIRE_WINNER(r, "2001:db8::11");
    CHECK(r.connected->address().is_v6());
    CHECK_WINDOW(r.elapsed_ms(), 100, 100 + slack);
    // IPv4 was never needed: no wasted SYN.
    check_syns(r, 1, 0);
    CHECK(r.report.attempts.size() == 1);
}

TEST_CASE("IPv4 black-holed and IPv6 fine: IPv6 connects at once and IPv4 sees no SYN", "[netns]") {
    scenario s;
    s.host = "v4-blackhole.hd.test";
    s.ipv6 = {healthy("2001:db8::11")};
    s.ipv4 = {black_holed("127.0.0.11")};
    const auto r = run("IPv4 black-holed", s);
    INFO(r.describe());
    REQUIRE_WINNER(r, "2001:db8::11");
    CHECK_WINDOW(r.elapsed_ms(), 0, 0 + slack);
    check_syns(r, 1, 0);
}

TEST_CASE("IPv4 black-holed with prefer_ipv4: IPv6 connects one attempt delay later", "[netns]") {
    scenario s;
    s.host = "v4-blackhole-prefer-v4.hd.test";
    s.ipv6 = {healthy("2001:db8::11")};
    s.ipv4 = {black_holed("127.0.0.11")};
    s.options.family = family_preference::prefer_ipv4;
    const auto r = run("IPv4 black-holed, prefer_ipv4", s);
    INFO(r.describe());
    REQUIRE_WINNER(r, "2001:db8::11");
    CHECK(r.connected->address().is_v6());
    CHECK_WINDOW(r.elapsed_ms(), cad, cad + slack);
    check_syns(r, 1, 1);
    check_attempt(r, 0, "127.0.0.11", attempt_outcome::cancelled, asio::error::operation_aborted);
    check_attempt(r, 1, "2001:db8::11", attempt_outcome::won);
}

TEST_CASE("several addresses per family with dead ones first: the third IPv6 address wins",
          "[netns]") {
    // Interleaved v6, v4, v6, v4, v6: black holes wait out the CAD, fast failures don't.
    scenario s;
    s.host = "many.hd.test";
    s.ipv6 = {black_holed("2001:db8::11"), refusing("2001:db8::12"), healthy("2001:db8::13")};
    s.ipv4 = {black_holed("127.0.0.11"), unreachable("127.0.0.12"), healthy("127.0.0.13")};
    const auto r = run("several per family, dead first", s);
    INFO(r.describe());
    REQUIRE_WINNER(r, "2001:db8::13");
    // Starts at 0 (bh), 250 (bh), 500 (RST), 510 (ICMP after 2 ms), 520 (wins).
    CHECK_WINDOW(r.elapsed_ms(), 2 * cad + 2 * floor_ms, 2 * cad + 2 * floor_ms + slack);
    CHECK_WINDOW(started_ms(r, 1), cad, cad + slack);
    CHECK_WINDOW(started_ms(r, 2), 2 * cad, 2 * cad + slack);
    check_syns(r, 3, 2);
    CHECK(r.syns_to("127.0.0.13") == 0);
    REQUIRE(r.report.attempts.size() == 5);
    check_attempt(r, 0, "2001:db8::11", attempt_outcome::cancelled, asio::error::operation_aborted);
    check_attempt(r, 1, "127.0.0.11", attempt_outcome::cancelled, asio::error::operation_aborted);
    check_attempt(r, 2, "2001:db8::12", attempt_outcome::failed, asio::error::connection_refused);
    check_attempt(r, 3, "127.0.0.12", attempt_outcome::failed, asio::error::host_unreachable);
    check_attempt(r, 4, "2001:db8::13", attempt_outcome::won);
}

TEST_CASE("several addresses that fail fast: each failure starts the next one at once", "[netns]") {
    scenario s;
    s.host = "fast-fail.hd.test";
    s.ipv6 = {refusing("2001:db8::11"), refusing("2001:db8::12")};
    s.ipv4 = {refusing("127.0.0.11"), healthy("127.0.0.12")};
    const auto r = run("fast failures chain", s);
    INFO(r.describe());
    REQUIRE_WINNER(r, "127.0.0.12");
    // Starts at 0, 10, 20, 30: only the 10 ms floor separates them, never the 250 ms CAD.
    CHECK_WINDOW(r.elapsed_ms(), 3 * floor_ms, 3 * floor_ms + slack);
    check_syns(r, 2, 2);
    REQUIRE(r.report.attempts.size() == 4);
    check_attempt(r, 0, "2001:db8::11", attempt_outcome::failed, asio::error::connection_refused);
    check_attempt(r, 1, "127.0.0.11", attempt_outcome::failed, asio::error::connection_refused);
    check_attempt(r, 2, "2001:db8::12", attempt_outcome::failed, asio::error::connection_refused);
    check_attempt(r, 3, "127.0.0.12", attempt_outcome::won);
}

TEST_CASE("a slow-but-working address while every other address is dead: it still wins",
          "[netns]") {
    // The first attempt (800 ms latency) keeps running while the others start and die.
    scenario s;
    s.host = "slow-survivor.hd.test";
    s.ipv6 = {slow("2001:db8::11", 800ms), black_holed("2001:db8::12")};
    s.ipv4 = {black_holed("127.0.0.11"), refusing("127.0.0.12")};
    const auto r = run("slow survivor", s);
    INFO(r.describe());
    REQUIRE_WINNER(r, "2001:db8::11");
    CHECK_WINDOW(r.elapsed_ms(), 800, 800 + slack);
    check_syns(r, 2, 2);
    REQUIRE(r.report.attempts.size() == 4);
    check_attempt(r, 0, "2001:db8::11", attempt_outcome::won);
    check_attempt(r, 1, "127.0.0.11", attempt_outcome::cancelled, asio::error::operation_aborted);
    check_attempt(r, 2, "2001:db8::12", attempt_outcome::cancelled, asio::error::operation_aborted);
    check_attempt(r, 3, "127.0.0.12", attempt_outcome::failed, asio::error::connection_refused);
    CHECK_WINDOW(started_ms(r, 3), 3 * cad, 3 * cad + slack);
}

TEST_CASE("everything black-holed under a 600 ms deadline: timed_out, every address tried",
          "[netns]") {
    scenario s;
    s.host = "all-blackholed.hd.test";
    s.ipv6 = {black_holed("2001:db8::11"), black_holed("2001:db8::12")};
    s.ipv4 = {black_holed("127.0.0.11"), black_holed("127.0.0.12")};
    s.options.timeout = 600ms;
    const auto r = run("all black-holed, 600 ms deadline", s);
    INFO(r.describe());
    REQUIRE(r.completed);
    CHECK(r.error == happy_dial::error::timed_out);
    CHECK(r.report.error == happy_dial::error::timed_out);
    CHECK_FALSE(r.report.winner);
    CHECK_WINDOW(r.elapsed_ms(), 600, 600 + slack);
    // The deadline shrinks the stagger so that every address starts before it. The exact
    // starts depend on which answer the engine saw first (two resolver threads race): both
    // answers at once give 0, 150, 300, 450; AAAA alone first gives 0, 250, 367, 483, because
    // a stagger already scheduled is not shortened when the A answer adds addresses.
    REQUIRE(r.report.attempts.size() == 4);
    for (std::size_t i = 1; i < 4; ++i) {
        CHECK_WINDOW(started_ms(r, i) - started_ms(r, i - 1), floor_ms, cad + slack);
    }
    CHECK(started_ms(r, 3) < 600);
    check_syns(r, 2, 2);
    REQUIRE(r.report.attempts.size() == 4);
    check_attempt(r, 0, "2001:db8::11", attempt_outcome::cancelled, asio::error::operation_aborted);
    check_attempt(r, 1, "127.0.0.11", attempt_outcome::cancelled, asio::error::operation_aborted);
    check_attempt(r, 2, "2001:db8::12", attempt_outcome::cancelled, asio::error::operation_aborted);
    check_attempt(r, 3, "127.0.0.12", attempt_outcome::cancelled, asio::error::operation_aborted);
}

TEST_CASE("every address refused or unreachable: the first attempt's error, every attempt kept",
          "[netns]") {
    scenario s;
    s.host = "all-dead.hd.test";
    s.ipv6 = {refusing("2001:db8::11")};
    s.ipv4 = {refusing("127.0.0.11"), unreachable("127.0.0.12")};
    const auto r = run("all fail fast", s);
    INFO(r.describe());
    REQUIRE(r.completed);
    CHECK(r.error == asio::error::connection_refused);
    CHECK_FALSE(r.connected);
    // Starts at 0, 10, 20; the last ICMP error comes 2 ms later.
    CHECK_WINDOW(r.elapsed_ms(), 2 * floor_ms + 2, 2 * floor_ms + 2 + slack);
    check_syns(r, 1, 2);
    REQUIRE(r.report.attempts.size() == 3);
    check_attempt(r, 0, "2001:db8::11", attempt_outcome::failed, asio::error::connection_refused);
    check_attempt(r, 1, "127.0.0.11", attempt_outcome::failed, asio::error::connection_refused);
    check_attempt(r, 2, "127.0.0.12", attempt_outcome::failed, asio::error::host_unreachable);
}

// ---------------------------------------------------------------------------------------------
// Names from the scripted DNS server (one query per family, each answer scripted)

TEST_CASE("AAAA 300 ms late and A at once: IPv4 connects one Resolution Delay after A",
          "[netns][dns]") {
    scenario s;
    s.host = "aaaa-slow.hd.test";
    s.source = name_source::dns;
    s.ipv6 = {healthy("2001:db8::11")};
    s.ipv4 = {healthy("127.0.0.11")};
    s.aaaa = answered_after(300ms);
    const auto r = run("AAAA 300 ms late", s);
    INFO(r.describe());
    REQUIRE_WINNER(r, "127.0.0.11");
    CHECK(r.connected->address().is_v4());
    const double a_at = r.answer_ms(address_family::ipv4);
    REQUIRE(a_at >= 0);
    CHECK(r.answer_ms(address_family::ipv6) < 0);  // the AAAA answer had not come yet
    // RFC 8305 §3: IPv4 starts RD after the A answer, long before the AAAA answer (300 ms).
    CHECK_WINDOW(r.first_syn_ms("127.0.0.11") - a_at, rd, rd + slack);
    CHECK_WINDOW(r.elapsed_ms(), rd, rd + slack);
    check_syns(r, 0, 1);
    CHECK(r.dns_queries_of(dns_server::type_aaaa) == 1);
    CHECK(r.dns_queries_of(dns_server::type_a) == 1);
    // What a getaddrinfo(AF_UNSPEC) peer gets instead: nothing before the AAAA answer.
    const double unspec = unspec_lookup_ms(s.host);
    INFO("getaddrinfo(AF_UNSPEC) took " << unspec << " ms");
    CHECK(unspec >= 300);
}

TEST_CASE("A 300 ms late and AAAA at once: IPv6 connects at once", "[netns][dns]") {
    scenario s;
    s.host = "a-slow.hd.test";
    s.source = name_source::dns;
    s.ipv6 = {healthy("2001:db8::11")};
    s.ipv4 = {healthy("127.0.0.11")};
    s.a = answered_after(300ms);
    const auto r = run("A 300 ms late", s);
    INFO(r.describe());
    REQUIRE_WINNER(r, "2001:db8::11");
    CHECK_WINDOW(r.elapsed_ms(), 0, 0 + slack);
    CHECK(r.answer_ms(address_family::ipv4) < 0);
    check_syns(r, 1, 0);
    CHECK(r.dns_queries_of(dns_server::type_aaaa) == 1);
    CHECK(r.dns_queries_of(dns_server::type_a) == 1);
}

TEST_CASE("AAAA 20 ms after A (inside the Resolution Delay): IPv6 still wins", "[netns][dns]") {
    scenario s;
    s.host = "aaaa-bit-late.hd.test";
    s.source = name_source::dns;
    s.ipv6 = {healthy("2001:db8::11")};
    s.ipv4 = {healthy("127.0.0.11")};
    s.aaaa = answered_after(20ms);
    const auto r = run("AAAA 20 ms late", s);
    INFO(r.describe());
    REQUIRE_WINNER(r, "2001:db8::11");
    CHECK_WINDOW(r.elapsed_ms(), 20, 20 + slack);
    check_syns(r, 1, 0);
}

TEST_CASE("AAAA answer lost: IPv4 connects one Resolution Delay after A", "[netns][dns]") {
    scenario s;
    s.host = "aaaa-lost.hd.test";
    s.source = name_source::dns;
    s.ipv6 = {healthy("2001:db8::11")};
    s.ipv4 = {healthy("127.0.0.11")};
    s.aaaa = never_answered();
    const auto r = run("AAAA lost", s);
    INFO(r.describe());
    REQUIRE_WINNER(r, "127.0.0.11");
    CHECK_WINDOW(r.elapsed_ms(), rd, rd + slack);
    check_syns(r, 0, 1);
}

TEST_CASE("A answer lost: IPv6 connects at once", "[netns][dns]") {
    scenario s;
    s.host = "a-lost.hd.test";
    s.source = name_source::dns;
    s.ipv6 = {healthy("2001:db8::11")};
    s.ipv4 = {healthy("127.0.0.11")};
    s.a = never_answered();
    const auto r = run("A lost", s);
    INFO(r.describe());
    REQUIRE_WINNER(r, "2001:db8::11");
    CHECK_WINDOW(r.elapsed_ms(), 0, 0 + slack);
    check_syns(r, 1, 0);
}

TEST_CASE("late AAAA after IPv4 attempts began: the next attempt is IPv6, not IPv4 #2",
          "[netns][dns]") {
    // A at once, RD ends at 50 ms: 127.0.0.11 (black hole) starts. AAAA comes at 100 ms and is
    // merged into the untried list (§6), so at 50 + 250 ms IPv6 goes, not 127.0.0.12.
    scenario s;
    s.host = "late-aaaa.hd.test";
    s.source = name_source::dns;
    s.ipv6 = {healthy("2001:db8::11")};
    s.ipv4 = {black_holed("127.0.0.11"), healthy("127.0.0.12")};
    s.aaaa = answered_after(100ms);
    const auto r = run("late AAAA", s);
    INFO(r.describe());
    REQUIRE_WINNER(r, "2001:db8::11");
    CHECK_WINDOW(started_ms(r, 0), rd, rd + slack);
    CHECK_WINDOW(r.answer_ms(address_family::ipv6), 100, 100 + slack);
    CHECK_WINDOW(started_ms(r, 1) - started_ms(r, 0), cad, cad + slack);
    CHECK_WINDOW(r.elapsed_ms(), rd + cad, rd + cad + slack);
    check_syns(r, 1, 1);
    CHECK(r.syns_to("127.0.0.12") == 0);
    REQUIRE(r.report.attempts.size() == 2);
    check_attempt(r, 0, "127.0.0.11", attempt_outcome::cancelled, asio::error::operation_aborted);
    check_attempt(r, 1, "2001:db8::11", attempt_outcome::won);
}

TEST_CASE("both answers lost under a 500 ms deadline: timed_out at the deadline, no SYN",
          "[netns][dns]") {
    scenario s;
    s.host = "all-lost.hd.test";
    s.source = name_source::dns;
    s.ipv6 = {healthy("2001:db8::11")};
    s.ipv4 = {healthy("127.0.0.11")};
    s.aaaa = never_answered();
    s.a = never_answered();
    s.options.timeout = 500ms;
    const auto r = run("all answers lost, 500 ms deadline", s);
    INFO(r.describe());
    REQUIRE(r.completed);
    CHECK(r.error == happy_dial::error::timed_out);
    CHECK_WINDOW(r.elapsed_ms(), 500, 500 + slack);
    CHECK(r.report.answers.empty());
    CHECK(r.report.attempts.empty());
    check_syns(r, 0, 0);
}

// The example of docs/testing.md (test/docs checks that the page shows this text).
// [snippet:scenario]
TEST_CASE("IPv6 black-holed and A 100 ms late: IPv4 goes at the attempt delay", "[netns][dns]") {
    scenario s;
    s.host = "my-case.hd.test";                  // any name under hd.test
    s.source = name_source::dns;                 // or hosts_file (the default): answers at once
    s.ipv6 = {black_holed("2001:db8::11")};      // the AAAA answer, in order
    s.ipv4 = {healthy("127.0.0.11")};            // the A answer, in order
    s.a = answered_after(100ms);                 // DNS only; never_answered() loses it
    s.options.connection_attempt_delay = 250ms;  // any dial_options (report is set by run)
    const auto r = run("IPv6 black-holed, A late", s);
    INFO(r.describe());               // the whole record on any failure
    REQUIRE_WINNER(r, "127.0.0.11");  // completed, no error, this address
    // A arrives at 100 ms; IPv6 started at 0, so IPv4 goes at max(100, 250) = 250 ms.
    CHECK_WINDOW(r.elapsed_ms(), cad, cad + slack);
    check_syns(r, 1, 1);  // SYNs per family; the SYN queue's log agrees with the counters
    check_attempt(r, 0, "2001:db8::11", attempt_outcome::cancelled, asio::error::operation_aborted);
    check_attempt(r, 1, "127.0.0.11", attempt_outcome::won);
}
// [/snippet:scenario]

#ifdef HAPPY_DIAL_CLI
TEST_CASE("happy-dial --json in the namespace: black-holed IPv6 loses to IPv4", "[netns][cli]") {
    scenario s;
    s.host = "cli-json.hd.test";
    s.source = name_source::dns;
    s.ipv6 = {black_holed("2001:db8::11")};
    s.ipv4 = {healthy("127.0.0.11")};
    s.command = std::string(HAPPY_DIAL_CLI) + " --json";
    const auto r = run("happy-dial --json, IPv6 black-holed", s);
    INFO(r.command_output);
    CHECK(r.command_status == 0);
    const auto& out = r.command_output;
    CHECK(out.find("\"connected\": true") != std::string::npos);
    CHECK(out.find("\"endpoint\": \"127.0.0.11:7080\", \"family\": \"ipv4\"}") !=
          std::string::npos);
    CHECK(out.find("\"query\": \"AAAA\"") != std::string::npos);
    CHECK(out.find("\"query\": \"A\"") != std::string::npos);
    CHECK(out.find("\"endpoint\": \"[2001:db8::11]:7080\", \"family\": \"ipv6\"") !=
          std::string::npos);
    CHECK(out.find("\"outcome\": \"cancelled\"") != std::string::npos);
    CHECK(out.find("\"outcome\": \"won\"") != std::string::npos);
    // The tool's process start is included: the window only has a looser upper bound.
    CHECK_WINDOW(r.elapsed_ms(), cad, cad + slack + 200);
    CHECK(r.syns_v6() == 1);
    CHECK(r.syns_v4() == 1);
}

TEST_CASE("happy-dial exits at once when the AAAA query is never answered (issue 11)",
          "[netns][cli][dns]") {
    scenario s;
    s.host = "cli-exit.hd.test";
    s.source = name_source::dns;
    s.ipv6 = {healthy("2001:db8::11")};
    s.ipv4 = {healthy("127.0.0.11")};
    s.aaaa = never_answered();
    // glibc's default retry schedule (5 s, twice): the lost query blocks its lookup thread ~10 s
    // after the dial connected over IPv4. The process must neither wait for it nor hold back
    // its output.
    s.command = "RES_OPTIONS='timeout:5 attempts:2' " + std::string(HAPPY_DIAL_CLI);
    const auto r = run("happy-dial, AAAA never answered", s);
    INFO(r.command_output);
    CHECK(r.command_status == 0);
    CHECK(r.command_output.find("connected to 127.0.0.11:7080 (IPv4)") != std::string::npos);
    CHECK(r.elapsed_ms() < 1000);  // printed and exited; before the fix ~10 s
}

TEST_CASE("happy-dial --trace: NODATA reads 'no AAAA records', not 'host not found' (issue 11)",
          "[netns][cli][dns]") {
    scenario s;
    s.host = "cli-nodata.hd.test";
    s.source = name_source::dns;
    s.ipv4 = {healthy("127.0.0.11")};  // no IPv6 address: the AAAA answer is NOERROR, empty
    s.command = std::string(HAPPY_DIAL_CLI) + " --trace";
    const auto r = run("happy-dial --trace, AAAA NODATA", s);
    INFO(r.command_output);
    CHECK(r.command_status == 0);
    CHECK(r.command_output.find("no AAAA records") != std::string::npos);
    CHECK(r.command_output.find("not found") == std::string::npos);
    CHECK(r.command_output.find("connected to 127.0.0.11:7080 (IPv4)") != std::string::npos);
}

TEST_CASE("happy-dial --trace in the namespace: refused IPv6, the timeline shows both",
          "[netns][cli]") {
    scenario s;
    s.host = "cli-trace.hd.test";
    s.ipv6 = {refusing("2001:db8::11")};
    s.ipv4 = {healthy("127.0.0.11")};
    s.command = std::string(HAPPY_DIAL_CLI) + " --trace";
    const auto r = run("happy-dial --trace, IPv6 refused", s);
    INFO(r.command_output);
    CHECK(r.command_status == 0);
    CHECK(r.command_output.find("DNS AAAA") != std::string::npos);
    CHECK(r.command_output.find("[2001:db8::11]:7080") != std::string::npos);
    CHECK(r.command_output.find("refused") != std::string::npos);
    CHECK(r.command_output.find("won") != std::string::npos);
    CHECK(r.command_output.find("connected to 127.0.0.11:7080 (IPv4)") != std::string::npos);
    CHECK(r.syns_v6() == 1);
    CHECK(r.syns_v4() == 1);
}
#endif
