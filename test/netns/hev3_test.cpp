// Happy Eyeballs v3 on a real kernel (issue 16): NAT64 on an IPv6-only namespace, and HTTPS
// records (at the end). The bench's
// namespace has no route to 192.0.2.0/24; its DNS server answers ipv4only.arpa as a DNS64 would
// (RFC 7050 §3) and the synthesized addresses sit on lo. Timing windows as in
// scenario_test.cpp: lower bounds are physical, upper bounds add `slack`.
#include "catch.hpp"
#include "netns/scenario.hpp"

#include <happy_dial/core/nat64.hpp>
#include <happy_dial/core/svcb.hpp>

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

using namespace happy_dial;
using namespace happy_dial::netns;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

constexpr double slack = 60;  // ms above every upper bound
constexpr double cad = 250;   // Connection Attempt Delay (default)

// A network-specific /64 prefix (RFC 6052 §2.2) next to the well-known 64:ff9b::/96.
core::nat64_prefix network_prefix() {
    return {asio::ip::make_address_v6("2001:db8:1:2::"), 64};
}

std::string synthesized(const core::nat64_prefix& prefix, const char* v4) {
    return core::synthesize(prefix, asio::ip::make_address_v4(v4)).to_string();
}

// The namespace's DNS64 answers ipv4only.arpa with the /64 prefix first, then 64:ff9b::/96;
// 192.0.2.10 under the /64 is black-holed, under 64:ff9b::/96 it is served.
void ipv6_only_network_with_nat64() {
    auto& b = bench::get();
    b.configure(
        {black_holed(synthesized(network_prefix(), "192.0.2.10")), healthy("64:ff9b::c000:20a")});
    b.dns().set("ipv4only.arpa",
                {{asio::ip::make_address(synthesized(network_prefix(), "192.0.0.170")),
                  asio::ip::make_address("64:ff9b::c000:aa")},
                 0ms,
                 false,
                 600},
                {});
}

}  // namespace

TEST_CASE("nat64: an IPv4 literal on an IPv6-only network connects through the NAT64 prefixes",
          "[netns][nat64]") {
    ipv6_only_network_with_nat64();
    // c-ares keeps the DNS answer's order, getaddrinfo sorts it: both are tried.
    const auto backend = GENERATE(resolver_backend::c_ares, resolver_backend::system);
    if (backend == resolver_backend::c_ares && !c_ares_available()) {
        return;
    }
    dial_options options;
    options.resolver = backend;
    const auto r = dial_on_bench("192.0.2.10", options, 5000ms);
    INFO("resolver " << to_string(backend));
    REQUIRE_WINNER(r, "64:ff9b::c000:20a");
    CHECK(r.dns_queries_of(28) == 1);  // the AAAA query for ipv4only.arpa
    // Both prefixes, in the order the resolver gave the answer (getaddrinfo sorts it by RFC
    // 6724): one attempt per prefix, the black-holed /64 address losing after one Connection
    // Attempt Delay when it goes first.
    REQUIRE(r.report.nat64_prefixes.size() == 2);
    const auto& prefixes = r.report.nat64_prefixes;
    CHECK(std::count(prefixes.begin(), prefixes.end(), network_prefix()) == 1);
    CHECK(std::count(prefixes.begin(), prefixes.end(), core::well_known_nat64_prefix()) == 1);
    const bool black_hole_first = prefixes[0] == network_prefix();
    REQUIRE(r.report.attempts.size() == (black_hole_first ? 2u : 1u));
    if (black_hole_first) {
        CHECK_WINDOW(r.elapsed_ms(), cad, cad + slack);
        CHECK(r.report.attempts[0].endpoint.address().to_string() ==
              synthesized(network_prefix(), "192.0.2.10"));
        CHECK(r.report.attempts[0].outcome == attempt_outcome::cancelled);
    } else {
        CHECK_WINDOW(r.elapsed_ms(), 0, slack);
    }
    const auto& winner = r.report.attempts.back();
    CHECK(winner.outcome == attempt_outcome::won);
    REQUIRE(winner.nat64_from);
    CHECK(winner.nat64_from->to_string() == "192.0.2.10");
    REQUIRE(r.report.answers.size() == 1);
    for (const auto& e : r.report.answers[0].endpoints) {
        CHECK(e.nat64_from == asio::ip::make_address_v4("192.0.2.10"));
    }
}

TEST_CASE("nat64: with nat64 off an IPv4 literal on an IPv6-only network fails at once",
          "[netns][nat64]") {
    ipv6_only_network_with_nat64();
    dial_options options;
    options.nat64 = nat64_mode::off;
    const auto r = dial_on_bench("192.0.2.10", options, 5000ms);
    INFO(r.describe());
    REQUIRE(r.completed);
    CHECK(r.error == asio::error::network_unreachable);
    CHECK(r.elapsed_ms() < 10);
    CHECK(r.dns_queries_of(28) == 0);
    CHECK(r.report.nat64_prefixes.empty());
}

TEST_CASE("nat64: an A-only name on an IPv6-only network connects through the NAT64",
          "[netns][nat64]") {
    ipv6_only_network_with_nat64();
    bench::get().dns().set("v4only.hd.test", {}, {{asio::ip::make_address("192.0.2.10")}});
    const auto r = dial_on_bench("v4only.hd.test", {}, 5000ms);
    REQUIRE_WINNER(r, "64:ff9b::c000:20a");
    CHECK(r.report.nat64_prefixes.size() == 2);
    CHECK(r.report.attempts.back().nat64_from == asio::ip::make_address_v4("192.0.2.10"));
}

// HTTPS records (RFC 9460) in the dial: the suite's DNS server answers type 65 with records
// made by core::encode_service_record. The IPv6 test addresses are healthy on lo, so an
// endpoint the dial should skip would win if it were tried.
namespace {

constexpr double rd = 50;  // Resolution Delay (default)

std::vector<std::uint8_t> service(std::uint16_t priority,
                                  std::string target,
                                  std::vector<std::string> v6_hints,
                                  std::vector<std::string> alpn = {},
                                  bool no_default_alpn = false,
                                  std::optional<std::uint16_t> port = std::nullopt) {
    core::service_record r;
    r.priority = priority;
    r.target = std::move(target);
    if (priority != 0) {
        r.alpn = std::move(alpn);
        r.no_default_alpn = no_default_alpn;
        r.port = port;
        for (const auto& h : v6_hints) {
            r.ipv6hint.push_back(asio::ip::make_address_v6(h));
        }
    }
    return core::encode_service_record(r);
}

// Scripts the HTTPS records of `host` for `port` (RFC 9460 §9.1: "_PORT._https.host" unless
// the port is 443).
void https_records(const std::string& host,
                   std::vector<std::vector<std::uint8_t>> records,
                   std::uint16_t port = bench::port) {
    dns_answer_script script;
    script.rdata = std::move(records);
    bench::get().dns().set_type(core::https_query_name(host, port), dns_server::type_https, script);
}

dial_options with_https_records() {
    dial_options options;
    options.https_records = https_records_mode::opportunistic;
    options.https_shuffle_seed = 1;
    return options;
}

void https_bench() {
    bench::get().configure({healthy("2001:db8::11"),
                            healthy("2001:db8::21"),
                            healthy("2001:db8::22"),
                            healthy("127.0.0.11")});
}

}  // namespace

TEST_CASE("https records: an ipv6hint is dialled while the AAAA answer is 300 ms late",
          "[netns][https]") {
    https_bench();
    bench::get().dns().set("hint.hd.test",
                           {{asio::ip::make_address("2001:db8::11")}, 300ms},
                           {{asio::ip::make_address("127.0.0.11")}});
    https_records("hint.hd.test", {service(1, "", {"2001:db8::11"}, {"h2"})});
    const auto r = dial_on_bench("hint.hd.test", with_https_records(), 5000ms);
    REQUIRE_WINNER(r, "2001:db8::11");
    CHECK_WINDOW(r.first_syn_ms("2001:db8::11"), 0, rd);  // the hint, not the AAAA answer
    CHECK(r.syns_to("127.0.0.11") == 0);
    REQUIRE(r.report.service_records.size() == 1);
    REQUIRE_FALSE(r.report.attempts.empty());
    CHECK(r.report.attempts[0].from_hint);
}

TEST_CASE("https records: a service whose ALPN set is h3 only is skipped by a TCP dial",
          "[netns][https]") {
    https_bench();
    bench::get().dns().set("h3.hd.test", {{asio::ip::make_address("2001:db8::11")}}, {});
    https_records("h3.hd.test", {service(1, "h3.svc.hd.test", {"2001:db8::21"}, {"h3"}, true)});
    const auto r = dial_on_bench("h3.hd.test", with_https_records(), 5000ms);
    REQUIRE_WINNER(r, "2001:db8::11");
    CHECK(r.syns_to("2001:db8::21") == 0);
    CHECK(r.report.service_records.size() == 1);
}

TEST_CASE("https records: the priority 1 service is attempted before the priority 2 one",
          "[netns][https]") {
    https_bench();
    bench::get().dns().set("prio.hd.test", {}, {});  // NODATA: only the services' hints
    // Listed in the answer priority 2 first.
    https_records(
        "prio.hd.test",
        {service(2, "two.hd.test", {"2001:db8::22"}), service(1, "one.hd.test", {"2001:db8::21"})});
    const auto r = dial_on_bench("prio.hd.test", with_https_records(), 5000ms);
    REQUIRE_WINNER(r, "2001:db8::21");
    CHECK(r.syns_to("2001:db8::22") == 0);
    CHECK(r.report.attempts.size() == 1);
}

TEST_CASE("https records: port= is honoured for a non-443 origin", "[netns][https]") {
    https_bench();
    bench::get().dns().set("port.hd.test", {{asio::ip::make_address("2001:db8::11")}}, {});
    // RFC 9460 §9.1: the records of port 8443 live at _8443._https.<host>.
    https_records("port.hd.test", {service(1, "", {}, {"h2"}, false, bench::port)}, 8443);
    const auto r = dial_on_bench("port.hd.test", with_https_records(), 5000ms, "8443");
    REQUIRE_WINNER(r, "2001:db8::11");
    CHECK(r.connected->port() == bench::port);
    CHECK(r.report.service_records.size() == 1);
}

TEST_CASE("https records: an AliasMode chain is followed to its service", "[netns][https]") {
    https_bench();
    bench::get().dns().set("alias.hd.test", {}, {});
    https_records("alias.hd.test", {service(0, "hop.hd.test", {})});
    https_records("hop.hd.test", {service(0, "svc.hd.test", {})}, 443);
    https_records("svc.hd.test", {service(1, "", {"2001:db8::21"})}, 443);
    const auto r = dial_on_bench("alias.hd.test", with_https_records(), 5000ms);
    REQUIRE_WINNER(r, "2001:db8::21");
    CHECK(r.dns_queries_of(dns_server::type_https) == 3);
    CHECK(r.report.service_records.size() == 3);
}

TEST_CASE("https records: an HTTPS query never answered costs one Resolution Delay",
          "[netns][https]") {
    https_bench();
    bench::get().dns().set("lost.hd.test", {{asio::ip::make_address("2001:db8::11")}}, {});
    dns_answer_script lost;
    lost.lost = true;
    bench::get().dns().set_type(
        core::https_query_name("lost.hd.test", bench::port), dns_server::type_https, lost);
    const auto r = dial_on_bench("lost.hd.test", with_https_records(), 5000ms);
    REQUIRE_WINNER(r, "2001:db8::11");
    CHECK_WINDOW(r.first_syn_ms("2001:db8::11"), rd, rd + slack);
    CHECK(r.report.service_records.empty());
}

TEST_CASE("https records: hints the AAAA answer does not hold are withdrawn", "[netns][https]") {
    auto& b = bench::get();
    b.configure({black_holed("2001:db8::21"), healthy("2001:db8::22"), healthy("2001:db8::11")});
    b.dns().set("withdraw.hd.test", {{asio::ip::make_address("2001:db8::11")}, 100ms}, {});
    https_records("withdraw.hd.test", {service(1, "", {"2001:db8::21", "2001:db8::22"})});
    const auto r = dial_on_bench("withdraw.hd.test", with_https_records(), 5000ms);
    // ::21 (a hint) is tried at once and black-holed; when its turn comes ::22 is gone, as
    // the AAAA answer (::11) did not hold it.
    REQUIRE_WINNER(r, "2001:db8::11");
    CHECK(r.syns_to("2001:db8::22") == 0);
    CHECK_WINDOW(r.first_syn_ms("2001:db8::11"), cad, cad + slack);
    bool withdrawn = false;
    for (const auto& answer : r.report.answers) {
        for (const auto& e : answer.endpoints) {
            if (e.endpoint.address().to_string() == "2001:db8::22") {
                withdrawn = e.fate == endpoint_fate::withdrawn && e.from_hint;
            }
        }
    }
    CHECK(withdrawn);
}

namespace {

// A stage that lets every attempt win at once and keeps what prepare() told it.
class service_recorder final : public handshake_stage {
  public:
    struct seen {
        std::uint16_t priority = 0;
        std::string target;
        std::vector<std::string> alpns;
        std::vector<std::uint8_t> ech;
    };
    std::vector<seen> prepared;

    void prepare(core::attempt_id, const attempt_service& service) override {
        prepared.push_back({service.priority,
                            std::string(service.target),
                            {service.alpns.begin(), service.alpns.end()},
                            {service.ech_config_list.begin(), service.ech_config_list.end()}});
    }
    void start(core::attempt_id,
               asio::ip::tcp::socket& socket,
               const asio::ip::tcp::endpoint&,
               stage_completion done) override {
        asio::post(socket.get_executor(), [done = std::move(done)]() mutable { done({}); });
    }
};

}  // namespace

TEST_CASE("https records: the stage is told the service's ALPN ids and its ech bytes",
          "[netns][https]") {
    https_bench();
    bench::get().dns().set("ech.hd.test", {{asio::ip::make_address("2001:db8::11")}}, {});
    core::service_record r;
    r.priority = 1;
    r.alpn = {"h3", "h2"};  // + http/1.1 by default; h3 is not for a TCP caller
    r.ech = {0x00, 0x05, 0xfe, 0x0d, 0x00, 0x01, 0x02};
    https_records("ech.hd.test", {core::encode_service_record(r)});
    auto options = with_https_records();
    auto recorder = std::make_shared<service_recorder>();
    options.handshake = recorder;
    const auto result = dial_on_bench("ech.hd.test", options, 5000ms);
    REQUIRE_WINNER(result, "2001:db8::11");
    REQUIRE(recorder->prepared.size() == 1);
    const auto& seen = recorder->prepared[0];
    CHECK(seen.priority == 1);
    CHECK(seen.target.empty());  // the origin's own service
    CHECK(seen.alpns == std::vector<std::string>{"h2", "http/1.1"});
    CHECK(seen.ech == r.ech);
}

TEST_CASE("https records: a service for another name is reached at that name's addresses",
          "[netns][https]") {
    auto& b = bench::get();
    b.configure({black_holed("2001:db8::22"), healthy("2001:db8::21")});
    b.dns().set("far.hd.test", {}, {});  // the origin: NODATA
    b.dns().set("svc.far.hd.test", {{asio::ip::make_address("2001:db8::21")}, 100ms}, {});
    // Its hint (::22, black-holed) stands in until the target's AAAA answer replaces it.
    https_records("far.hd.test", {service(1, "svc.far.hd.test", {"2001:db8::22"})});
    const auto r = dial_on_bench("far.hd.test", with_https_records(), 5000ms);
    REQUIRE_WINNER(r, "2001:db8::21");
    CHECK(r.syns_to("2001:db8::22") >= 1);  // the hint, tried at once
    CHECK_WINDOW(r.first_syn_ms("2001:db8::21"), 100, cad + slack);
    CHECK(r.dns_queries_of(dns_server::type_aaaa) >= 2);  // the origin's and the target's
}
