// happy-dial: option parsing, exit codes, timeline and JSON rendering, and the real binary
// against local listeners (an accepting one, a refusing one and a black hole).
#include "catch.hpp"
#include "cli_options.hpp"
#include "exit_codes.hpp"
#include "json_report.hpp"
#include "op/loopback.hpp"
#include "support/process.hpp"
#include "timeline.hpp"

#include <happy_dial/error.hpp>

#include <boost/asio/error.hpp>

#include <cstdio>
#include <sstream>
#include <string>

using namespace happy_dial;
using namespace happy_dial::cli;
using namespace happy_dial::test;
using namespace std::chrono_literals;

#ifndef HAPPY_DIAL_CLI
#error "HAPPY_DIAL_CLI must name the happy-dial binary"
#endif

namespace {

// Runs happy-dial with `args`, capturing stdout (stderr goes to the test log).
run_result run(const std::string& args) {
    return run_command(std::string(HAPPY_DIAL_CLI) + " " + args);
}

std::optional<command> parse(std::vector<std::string> args) {
    std::string error;
    return parse_command_line(args, error);
}

}  // namespace

TEST_CASE("cli: every dial option has a flag", "[cli]") {
    auto cmd = parse({"--resolution-delay",
                      "25",
                      "--attempt-delay",
                      "100",
                      "--prefer",
                      "ipv4",
                      "--first-family-count",
                      "2",
                      "--timeout",
                      "3000",
                      "--attempt-timeout",
                      "700",
                      "--max-attempts",
                      "3",
                      "--bind",
                      "127.0.0.1",
                      "--bind",
                      "::1",
                      "--trace",
                      "example.test",
                      "443"});
    REQUIRE(cmd);
    CHECK(cmd->host == "example.test");
    CHECK(cmd->port == "443");
    CHECK(cmd->options.resolution_delay == 25ms);
    CHECK(cmd->options.connection_attempt_delay == 100ms);
    CHECK(cmd->options.family == family_preference::prefer_ipv4);
    CHECK(cmd->options.first_address_family_count == 2);
    CHECK(cmd->options.timeout == 3000ms);
    CHECK(cmd->options.attempt_timeout == 700ms);
    CHECK(cmd->options.max_concurrent_attempts == 3);
    CHECK(cmd->bind_v4 == boost::asio::ip::make_address("127.0.0.1"));
    CHECK(cmd->bind_v6 == boost::asio::ip::make_address("::1"));
    CHECK(cmd->trace);
    CHECK(parse({"-6", "h", "1"})->options.family == family_preference::ipv6_only);
    CHECK(parse({"-4", "h", "1"})->options.family == family_preference::ipv4_only);
    CHECK(parse({"h", "1"})->options.resolver == resolver_backend::automatic);
    CHECK(parse({"--resolver", "system", "h", "1"})->options.resolver == resolver_backend::system);
    CHECK(parse({"--resolver", "c-ares", "h", "1"})->options.resolver == resolver_backend::c_ares);
    CHECK(parse({"--resolver", "auto", "h", "1"})->options.resolver == resolver_backend::automatic);
}

TEST_CASE("cli: bad command lines are usage errors with a reason", "[cli]") {
    std::string error;
    CHECK_FALSE(parse_command_line({"onlyhost"}, error));
    CHECK(error == "expected HOST and PORT");
    CHECK_FALSE(parse_command_line({"--attempt-delay", "soon", "h", "1"}, error));
    CHECK(error.find("not a number") != std::string::npos);
    CHECK_FALSE(parse_command_line({"--prefer", "ipx", "h", "1"}, error));
    CHECK_FALSE(parse_command_line({"--bind", "nowhere", "h", "1"}, error));
    CHECK_FALSE(parse_command_line({"--resolver", "bind9", "h", "1"}, error));
    CHECK(error == "--resolver takes auto, system or c-ares, not 'bind9'");
    CHECK_FALSE(parse_command_line({"--frobnicate", "h", "1"}, error));
    CHECK(error == "unknown option --frobnicate");
    CHECK_FALSE(parse_command_line({"--timeout"}, error));
    CHECK(error == "--timeout needs a value");
}

TEST_CASE("cli: exit codes are distinct per outcome", "[cli]") {
    namespace ae = boost::asio::error;
    CHECK(exit_code_for({}, 1) == connected);
    CHECK(exit_code_for(error::timed_out, 3) == timed_out);
    CHECK(exit_code_for(error::invalid_delay, 0) == usage_error);
    CHECK(exit_code_for(ae::host_not_found, 0) == resolution_failed);
    CHECK(exit_code_for(error::no_endpoints, 0) == resolution_failed);
    CHECK(exit_code_for(ae::connection_refused, 2) == attempts_failed);
}

TEST_CASE("cli: the timeline draws one row per answer and attempt on a shared axis", "[cli]") {
    dial_report report;
    report.answers.push_back({address_family::ipv6, 1ms, 1, 1, {}});
    report.attempts.push_back({{boost::asio::ip::make_address("2001:db8::1"), 443},
                               1ms,
                               251ms,
                               attempt_outcome::cancelled,
                               {}});
    report.attempts.push_back({{boost::asio::ip::make_address("192.0.2.1"), 443},
                               251ms,
                               260ms,
                               attempt_outcome::won,
                               {}});
    std::ostringstream os;
    draw_timeline(os, rows_for(report), 260.0, 52);
    const std::string text = os.str();
    CHECK(text.find("DNS AAAA") != std::string::npos);
    CHECK(text.find("[2001:db8::1]:443") != std::string::npos);
    CHECK(text.find("cancelled  (1.00 -> 251.0 ms)") != std::string::npos);
    CHECK(text.find("won  (251.0 -> 260.0 ms)") != std::string::npos);
    // The won attempt's bar starts near the right end: 251/260 of 52 columns.
    const auto won_line = text.substr(text.find("192.0.2.1:443"));
    CHECK(won_line.find('|') > 40);
}

TEST_CASE("cli: DNS failures read distinctly in the timeline (issue 13)", "[cli]") {
    dial_report report;
    const boost::system::error_code errors[] = {boost::asio::error::host_not_found,
                                                error::dns_server_failure,
                                                error::dns_refused,
                                                error::dns_timed_out,
                                                {}};
    for (const auto& ec : errors) {
        report.answers.push_back({address_family::ipv6, 1ms, 0, 0, ec});
    }
    const auto rows = rows_for(report);
    REQUIRE(rows.size() == 5);
    CHECK(rows[0].outcome == "host not found (NXDOMAIN)");
    CHECK(rows[1].outcome == "DNS server failure (SERVFAIL)");
    CHECK(rows[2].outcome == "DNS server refused the query");
    CHECK(rows[3].outcome == "DNS query timed out");
    CHECK(rows[4].outcome == "no AAAA records");
}

TEST_CASE("cli: attempts are described in words", "[cli]") {
    namespace ae = boost::asio::error;
    attempt_report a;
    a.outcome = attempt_outcome::failed;
    a.error = ae::connection_refused;
    CHECK(describe_attempt(a) == "refused");
    a.error = ae::network_unreachable;
    CHECK(describe_attempt(a) == "unreachable");
    a.outcome = attempt_outcome::timed_out;
    CHECK(describe_attempt(a) == "timed out");
    a.outcome = attempt_outcome::cancelled;
    CHECK(describe_attempt(a) == "cancelled");
}

TEST_CASE("cli: json strings are escaped", "[cli]") {
    CHECK(json_string("a\"b\\c\n") == "\"a\\\"b\\\\c\\n\"");
    CHECK(json_string(std::string("\x01", 1)) == "\"\\u0001\"");
}

TEST_CASE("cli binary: --help, --version and usage errors", "[cli][binary]") {
    auto help = run("--help");
    CHECK(help.status == 0);
    CHECK(help.out.find("usage: happy-dial") != std::string::npos);
    CHECK(run("--version").out.find("happy-dial ") == 0);
    CHECK(run("only-one-arg 2>/dev/null").status == usage_error);
    CHECK(run("--attempt-delay -5 127.0.0.1 80 2>/dev/null").status == usage_error);
}

TEST_CASE("cli binary: --trace shows the race to a local listener", "[cli][binary]") {
    accepting_listener ok(loopback_v4);
    auto r = run("--trace 127.0.0.1 " + std::to_string(ok.endpoint().port()));
    CHECK(r.status == connected);
    CHECK(r.out.find("won") != std::string::npos);
    CHECK(r.out.find("connected to 127.0.0.1:") != std::string::npos);
}

TEST_CASE("cli binary: refused and black-holed targets give their exit codes", "[cli][binary]") {
    refusing_port refused(loopback_v4);
    black_hole hole(loopback_v4);
    CHECK(run("127.0.0.1 " + std::to_string(refused.endpoint().port()) + " 2>/dev/null").status ==
          attempts_failed);
    auto r = run("--json --timeout 300 127.0.0.1 " + std::to_string(hole.endpoint().port()));
    CHECK(r.status == timed_out);
    CHECK(r.out.find("\"connected\": false") != std::string::npos);
    CHECK(r.out.find("\"outcome\": \"cancelled\"") != std::string::npos);
    CHECK(r.out.find("\"message\": \"dial timed out\"") != std::string::npos);
    // No usable address (no DNS query leaves the machine: the literal is rejected locally).
    CHECK(run("0.0.0.0 80 2>/dev/null").status == resolution_failed);
}

TEST_CASE("cli binary: --json records a per-attempt timeout on a black-holed IPv6 address",
          "[cli][binary]") {
    if (!has_ipv6_loopback()) {
        WARN("no ::1 on this machine: skipped");
        return;
    }
    black_hole hole(loopback_v6);
    auto r = run("--json --attempt-timeout 200 ::1 " + std::to_string(hole.endpoint().port()));
    CHECK(r.status == attempts_failed);
    CHECK(r.out.find("\"family\": \"ipv6\"") != std::string::npos);
    CHECK(r.out.find("\"outcome\": \"timed out\"") != std::string::npos);
}

TEST_CASE("cli binary: the demo shows happy_dial winning over IPv4 while sequential waits",
          "[cli][binary][demo]") {
    auto r = run("--demo");
    CHECK(r.status == 0);
    CHECK(r.out.find("happy_dial::async_dial") != std::string::npos);
    CHECK(r.out.find("asio::async_connect (sequential)") != std::string::npos);
    CHECK(r.out.find("never tried") != std::string::npos);
    CHECK(r.out.find("-> connected to 127.0.0.1:") != std::string::npos);
}
