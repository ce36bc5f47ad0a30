// happy-dial: option parsing, exit codes, timeline and JSON rendering, and the real binary
// against local listeners (an accepting one, a refusing one and a black hole) and loopback
// proxies (happy_dial::testing::proxy_server).
#include "address_list.hpp"
#include "catch.hpp"
#include "cli/json_check.hpp"
#include "cli_options.hpp"
#include "exit_codes.hpp"
#include "json_report.hpp"
#include "op/loopback.hpp"
#include "summary.hpp"
#include "support/process.hpp"
#include "timeline.hpp"

#include <happy_dial/error.hpp>
#include <happy_dial/proxy.hpp>
#include <happy_dial/testing/proxy_server.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/executor_work_guard.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

using namespace happy_dial;
using namespace happy_dial::cli;
using namespace happy_dial::test;
using namespace std::chrono_literals;

#ifndef HAPPY_DIAL_CLI
#error "HAPPY_DIAL_CLI must name the happy-dial binary"
#endif
#ifndef HAPPY_DIAL_CLI_SCHEMA
#error "HAPPY_DIAL_CLI_SCHEMA must name docs/cli-report.schema.json"
#endif

namespace {

// Runs happy-dial with `args`, capturing stdout (stderr goes to the test log).
// (Appended in place: GCC 12's -Warray-bounds misreads string(literal) + " " + args.)
run_result run(const std::string& args) {
    std::string command = HAPPY_DIAL_CLI;
    command.append(" ").append(args);
    return run_command(command);
}

std::optional<command> parse(std::vector<std::string> args) {
    std::string error;
    return parse_command_line(args, error);
}

// How many times `needle` occurs in `text`.
std::size_t occurrences(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
        ++n;
    }
    return n;
}

// The documents in `text` (pretty or one per line), each checked against
// docs/cli-report.schema.json and its schema_version.
std::vector<json_value> checked_documents(const std::string& text) {
    std::ifstream file(HAPPY_DIAL_CLI_SCHEMA);
    REQUIRE(file);
    const std::string schema_text((std::istreambuf_iterator<char>(file)),
                                  std::istreambuf_iterator<char>());
    const auto schemas = json_reader(schema_text).all();
    REQUIRE(schemas.size() == 1);
    const auto docs = json_reader(text).all();
    for (const auto& doc : docs) {
        const auto* version = doc.find("schema_version");
        REQUIRE(version);
        CHECK(version->number == json_schema_version);
        std::vector<std::string> errors;
        check_schema(doc, schemas[0], schemas[0], "document", errors);
        for (const auto& e : errors) {
            UNSCOPED_INFO(e);
        }
        CHECK(errors.empty());
    }
    return docs;
}

// The lines of `text` (each ended by '\n').
std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
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
    CHECK(parse({"h", "1"})->options.https_records == https_records_mode::off);
    CHECK(parse({"--https-records", "h", "1"})->options.https_records ==
          https_records_mode::opportunistic);
    CHECK(parse({"h", "1"})->options.nat64 == nat64_mode::automatic);
    CHECK(parse({"--no-nat64", "h", "1"})->options.nat64 == nat64_mode::off);
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

TEST_CASE("cli: --count and --no-history", "[cli]") {
    auto plain = parse({"h", "1"});
    REQUIRE(plain);
    CHECK(plain->count == 1);
    CHECK(plain->history);
    auto cmd = parse({"--count", "3", "--no-history", "h", "1"});
    REQUIRE(cmd);
    CHECK(cmd->count == 3);
    CHECK_FALSE(cmd->history);
    CHECK(parse({"--count", "1000", "h", "1"})->count == 1000);
    std::string error;
    for (const char* bad : {"0", "abc", "1001", "-1", "2x", ""}) {
        CHECK_FALSE(parse_command_line({"--count", bad, "h", "1"}, error));
        CHECK(error ==
              std::string("--count takes a number of dials from 1 to 1000, not '") + bad + "'");
    }
    CHECK_FALSE(parse_command_line({"h", "1", "--count"}, error));
    CHECK(error == "--count needs a value");
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

TEST_CASE("cli: planned delays and the history's part read in words", "[cli]") {
    attempt_report a;
    a.delay = 250ms;
    CHECK(describe_delay(a) == "next attempt after 250 ms (configured)");
    a.delay = 100ms;
    a.delay_from = delay_source::history;
    CHECK(describe_delay(a) == "next attempt after 100 ms (history)");
    a.delay = 62500us;
    a.delay_from = delay_source::deadline;
    CHECK(describe_delay(a) == "next attempt after 62.5 ms (deadline)");

    history_use use;
    use.updated = 1;
    use.first_family = address_family::ipv4;
    CHECK(describe_history(use) == "nothing known yet, first family ipv4, 1 updated");
    use.hints = 2;
    use.penalised = 1;
    use.updated = 3;
    CHECK(describe_history(use) == "2 addresses known, 1 penalised, first family ipv4, 3 updated");
    use.explored = true;
    use.hints = 0;
    use.penalised = 0;
    use.first_family.reset();
    use.ipv6_routable = false;
    CHECK(describe_history(use) ==
          "explored (ignored this time), no IPv6 route, AAAA not asked, 3 updated");

    // The timeline notes the delay only when asked (the demo draws without it).
    dial_report report;
    report.attempts.push_back(a);
    CHECK(rows_for(report).back().note.empty());
    CHECK(rows_for(report, true).back().note == "next attempt after 62.5 ms (deadline)");
}

TEST_CASE("cli: json carries the history and each attempt's planned delay", "[cli]") {
    dial_report report;
    report.attempts.push_back({{boost::asio::ip::make_address("192.0.2.1"), 443},
                               0ms,
                               1ms,
                               attempt_outcome::won,
                               {},
                               100ms,
                               delay_source::history});
    report.winner = 0;
    std::ostringstream without;
    write_json(without, "h", "443", report, 0);
    CHECK(without.str().find("\"history\": null,\n") != std::string::npos);
    CHECK(without.str().find("\"delay_ms\": 100.000, \"delay_from\": \"history\", "
                             "\"local\": null}") != std::string::npos);
    history_use use;
    use.hints = 1;
    use.first_family = address_family::ipv6;
    use.ipv6_routable = false;
    use.updated = 1;
    report.history = use;
    std::ostringstream with;
    write_json(with, "h", "443", report, 0);
    CHECK(with.str().find("\"history\": {\"explored\": false, \"hints\": 1, \"penalised\": 0, "
                          "\"first_family\": \"ipv6\", \"ipv6_routable\": false, "
                          "\"updated\": 1},\n") != std::string::npos);
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

TEST_CASE("cli binary: --count N dials N times in one process", "[cli][binary]") {
    accepting_listener ok(loopback_v4);
    const std::string port = std::to_string(ok.endpoint().port());
    auto r = run("--count 3 127.0.0.1 " + port);
    CHECK(r.status == connected);
    CHECK(occurrences(r.out, "connected to 127.0.0.1:") == 3);
    CHECK(r.out.find("dial 1 of 3\n") == 0);
    CHECK(r.out.find("dial 3 of 3\n") != std::string::npos);
    // One JSON document per dial; the second learned the first one's RTT.
    auto j = run("--json --count 2 127.0.0.1 " + port);
    CHECK(j.status == connected);
    CHECK(occurrences(j.out, "\"host\": \"127.0.0.1\"") == 2);
    CHECK(occurrences(j.out, "\n}\n") == 3);  // and the summary
    CHECK(j.out.find("\"type\": \"summary\"") != std::string::npos);
    CHECK(j.out.find("dial 1") == std::string::npos);
    const auto second = j.out.find("\n}\n") + 3;
    CHECK(j.out.find("\"hints\": 0,") < second);
    CHECK(j.out.find("\"delay_ms\": 250.000, \"delay_from\": \"configured\"") < second);
    CHECK(j.out.find("\"hints\": 1,", second) != std::string::npos);
    CHECK(j.out.find("\"delay_from\": \"history\"", second) != std::string::npos);
}

TEST_CASE("cli binary: bad --count values are usage errors", "[cli][binary]") {
    for (const char* bad : {"0", "abc", "1001"}) {
        CHECK(run(std::string("--count ") + bad + " 127.0.0.1 1 2>/dev/null").status ==
              usage_error);
    }
    // The reason goes to stderr.
    auto r = run("--count 1001 127.0.0.1 1 2>&1");
    CHECK(r.status == usage_error);
    CHECK(r.out.find("--count takes a number of dials from 1 to 1000, not '1001'") !=
          std::string::npos);
}

TEST_CASE("cli binary: history is on unless --no-history", "[cli][binary]") {
    accepting_listener ok(loopback_v4);
    const std::string port = std::to_string(ok.endpoint().port());
    auto with = run("--json 127.0.0.1 " + port);
    CHECK(with.status == connected);
    CHECK(with.out.find("\"history\": {\"explored\": false, \"hints\": 0,") != std::string::npos);
    CHECK(with.out.find("\"delay_ms\": 250.000") != std::string::npos);
    auto without = run("--json --no-history 127.0.0.1 " + port);
    CHECK(without.status == connected);
    CHECK(without.out.find("\"history\": null,") != std::string::npos);
    CHECK(without.out.find("\"delay_ms\": 250.000, \"delay_from\": \"configured\"") !=
          std::string::npos);
    auto trace = run("--trace --no-history 127.0.0.1 " + port);
    CHECK(trace.out.find("history: off\n") != std::string::npos);
}

TEST_CASE("cli binary: --trace --count shows what the history learned from a refusal",
          "[cli][binary]") {
    refusing_port refused(loopback_v4);
    const std::string port = std::to_string(refused.endpoint().port());
    auto r = run("--trace --count 2 127.0.0.1 " + port + " 2>/dev/null");
    CHECK(r.status == attempts_failed);
    CHECK(occurrences(r.out, "history: ") == 2);
    CHECK(r.out.find("history: nothing known yet, first family ") != std::string::npos);
    CHECK(r.out.find("history: 1 address known, 1 penalised, first family ") != std::string::npos);
    CHECK(occurrences(r.out, ", 1 updated\n") == 2);
    CHECK(occurrences(r.out, "refused  (") == 2);
    CHECK(occurrences(r.out, "next attempt after 250 ms (configured)") == 2);
    // One dial in explore_one_in ignores the history.
    const unsigned one_in = history_settings{}.explore_one_in;
    REQUIRE(one_in > 0);
    auto many =
        run("--trace --count " + std::to_string(one_in) + " 127.0.0.1 " + port + " 2>/dev/null");
    CHECK(many.status == attempts_failed);
    CHECK(occurrences(many.out, "history: ") == one_in);
    CHECK(occurrences(many.out, "history: explored (ignored this time)") == 1);
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

TEST_CASE("cli: --addresses takes endpoints and the PORT operand for entries without one",
          "[cli]") {
    namespace ip = boost::asio::ip;
    auto cmd = parse({"--addresses", "[::1]:8080, 127.0.0.1:81,192.0.2.1,2001:db8::1", "443"});
    REQUIRE(cmd);
    REQUIRE(cmd->addresses.size() == 4);
    CHECK(cmd->addresses[0] == tcp::endpoint(ip::make_address("::1"), 8080));
    CHECK(cmd->addresses[1] == tcp::endpoint(ip::make_address("127.0.0.1"), 81));
    CHECK(cmd->addresses[2] == tcp::endpoint(ip::make_address("192.0.2.1"), 443));
    CHECK(cmd->addresses[3] == tcp::endpoint(ip::make_address("2001:db8::1"), 443));
    CHECK(cmd->host.empty());
    CHECK(cmd->port == "443");
    CHECK(format_address_list(cmd->addresses) ==
          "[::1]:8080,127.0.0.1:81,192.0.2.1:443,[2001:db8::1]:443");
    // No operand when every entry has a port, two when HOST labels the run.
    auto bare = parse({"--addresses", "127.0.0.1:1"});
    REQUIRE(bare);
    CHECK(bare->host.empty());
    CHECK(bare->port.empty());
    auto labelled = parse({"--addresses", "[::1]", "db.example", "5432"});
    REQUIRE(labelled);
    CHECK(labelled->host == "db.example");
    CHECK(labelled->addresses.front() == tcp::endpoint(ip::make_address("::1"), 5432));
    CHECK(parse({"h", "1"})->addresses.empty());
}

TEST_CASE("cli: bad --addresses values are usage errors with a reason", "[cli]") {
    std::string error;
    const std::pair<std::vector<std::string>, std::string> cases[] = {
        {{"--addresses", "example.com:80"},
         "--addresses: 'example.com:80' is not an IP address (give ADDR, ADDR:PORT or "
         "[IPv6]:PORT; names are not resolved)"},
        {{"--addresses", "127.0.0.1:0"}, "--addresses: '127.0.0.1:0' has a bad port (1 to 65535)"},
        {{"--addresses", "127.0.0.1:65536"},
         "--addresses: '127.0.0.1:65536' has a bad port (1 to 65535)"},
        {{"--addresses", "[::1:80"},
         "--addresses: '[::1:80' is not an endpoint (give ADDR, ADDR:PORT or [IPv6]:PORT; names "
         "are not resolved)"},
        {{"--addresses", "[::1]80"},
         "--addresses: '[::1]80' is not an endpoint (give ADDR, ADDR:PORT or [IPv6]:PORT; names "
         "are not resolved)"},
        {{"--addresses", "127.0.0.1,,::1", "80"}, "--addresses: empty entry in '127.0.0.1,,::1'"},
        {{"--addresses", "", "80"}, "--addresses: empty entry in ''"},
        {{"--addresses", "127.0.0.1"},
         "--addresses: '127.0.0.1' has no port, and PORT is not given"},
        {{"--addresses", "127.0.0.1", "http"},
         "--addresses: '127.0.0.1' has no port, and PORT 'http' is not a number from 1 to 65535"},
        {{"--addresses", "127.0.0.1:1", "a", "b", "c"},
         "expected at most HOST and PORT with --addresses"},
        {{"--addresses"}, "--addresses needs a value"},
    };
    for (const auto& [args, message] : cases) {
        CHECK_FALSE(parse_command_line(args, error));
        CHECK(error == message);
    }
    std::string many = "127.0.0.1:1";
    for (std::size_t i = 1; i <= max_address_entries; ++i) {
        many += ",127.0.0.1:1";
    }
    CHECK_FALSE(parse_command_line({"--addresses", many}, error));
    CHECK(error == "--addresses takes at most 64 endpoints");
}

TEST_CASE("cli: --interval, --json-lines and what they exclude", "[cli]") {
    CHECK(parse({"h", "1"})->interval == 0ms);
    CHECK(parse({"--interval", "50", "h", "1"})->interval == 50ms);
    CHECK(parse({"--interval", "60000", "h", "1"})->interval == 60000ms);
    std::string error;
    for (const char* bad : {"-1", "60001", "soon", "5ms", ""}) {
        CHECK_FALSE(parse_command_line({"--interval", bad, "h", "1"}, error));
        CHECK(error ==
              std::string("--interval takes milliseconds from 0 to 60000, not '") + bad + "'");
    }
    auto lines = parse({"--json-lines", "h", "1"});
    REQUIRE(lines);
    CHECK(lines->json_lines);
    CHECK_FALSE(lines->json);
    CHECK_FALSE(parse_command_line({"--json", "--json-lines", "h", "1"}, error));
    CHECK(error == "--json and --json-lines are exclusive: pick one");
    CHECK_FALSE(parse_command_line({"--trace", "--json-lines", "h", "1"}, error));
    CHECK(error == "--trace and --json-lines are exclusive: every stdout line is a JSON document");
}

TEST_CASE("cli: compact json drops whitespace outside strings only", "[cli]") {
    CHECK(compact_json("{\n  \"a b\": [1, 2],\n  \"c\": \"x \\\" y\\\\\"\n}\n") ==
          "{\"a b\":[1,2],\"c\":\"x \\\" y\\\\\"}");
    dial_report report;
    report.error = boost::asio::error::connection_refused;
    std::ostringstream pretty;
    write_json(pretty, "", "80", report, attempts_failed, {{loopback_v4, 80}});
    const auto line = compact_json(pretty.str());
    CHECK(line.find('\n') == std::string::npos);
    CHECK(line.rfind("{\"schema_version\":1,\"type\":\"dial\",\"host\":null,\"port\":\"80\","
                     "\"addresses\":[\"127.0.0.1:80\"],\"connected\":false,",
                     0) == 0);
    CHECK(line.find("\"message\":\"Connection refused\"") != std::string::npos);
    CHECK(checked_documents(line).size() == 1);
}

TEST_CASE("cli: the summary counts outcomes, times and winning families", "[cli]") {
    auto won = [](const char* address, std::chrono::milliseconds elapsed) {
        dial_report r;
        r.attempts.push_back(
            {{boost::asio::ip::make_address(address), 80}, 0ms, elapsed, attempt_outcome::won, {}});
        r.winner = 0;
        r.elapsed = elapsed;
        return r;
    };
    dial_report refused;
    refused.error = boost::asio::error::connection_refused;
    refused.elapsed = 1ms;
    run_summary summary;
    summary.add(won("::1", 4ms), connected);
    summary.add(won("127.0.0.1", 2ms), connected);
    summary.add(won("127.0.0.1", 8ms), connected);
    summary.add(refused, attempts_failed);
    CHECK(summary.dials() == 4);
    std::ostringstream text;
    summary.write_text(text);
    CHECK(text.str() ==
          "summary: 4 dials, 3 connected, 1 failed\n"
          "elapsed: min 1.00 ms, median 3.00 ms, max 8.00 ms\n"
          "winners: 1 IPv6, 2 IPv4\n");
    std::ostringstream json;
    summary.write_json(json);
    CHECK(compact_json(json.str()) ==
          "{\"schema_version\":1,\"type\":\"summary\",\"dials\":4,\"connected\":3,\"failed\":1,"
          "\"exit_code\":4,\"elapsed_ms\":{\"min\":1.000,\"median\":3.000,\"max\":8.000},"
          "\"winners\":{\"ipv6\":1,\"ipv4\":2}}");
    CHECK(checked_documents(json.str()).size() == 1);
}

TEST_CASE("cli binary: --addresses dials a loopback listener without DNS", "[cli][binary]") {
    accepting_listener ok(loopback_v4);
    const std::string port = std::to_string(ok.endpoint().port());
    auto r = run("--addresses 127.0.0.1:" + port);
    CHECK(r.status == connected);
    CHECK(r.out.find("connected to 127.0.0.1:" + port + " (IPv4)") != std::string::npos);
    // An entry without a port takes PORT, HOST is a label: nothing is looked up.
    auto j = run("--json --addresses 127.0.0.1 not-resolved.invalid " + port);
    CHECK(j.status == connected);
    const auto docs = checked_documents(j.out);
    REQUIRE(docs.size() == 1);
    CHECK(j.out.find("\"host\": \"not-resolved.invalid\"") != std::string::npos);
    CHECK(j.out.find("\"addresses\": [\"127.0.0.1:" + port + "\"]") != std::string::npos);
    CHECK(j.out.find("\"resolver\": null") != std::string::npos);
    // Failures name the list.
    refusing_port refused(loopback_v4);
    auto f = run("--addresses 127.0.0.1:" + std::to_string(refused.endpoint().port()) + " 2>&1");
    CHECK(f.status == attempts_failed);
    CHECK(f.out.find("cannot connect to 127.0.0.1:" + std::to_string(refused.endpoint().port()) +
                     ": every attempt failed") != std::string::npos);
}

TEST_CASE("cli binary: --addresses races a black-holed IPv6 endpoint against IPv4",
          "[cli][binary]") {
    if (!has_ipv6_loopback()) {
        WARN("no ::1 on this machine: skipped");
        return;
    }
    black_hole hole(loopback_v6);
    accepting_listener ok(loopback_v4);
    const std::string v6 = "[::1]:" + std::to_string(hole.endpoint().port());
    const std::string v4 = "127.0.0.1:" + std::to_string(ok.endpoint().port());
    auto r = run("--trace --attempt-delay 50 --addresses " + v6 + "," + v4);
    CHECK(r.status == connected);
    CHECK(r.out.find("happy-dial " + v6 + "," + v4 + "\n") == 0);
    CHECK(r.out.find("cancelled") != std::string::npos);
    CHECK(r.out.find("connected to " + v4 + " (IPv4)") != std::string::npos);
    CHECK(r.out.find("attempt 2 of 2") != std::string::npos);
}

TEST_CASE("cli binary: bad --addresses, --interval and --json-lines uses are usage errors",
          "[cli][binary]") {
    const std::pair<std::string, std::string> cases[] = {
        {"--addresses example.com:80", "is not an IP address"},
        {"--addresses 127.0.0.1:99999", "has a bad port (1 to 65535)"},
        {"--addresses 127.0.0.1 http", "PORT 'http' is not a number"},
        {"--addresses 127.0.0.1", "has no port, and PORT is not given"},
        {"--interval 60001 127.0.0.1 1", "--interval takes milliseconds from 0 to 60000"},
        {"--interval -5 127.0.0.1 1", "--interval takes milliseconds from 0 to 60000"},
        {"--json --json-lines 127.0.0.1 1", "are exclusive"},
        {"--trace --json-lines 127.0.0.1 1", "are exclusive"},
    };
    for (const auto& [args, message] : cases) {
        auto r = run(args + " 2>&1");
        CHECK(r.status == usage_error);
        CHECK(r.out.find("happy-dial: ") == 0);
        CHECK(r.out.find(message) != std::string::npos);
        CHECK(r.out.find("(try happy-dial --help)") != std::string::npos);
    }
}

TEST_CASE("cli binary: --count with --interval pauses between dials and sums up", "[cli][binary]") {
    accepting_listener ok(loopback_v4);
    const std::string port = std::to_string(ok.endpoint().port());
    const auto start = std::chrono::steady_clock::now();
    auto r = run("--count 3 --interval 50 127.0.0.1 " + port);
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK(r.status == connected);
    CHECK(took >= 100ms);  // two pauses: none before the first dial
    CHECK(took < 2s);
    CHECK(occurrences(r.out, "connected to 127.0.0.1:") == 3);
    CHECK(r.out.find("summary: 3 dials, 3 connected, 0 failed\nelapsed: min ") !=
          std::string::npos);
    CHECK(r.out.find("winners: 0 IPv6, 3 IPv4\n") != std::string::npos);
    // One dial has no summary.
    CHECK(run("127.0.0.1 " + port).out.find("summary:") == std::string::npos);
    // Failed dials are counted and the exit code is still the last dial's.
    refusing_port refused(loopback_v4);
    auto f =
        run("--count 2 127.0.0.1 " + std::to_string(refused.endpoint().port()) + " 2>/dev/null");
    CHECK(f.status == attempts_failed);
    CHECK(f.out.find("summary: 2 dials, 0 connected, 2 failed\n") != std::string::npos);
    CHECK(f.out.find("winners: 0 IPv6, 0 IPv4\n") != std::string::npos);
}

TEST_CASE("cli binary: --json-lines prints one document per line and the summary last",
          "[cli][binary]") {
    accepting_listener ok(loopback_v4);
    const std::string port = std::to_string(ok.endpoint().port());
    auto r = run("--json-lines --count 3 --addresses 127.0.0.1:" + port);
    CHECK(r.status == connected);
    const auto lines = lines_of(r.out);
    REQUIRE(lines.size() == 4);
    for (const auto& line : lines) {
        CHECK(line.rfind("{\"schema_version\":1,", 0) == 0);
        CHECK(json_reader(line).all().size() == 1);
    }
    const auto docs = checked_documents(r.out);
    REQUIRE(docs.size() == 4);
    CHECK(docs[0].find("type")->string == "dial");
    CHECK(docs[0].find("host")->type == json_value::kind::null);
    const auto& summary = docs[3];
    CHECK(summary.find("type")->string == "summary");
    CHECK(summary.find("dials")->number == 3);
    CHECK(summary.find("connected")->number == 3);
    CHECK(summary.find("failed")->number == 0);
    CHECK(summary.find("winners")->find("ipv4")->number == 3);
    CHECK(summary.find("winners")->find("ipv6")->number == 0);
    const auto* elapsed = summary.find("elapsed_ms");
    CHECK(elapsed->find("min")->number <= elapsed->find("median")->number);
    CHECK(elapsed->find("median")->number <= elapsed->find("max")->number);
    // One dial: one line, no summary.
    auto one = run("--json-lines 127.0.0.1 " + port);
    CHECK(lines_of(one.out).size() == 1);
    CHECK(one.out.find("summary") == std::string::npos);
}

TEST_CASE("cli binary: every --json document follows docs/cli-report.schema.json",
          "[cli][binary]") {
    accepting_listener ok(loopback_v4);
    refusing_port refused(loopback_v4);
    black_hole hole(loopback_v4);
    const auto docs = checked_documents(
        run("--json --count 2 127.0.0.1 " + std::to_string(ok.endpoint().port())).out);
    CHECK(docs.size() == 3);
    CHECK(checked_documents(
              run("--json --no-history 127.0.0.1 " + std::to_string(refused.endpoint().port())).out)
              .size() == 1);
    CHECK(checked_documents(
              run("--json --timeout 100 127.0.0.1 " + std::to_string(hole.endpoint().port())).out)
              .size() == 1);
    // The checker itself catches a missing field and a wrong version.
    std::ifstream file(HAPPY_DIAL_CLI_SCHEMA);
    const std::string schema_text((std::istreambuf_iterator<char>(file)),
                                  std::istreambuf_iterator<char>());
    const auto schema = json_reader(schema_text).all().at(0);
    std::vector<std::string> errors;
    check_schema(json_reader("{\"schema_version\": 2, \"type\": \"summary\"}").all().at(0),
                 schema,
                 schema,
                 "document",
                 errors);
    CHECK_FALSE(errors.empty());
}

namespace {

// A dial given [2001:db8::1]:443 (refused), 192.0.2.1:443 (won) and 192.0.2.1:443 again, with
// a third address the win left untried and a multicast one: every fate the CLI prints.
dial_report fates_report() {
    namespace ip = boost::asio::ip;
    const tcp::endpoint v6(ip::make_address("2001:db8::1"), 443);
    const tcp::endpoint v4(ip::make_address("192.0.2.1"), 443);
    const tcp::endpoint v6b(ip::make_address("2001:db8::2"), 443);
    const tcp::endpoint multicast(ip::make_address("224.0.0.1"), 443);
    dial_report report;
    report.answers.push_back({std::nullopt, 0ms, 5, 3, {}});
    report.answers[0].endpoints = {{v6, endpoint_fate::attempted, 0},
                                   {v4, endpoint_fate::attempted, 1},
                                   {v6b, endpoint_fate::never_tried, std::nullopt},
                                   {v4, endpoint_fate::duplicate, std::nullopt},
                                   {multicast, endpoint_fate::invalid, std::nullopt}};
    report.attempts.push_back(
        {v6, 0ms, 1ms, attempt_outcome::failed, boost::asio::error::connection_refused});
    report.attempts[0].local = tcp::endpoint(ip::make_address("2001:db8::99"), 40000);
    report.attempts.push_back({v4, 1ms, 2ms, attempt_outcome::won, {}});
    report.attempts[1].local = tcp::endpoint(ip::make_address("192.0.2.99"), 50000);
    report.winner = 1;
    report.elapsed = 2ms;
    report.non_preferred_family_won = true;
    return report;
}

}  // namespace

TEST_CASE("cli: --trace lists each answer's addresses with their fate and local address", "[cli]") {
    const auto report = fates_report();
    std::ostringstream os;
    write_addresses(os, report);
    CHECK(os.str() ==
          "addresses:\n"
          "  endpoints  [2001:db8::1]:443  attempt 1 from [2001:db8::99]:40000\n"
          "             192.0.2.1:443      attempt 2 from 192.0.2.99:50000\n"
          "             [2001:db8::2]:443  never tried\n"
          "             192.0.2.1:443      duplicate\n"
          "             224.0.0.1:443      invalid\n");
    CHECK(describe_fallback(report) == "fallback: IPv4 won, IPv6 was preferred");
    // Without a local endpoint (a custom transport) the attempt is still named.
    auto unknown = report;
    unknown.attempts[0].local.reset();
    std::ostringstream without;
    write_addresses(without, unknown);
    CHECK(without.str().find("[2001:db8::1]:443  attempt 1\n") != std::string::npos);
    // Nothing to list, nothing printed; no fallback, no line.
    dial_report empty;
    empty.answers.push_back({address_family::ipv6, 1ms, 0, 0, boost::asio::error::host_not_found});
    std::ostringstream none;
    write_addresses(none, empty);
    CHECK(none.str().empty());
    CHECK(describe_fallback(empty).empty());
    CHECK(fate_id(endpoint_fate::never_tried) == std::string("never_tried"));
    CHECK(fate_id(endpoint_fate::excluded) == std::string("excluded"));
}

TEST_CASE("cli: json carries endpoint fates and local addresses and the fallback", "[cli]") {
    std::ostringstream os;
    write_json(os, "h", "443", fates_report(), 0);
    const auto docs = checked_documents(os.str());
    REQUIRE(docs.size() == 1);
    const auto& doc = docs[0];
    REQUIRE(doc.find("non_preferred_family_won"));
    CHECK(doc.find("non_preferred_family_won")->boolean);
    const auto& endpoints = *doc.find("answers")->items.at(0).find("endpoints");
    REQUIRE(endpoints.items.size() == 5);
    CHECK(endpoints.items[0].find("endpoint")->string == "[2001:db8::1]:443");
    CHECK(endpoints.items[0].find("family")->string == "ipv6");
    CHECK(endpoints.items[0].find("fate")->string == "attempted");
    CHECK(endpoints.items[0].find("attempt")->number == 0);
    CHECK(endpoints.items[1].find("attempt")->number == 1);
    CHECK(endpoints.items[2].find("fate")->string == "never_tried");
    CHECK(endpoints.items[2].find("attempt")->type == json_value::kind::null);
    CHECK(endpoints.items[3].find("fate")->string == "duplicate");
    CHECK(endpoints.items[4].find("fate")->string == "invalid");
    const auto& attempts = doc.find("attempts")->items;
    REQUIRE(attempts.size() == 2);
    CHECK(attempts[0].find("local")->string == "[2001:db8::99]:40000");
    CHECK(attempts[1].find("local")->string == "192.0.2.99:50000");
    // An unknown local endpoint is null; no fallback is false.
    auto report = fates_report();
    report.attempts[0].local.reset();
    report.non_preferred_family_won = false;
    std::ostringstream other;
    write_json(other, "h", "443", report, 0);
    const auto again = checked_documents(other.str());
    REQUIRE(again.size() == 1);
    CHECK(again[0].find("attempts")->items[0].find("local")->type == json_value::kind::null);
    CHECK_FALSE(again[0].find("non_preferred_family_won")->boolean);
    // The schema rejects a fate it does not know.
    std::string bad = os.str();
    bad.replace(bad.find("\"never_tried\""), 13, "\"forgotten\"");
    std::ifstream file(HAPPY_DIAL_CLI_SCHEMA);
    const std::string schema_text((std::istreambuf_iterator<char>(file)),
                                  std::istreambuf_iterator<char>());
    const auto schema = json_reader(schema_text).all().at(0);
    std::vector<std::string> errors;
    check_schema(json_reader(bad).all().at(0), schema, schema, "document", errors);
    CHECK_FALSE(errors.empty());
}

TEST_CASE("cli binary: --json and --trace show duplicate and untried addresses and local ones",
          "[cli][binary]") {
    accepting_listener ok(loopback_v4);
    refusing_port refused(loopback_v4);
    const std::string good = "127.0.0.1:" + std::to_string(ok.endpoint().port());
    const std::string bad = "127.0.0.1:" + std::to_string(refused.endpoint().port());
    auto r = run("--json --no-history --addresses " + good + "," + good + "," + bad);
    CHECK(r.status == connected);
    const auto docs = checked_documents(r.out);
    REQUIRE(docs.size() == 1);
    CHECK_FALSE(docs[0].find("non_preferred_family_won")->boolean);
    const auto& answers = docs[0].find("answers")->items;
    REQUIRE(answers.size() == 1);
    const auto& endpoints = answers[0].find("endpoints")->items;
    REQUIRE(endpoints.size() == 3);
    CHECK(endpoints[0].find("endpoint")->string == good);
    CHECK(endpoints[0].find("fate")->string == "attempted");
    CHECK(endpoints[0].find("attempt")->number == 0);
    CHECK(endpoints[1].find("fate")->string == "duplicate");
    CHECK(endpoints[2].find("endpoint")->string == bad);
    CHECK(endpoints[2].find("fate")->string == "never_tried");
    const auto& attempts = docs[0].find("attempts")->items;
    REQUIRE(attempts.size() == 1);
    // The source address: loopback, an ephemeral port.
    CHECK(attempts[0].find("local")->string.rfind("127.0.0.1:", 0) == 0);
    CHECK(attempts[0].find("local")->string != good);
    auto trace = run("--trace --no-history --addresses " + good + "," + good + "," + bad);
    CHECK(trace.out.find("\naddresses:\n  endpoints  " + good + "  attempt 1 from 127.0.0.1:") !=
          std::string::npos);
    CHECK(trace.out.find("  " + good + "  duplicate\n") != std::string::npos);
    CHECK(trace.out.find("  " + bad + "  never tried\n") != std::string::npos);
    CHECK(trace.out.find("fallback:") == std::string::npos);
}

TEST_CASE("cli binary: a refused IPv6 address and an IPv4 winner show the fallback",
          "[cli][binary]") {
    if (!has_ipv6_loopback()) {
        WARN("no ::1 on this machine: skipped");
        return;
    }
    refusing_port refused(loopback_v6);
    accepting_listener ok(loopback_v4);
    const std::string v6 = "[::1]:" + std::to_string(refused.endpoint().port());
    const std::string v4 = "127.0.0.1:" + std::to_string(ok.endpoint().port());
    auto r = run("--trace --addresses " + v4 + "," + v6);
    CHECK(r.status == connected);
    // IPv6 first (RFC 8305 §4 interleaving), from ::1; then IPv4.
    const std::string pad(v4.size() - v6.size(), ' ');  // the address column is aligned
    CHECK(r.out.find("  endpoints  " + v6 + pad + "  attempt 1 from [::1]:") != std::string::npos);
    CHECK(r.out.find("\n             " + v4 + "  attempt 2 from 127.0.0.1:") != std::string::npos);
    CHECK(r.out.find("\nfallback: IPv4 won, IPv6 was preferred\nconnected to " + v4) !=
          std::string::npos);
    auto j = run("--json --addresses " + v6 + "," + v4);
    const auto docs = checked_documents(j.out);
    REQUIRE(docs.size() == 1);
    CHECK(docs[0].find("non_preferred_family_won")->boolean);
    const auto& attempts = docs[0].find("attempts")->items;
    REQUIRE(attempts.size() == 2);
    CHECK(attempts[0].find("local")->string.rfind("[::1]:", 0) == 0);
    CHECK(attempts[1].find("local")->string.rfind("127.0.0.1:", 0) == 0);
    // Preferring IPv4, the same race is no fallback.
    auto p = run("--json --prefer ipv4 --no-history --addresses " + v6 + "," + v4);
    const auto preferred = checked_documents(p.out);
    REQUIRE(preferred.size() == 1);
    CHECK_FALSE(preferred[0].find("non_preferred_family_won")->boolean);
}

namespace {

// A happy_dial::testing::proxy_server on 127.0.0.1 with an io_context thread of its own: the
// binary under test talks to it while the test thread waits for the binary.
class proxy_thread {
  public:
    explicit proxy_thread(happy_dial::testing::proxy_server_options options = {})
        : server_(std::make_unique<happy_dial::testing::proxy_server>(
              ctx_.get_executor(), tcp::endpoint(loopback_v4, 0), std::move(options))),
          endpoint_(server_->endpoint()),
          thread_([this] { ctx_.run(); }) {}
    // The server is destroyed while its io_context does not run, as proxy_server allows.
    ~proxy_thread() {
        work_.reset();
        ctx_.stop();
        thread_.join();
        server_.reset();
    }
    proxy_thread(const proxy_thread&) = delete;
    proxy_thread& operator=(const proxy_thread&) = delete;

    std::string port() const { return std::to_string(endpoint_.port()); }
    happy_dial::testing::proxy_server& server() {
        return *server_;
    }  // counters only, from this thread

  private:
    asio::io_context ctx_;
    asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(ctx_);
    std::unique_ptr<happy_dial::testing::proxy_server> server_;
    tcp::endpoint endpoint_;  // read before the thread starts
    std::thread thread_;
};

// The stages of the one attempt of a dial document, with its tcp_connected_ms checked present.
const json_value& only_attempt(const json_value& doc) {
    const auto& attempts = doc.find("attempts")->items;
    REQUIRE(attempts.size() == 1);
    REQUIRE(attempts[0].find("stages"));
    REQUIRE(attempts[0].find("tcp_connected_ms"));
    return attempts[0];
}

}  // namespace

TEST_CASE("cli: --proxy and --socks5 parse proxy URLs and --tls takes --sni and --insecure",
          "[cli][proxy]") {
    auto socks = parse({"--socks5", "127.0.0.1:1080", "example.test", "443"});
    REQUIRE(socks);
    REQUIRE(socks->options.proxy);
    CHECK(socks->options.proxy->protocol == proxy_protocol::socks5);
    CHECK(socks->options.proxy->remote_dns);
    CHECK(socks->options.proxy->host == "127.0.0.1");
    CHECK(socks->options.proxy->port == "1080");
    CHECK(proxy_text(*socks) == "socks5h://127.0.0.1:1080");
    auto http = parse({"--proxy", "http://user:p%40ss@[::1]:3128", "example.test", "443"});
    REQUIRE(http);
    REQUIRE(http->options.proxy);
    CHECK(http->options.proxy->protocol == proxy_protocol::http_connect);
    CHECK(http->options.proxy->username == "user");
    CHECK(http->options.proxy->password == "p@ss");
    CHECK(proxy_text(*http) == "http://[::1]:3128");  // no credentials in messages
    auto local = parse({"--proxy", "socks5://proxy.test:1080", "example.test", "443"});
    REQUIRE(local);
    CHECK_FALSE(local->options.proxy->remote_dns);
    CHECK_FALSE(parse({"h", "1"})->options.proxy);

    auto tls = parse({"--tls", "example.test", "443"});
    REQUIRE(tls);
    CHECK(tls->tls);
    CHECK_FALSE(tls->insecure);
    CHECK(tls_server_name(*tls) == "example.test");
    auto sni = parse({"--tls", "--sni", "other.test", "--insecure", "example.test", "443"});
    REQUIRE(sni);
    CHECK(sni->insecure);
    CHECK(tls_server_name(*sni) == "other.test");
    // With --addresses, HOST (a label) or --sni names the peer.
    auto listed = parse({"--tls", "--addresses", "127.0.0.1", "db.test", "5432"});
    REQUIRE(listed);
    CHECK(tls_server_name(*listed) == "db.test");
    CHECK(parse({"--tls", "--sni", "db.test", "--addresses", "127.0.0.1:5432"}));
    CHECK(parse({"--tls", "--insecure", "--addresses", "127.0.0.1:5432"}));
}

TEST_CASE("cli: bad --proxy --socks5 --sni and --insecure uses are usage errors", "[cli][proxy]") {
    std::string error;
    const std::pair<std::vector<std::string>, std::string> cases[] = {
        {{"--proxy", "ftp://x:1", "h", "1"},
         "--proxy: 'ftp://x:1' is not a proxy URL (give socks5://, socks5h:// or http://, "
         "optionally USER:PASSWORD@, then HOST:PORT, e.g. socks5h://127.0.0.1:1080)"},
        {{"--proxy", "socks5h://127.0.0.1", "h", "1"},
         "--proxy: 'socks5h://127.0.0.1' is not a proxy URL (give socks5://, socks5h:// or "
         "http://, optionally USER:PASSWORD@, then HOST:PORT, e.g. socks5h://127.0.0.1:1080)"},
        {{"--socks5", "127.0.0.1", "h", "1"},
         "--socks5 takes HOST:PORT (an IPv6 address as [ADDR]:PORT), not '127.0.0.1'"},
        {{"--socks5", "::1:1080", "h", "1"},
         "--socks5 takes HOST:PORT (an IPv6 address as [ADDR]:PORT), not '::1:1080'"},
        {{"--proxy", "http://127.0.0.1:3128", "--socks5", "127.0.0.1:1080", "h", "1"},
         "--proxy and --socks5 are exclusive: pick one"},
        {{"--proxy", "http://127.0.0.1:3128", "--addresses", "127.0.0.1:80"},
         "--proxy and --addresses are exclusive: the proxy needs HOST and PORT to ask for"},
        {{"--socks5", "127.0.0.1:1080", "--addresses", "127.0.0.1", "h", "80"},
         "--socks5 and --addresses are exclusive: the proxy needs HOST and PORT to ask for"},
        {{"--sni", "x", "h", "1"}, "--sni applies to TLS only: add --tls"},
        {{"--insecure", "h", "1"}, "--insecure applies to TLS only: add --tls"},
        {{"--tls", "--sni", "", "h", "1"}, "--sni takes a name, not ''"},
        {{"--tls", "--addresses", "127.0.0.1:443"},
         "--tls with --addresses needs HOST or --sni: the name to verify the certificate "
         "against (or --insecure)"},
        {{"--proxy"}, "--proxy needs a value"},
    };
    for (const auto& [args, message] : cases) {
        CHECK_FALSE(parse_command_line(args, error));
        CHECK(error == message);
    }
    // A proxy the library itself rejects is a usage error too.
    CHECK(exit_code_for(happy_dial::error::invalid_proxy, 0) == usage_error);
}

TEST_CASE("cli: stages show in the timeline and in json", "[cli][proxy]") {
    namespace ae = boost::asio::error;
    dial_report report;
    const tcp::endpoint proxy(boost::asio::ip::make_address("192.0.2.1"), 1080);
    report.attempts.push_back({proxy, 0ms, 12ms, attempt_outcome::failed, {}});
    report.attempts.push_back({proxy, 12ms, 30ms, attempt_outcome::won, {}});
    report.attempts.push_back({proxy, 13ms, 30ms, attempt_outcome::cancelled, {}});
    auto& failed = report.attempts[0];
    failed.error = make_http_proxy_error(403);
    failed.tcp_connected = 2ms;
    failed.stages = {{"http_connect", 12ms, make_http_proxy_error(403)}};
    report.attempts[1].tcp_connected = 14ms;
    report.attempts[1].stages = {{"socks5", 20ms, {}}, {"tls", 30ms, {}}};
    report.attempts[2].tcp_connected = 15ms;
    report.attempts[2].stages = {{"tls", 30ms, ae::operation_aborted}};
    report.winner = 1;
    report.elapsed = 30ms;

    CHECK(describe_stage(report.attempts[1].stages[0]) == "socks5 done");
    CHECK(describe_stage(failed.stages[0]) ==
          "http_connect failed: HTTP proxy answered 403 "
          "Forbidden");
    CHECK(describe_stage(report.attempts[2].stages[0]) == "tls cancelled");
    CHECK(failed_stage(failed) == &failed.stages[0]);
    CHECK(failed_stage(report.attempts[1]) == nullptr);
    CHECK(failed_stage(report.attempts[2]) == nullptr);  // cancelled, not failed

    const auto rows = rows_for(report);
    REQUIRE(rows.size() == 10);  // 3 attempts, 3 TCP connects, 4 stages
    CHECK(rows[1].label == "  tcp");
    CHECK(rows[1].outcome == "tcp connected");
    CHECK(rows[1].point);
    CHECK(rows[2].label == "  http_connect");
    CHECK(rows[2].start_ms == 12.0);
    CHECK(rows[5].outcome == "socks5 done");
    CHECK(rows[6].outcome == "tls done");
    std::ostringstream timeline;
    draw_timeline(timeline, rows, 30.0);
    CHECK(timeline.str().find("  tls  ") != std::string::npos);
    CHECK(timeline.str().find("tls done  (30.0 ms)") != std::string::npos);

    std::ostringstream json;
    write_json(json, "h", "443", report, 0);
    CHECK(json.str().find("\"tcp_connected_ms\": 2.000, \"stages\": [{\"name\": "
                          "\"http_connect\", \"finished_ms\": 12.000, \"error\": "
                          "{\"category\": \"happy_dial.http_proxy\", \"value\": 403, "
                          "\"message\": \"HTTP proxy answered 403 Forbidden\"}}], "
                          "\"delay_ms\": ") != std::string::npos);
    const auto docs = checked_documents(json.str());
    REQUIRE(docs.size() == 1);
    const auto& won = docs[0].find("attempts")->items.at(1);
    CHECK(won.find("tcp_connected_ms")->number == 14.0);
    REQUIRE(won.find("stages")->items.size() == 2);
    CHECK(won.find("stages")->items[1].find("name")->string == "tls");
    CHECK(won.find("stages")->items[1].find("error")->type == json_value::kind::null);
    // Without stages: null and an empty array.
    dial_report plain;
    plain.attempts.push_back({proxy, 0ms, 1ms, attempt_outcome::won, {}});
    std::ostringstream direct;
    write_json(direct, "h", "443", plain, 0);
    CHECK(direct.str().find("\"tcp_connected_ms\": null, \"stages\": [], \"delay_ms\": ") !=
          std::string::npos);
    CHECK(checked_documents(direct.str()).size() == 1);
}

TEST_CASE("cli binary: --socks5 dials through a loopback SOCKS5 proxy", "[cli][binary][proxy]") {
    accepting_listener origin(loopback_v4);
    proxy_thread proxy;
    const std::string origin_port = std::to_string(origin.endpoint().port());
    auto r =
        run("--json --no-history --socks5 127.0.0.1:" + proxy.port() + " 127.0.0.1 " + origin_port);
    CHECK(r.status == connected);
    const auto docs = checked_documents(r.out);
    REQUIRE(docs.size() == 1);
    CHECK(docs[0].find("connected")->boolean);
    const auto& attempt = only_attempt(docs[0]);
    CHECK(attempt.find("endpoint")->string == "127.0.0.1:" + proxy.port());  // the proxy's
    CHECK(attempt.find("tcp_connected_ms")->type == json_value::kind::number);
    const auto& stages = attempt.find("stages")->items;
    REQUIRE(stages.size() == 1);
    CHECK(stages[0].find("name")->string == "socks5");
    CHECK(stages[0].find("error")->type == json_value::kind::null);
    CHECK(proxy.server().connects() == 1);
    CHECK(proxy.server().last_target() == "127.0.0.1:" + origin_port);

    auto trace = run("--trace --no-history --socks5 127.0.0.1:" + proxy.port() + " 127.0.0.1 " +
                     origin_port);
    CHECK(trace.status == connected);
    CHECK(trace.out.find("proxy: socks5h://127.0.0.1:" + proxy.port()) != std::string::npos);
    CHECK(trace.out.find("\n  tcp ") != std::string::npos);
    CHECK(trace.out.find("\n  socks5 ") != std::string::npos);
    CHECK(trace.out.find("socks5 done  (") != std::string::npos);
    CHECK(trace.out.find("connected to 127.0.0.1 port " + origin_port +
                         " through the proxy at 127.0.0.1:" + proxy.port() + " (IPv4) in ") !=
          std::string::npos);
}

TEST_CASE("cli binary: an HTTP proxy that refuses with 403 fails the dial in its stage",
          "[cli][binary][proxy]") {
    accepting_listener origin(loopback_v4);
    happy_dial::testing::proxy_server_options options;
    options.protocol = proxy_protocol::http_connect;
    options.behaviour = happy_dial::testing::proxy_behaviour::refuse;
    options.refuse_code = 403;
    proxy_thread proxy(options);
    const std::string args = "--no-history --proxy http://127.0.0.1:" + proxy.port() +
                             " 127.0.0.1 " + std::to_string(origin.endpoint().port());
    auto r = run("--json " + args);
    CHECK(r.status != connected);
    CHECK(r.status == attempts_failed);
    const auto docs = checked_documents(r.out);
    REQUIRE(docs.size() == 1);
    CHECK_FALSE(docs[0].find("connected")->boolean);
    const auto& attempt = only_attempt(docs[0]);
    const auto& stages = attempt.find("stages")->items;
    REQUIRE(stages.size() == 1);
    CHECK(stages[0].find("name")->string == "http_connect");
    const auto* stage_error = stages[0].find("error");
    REQUIRE(stage_error->type == json_value::kind::object);
    CHECK(stage_error->find("category")->string == "happy_dial.http_proxy");
    CHECK(stage_error->find("value")->number == 403);
    CHECK(attempt.find("error")->find("value")->number == 403);
    CHECK(proxy.server().connects() == 1);
    // In words: the timeline row and the explanation on stderr name the stage.
    auto text = run("--trace " + args + " 2>&1");
    CHECK(text.status == attempts_failed);
    CHECK(text.out.find("http_connect failed: HTTP proxy answered 403 Forbidden  (") !=
          std::string::npos);
    CHECK(text.out.find("happy-dial: cannot connect to 127.0.0.1 port " +
                        std::to_string(origin.endpoint().port()) + " via http://127.0.0.1:" +
                        proxy.port() + ": every attempt failed") != std::string::npos);
    CHECK(text.out.find("  127.0.0.1:" + proxy.port() +
                        ": http_connect failed: HTTP proxy answered 403 Forbidden\n") !=
          std::string::npos);
}

TEST_CASE("cli binary: bad --proxy and --sni without --tls are usage errors",
          "[cli][binary][proxy]") {
    const std::pair<std::string, std::string> cases[] = {
        {"--proxy ftp://x:1 127.0.0.1 1", "--proxy: 'ftp://x:1' is not a proxy URL"},
        {"--sni x 127.0.0.1 1", "--sni applies to TLS only: add --tls"},
        {"--insecure 127.0.0.1 1", "--insecure applies to TLS only: add --tls"},
        {"--socks5 127.0.0.1:1080 --addresses 127.0.0.1:1",
         "--socks5 and --addresses are exclusive"},
        {"--socks5 127.0.0.1:1080 --proxy http://127.0.0.1:1 127.0.0.1 1",
         "--proxy and --socks5 are exclusive"},
    };
    for (const auto& [args, message] : cases) {
        auto r = run(args + " 2>&1");
        CHECK(r.status == usage_error);
        CHECK(r.out.find("happy-dial: " + message) == 0);
        CHECK(r.out.find("(try happy-dial --help)") != std::string::npos);
    }
    auto help = run("--help");
    for (const char* flag : {"--tls", "--sni NAME", "--insecure", "--proxy URL", "--socks5"}) {
        CHECK(help.out.find(flag) != std::string::npos);
    }
}

TEST_CASE("cli binary: --tls against a listener that never speaks TLS times out in its stage",
          "[cli][binary][tls]") {
    accepting_listener silent(loopback_v4);  // the kernel accepts TCP; nobody answers
    const auto start = std::chrono::steady_clock::now();
    auto r = run("--json --no-history --tls --insecure --timeout 300 127.0.0.1 " +
                 std::to_string(silent.endpoint().port()));
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK(took < 2s);
    CHECK(r.status == timed_out);
    const auto docs = checked_documents(r.out);
    REQUIRE(docs.size() == 1);
    CHECK(docs[0].find("error")->find("message")->string == "dial timed out");
    // TCP connected, then the TLS handshake ran until the deadline closed it.
    const auto& attempt = only_attempt(docs[0]);
    CHECK(attempt.find("tcp_connected_ms")->type == json_value::kind::number);
    const auto& stages = attempt.find("stages")->items;
    REQUIRE(stages.size() == 1);
    CHECK(stages[0].find("name")->string == "tls");
    CHECK(stages[0].find("error")->type == json_value::kind::object);
    CHECK(stages[0].find("finished_ms")->number >= attempt.find("tcp_connected_ms")->number);
}
