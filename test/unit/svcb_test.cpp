// SVCB and HTTPS RDATA (RFC 9460) and DNS messages (RFC 1035 §4.1), parsed without I/O, and
// the endpoints a dial makes of HTTPS records (core::https_plan, at the end).
#include "catch.hpp"

#include <happy_dial/core/dns_message.hpp>
#include <happy_dial/core/https_plan.hpp>
#include <happy_dial/core/svcb.hpp>

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

using namespace happy_dial;
using core::dns_parse_error;

namespace {

using bytes = std::vector<std::uint8_t>;

bytes join(std::initializer_list<bytes> parts) {
    bytes out;
    for (const auto& p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

bytes text(std::string_view s) {
    return bytes(s.begin(), s.end());
}

const bytes foo_example_com = {
    3, 'f', 'o', 'o', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0};
const bytes foo_example_org = {
    3, 'f', 'o', 'o', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0};
const bytes example_com = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0};

// SvcPriority 1, TargetName foo.example.com., then `params`.
bytes service_mode(std::initializer_list<bytes> params) {
    auto out = join({{0x00, 0x01}, foo_example_com});
    for (const auto& p : params) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

// One SvcParam: key, length, value.
bytes param(std::uint16_t key, const bytes& value) {
    return join({{static_cast<std::uint8_t>(key >> 8),
                  static_cast<std::uint8_t>(key & 0xFF),
                  static_cast<std::uint8_t>(value.size() >> 8),
                  static_cast<std::uint8_t>(value.size() & 0xFF)},
                 value});
}

core::service_record parsed(const bytes& rdata) {
    core::service_record r;
    const auto ec = core::parse_service_record(rdata, r);
    INFO(ec.message());
    REQUIRE(!ec);
    return r;
}

boost::system::error_code parse_error(const bytes& rdata) {
    core::service_record r;
    r.priority = 7;
    const auto ec = core::parse_service_record(rdata, r);
    CHECK(r.priority == 7);  // left unchanged on error
    return ec;
}

boost::asio::ip::address_v4 v4(const char* s) {
    return boost::asio::ip::make_address_v4(s);
}

boost::asio::ip::address_v6 v6(const char* s) {
    return boost::asio::ip::make_address_v6(s);
}

// RFC 9460 Appendix D. The RDATA bytes are those the appendix gives (checked against NLnet
// Labs simdzone tests/types.c, which carries D.1 and D.2, and an independent hex table of the
// same vectors); the presentation form is quoted from the RFC's figures.
struct vector_case {
    const char* figure;
    bytes rdata;
};

// D.1 Figure 2: example.com.   HTTPS   0 foo.example.com.
const vector_case d1_alias = {"D.1 Figure 2", join({{0x00, 0x00}, foo_example_com})};

// D.2 Figure 3: example.com.   SVCB   1 .
const vector_case d2_f3 = {"D.2 Figure 3", {0x00, 0x01, 0x00}};

// D.2 Figure 4: example.com.   SVCB   16 foo.example.com. port=53
const vector_case d2_f4 = {
    "D.2 Figure 4", join({{0x00, 0x10}, foo_example_com, {0x00, 0x03, 0x00, 0x02, 0x00, 0x35}})};

// D.2 Figure 5: example.com.   SVCB   1 foo.example.com. key667=hello
const vector_case d2_f5 = {
    "D.2 Figure 5",
    join({{0x00, 0x01}, foo_example_com, {0x02, 0x9b, 0x00, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f}})};

// D.2 Figure 6: example.com.   SVCB   1 foo.example.com. key667="hello\210qoo"
const vector_case d2_f6 = {
    "D.2 Figure 6",
    join({{0x00, 0x01},
          foo_example_com,
          {0x02, 0x9b, 0x00, 0x09, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0xd2, 0x71, 0x6f, 0x6f}})};

// D.2 Figure 7: example.com.   SVCB   1 foo.example.com. (
//                                ipv6hint="2001:db8::1,2001:db8::53:1"
//                                )
const vector_case d2_f7 = {
    "D.2 Figure 7",
    join({{0x00, 0x01}, foo_example_com, {0x00, 0x06, 0x00, 0x20, 0x20, 0x01, 0x0d, 0xb8, 0x00,
                                          0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                          0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00,
                                          0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x53, 0x00, 0x01}})};

// D.2 Figure 8: example.com.   SVCB   1 example.com. (
//                                ipv6hint="2001:db8:122:344::192.0.2.33"
//                                )
const vector_case d2_f8 = {
    "D.2 Figure 8", join({{0x00, 0x01}, example_com, {0x00, 0x06, 0x00, 0x10, 0x20, 0x01, 0x0d,
                                                      0xb8, 0x01, 0x22, 0x03, 0x44, 0x00, 0x00,
                                                      0x00, 0x00, 0xc0, 0x00, 0x02, 0x21}})};

// D.2 Figure 9: example.com.   SVCB   16 foo.example.org. (
//                                alpn=h2,h3-19 mandatory=ipv4hint,alpn
//                                ipv4hint=192.0.2.1
//                                )
const vector_case d2_f9 = {
    "D.2 Figure 9",
    join({{0x00, 0x10},
          foo_example_org,
          {0x00, 0x00, 0x00, 0x04, 0x00, 0x01, 0x00, 0x04},
          {0x00, 0x01, 0x00, 0x09, 0x02, 0x68, 0x32, 0x05, 0x68, 0x33, 0x2d, 0x31, 0x39},
          {0x00, 0x04, 0x00, 0x04, 0xc0, 0x00, 0x02, 0x01}})};

// D.2 Figure 10 (both presentation forms have this wire form):
//   example.com.   SVCB   16 foo.example.org. alpn="f\\\\oo\\,bar,h2"
//   example.com.   SVCB   16 foo.example.org. alpn=f\\\092oo\092,bar,h2
const vector_case d2_f10 = {"D.2 Figure 10",
                            join({{0x00, 0x10},
                                  foo_example_org,
                                  {0x00,
                                   0x01,
                                   0x00,
                                   0x0c,
                                   0x08,
                                   0x66,
                                   0x5c,
                                   0x6f,
                                   0x6f,
                                   0x2c,
                                   0x62,
                                   0x61,
                                   0x72,
                                   0x02,
                                   0x68,
                                   0x32}})};

const std::vector<vector_case>& all_vectors() {
    static const std::vector<vector_case> v = {
        d1_alias, d2_f3, d2_f4, d2_f5, d2_f6, d2_f7, d2_f8, d2_f9, d2_f10};
    return v;
}

// The offsets at which a prefix of a valid ServiceMode RDATA is itself complete: after the
// TargetName and after each SvcParam.
std::vector<std::size_t> boundaries(const bytes& rdata) {
    std::size_t pos = 2;
    while (rdata[pos] != 0) {
        pos += 1 + std::size_t{rdata[pos]};
    }
    std::vector<std::size_t> out = {++pos};
    while (pos < rdata.size()) {
        pos += 4 + ((std::size_t{rdata[pos + 2]} << 8) | rdata[pos + 3]);
        out.push_back(pos);
    }
    return out;
}

}  // namespace

TEST_CASE("RFC 9460 D.1: AliasMode", "[svcb]") {
    const auto r = parsed(d1_alias.rdata);
    CHECK(r.alias_mode());
    CHECK(r.priority == 0);
    CHECK(r.target == "foo.example.com");
    CHECK(r.alpn.empty());
    CHECK(!r.port);
}

TEST_CASE("RFC 9460 D.2: ServiceMode vectors", "[svcb]") {
    SECTION("Figure 3: TargetName is the root") {
        const auto r = parsed(d2_f3.rdata);
        CHECK(!r.alias_mode());
        CHECK(r.priority == 1);
        CHECK(r.target.empty());
        CHECK(r.other_params.empty());
    }
    SECTION("Figure 4: a port") {
        const auto r = parsed(d2_f4.rdata);
        CHECK(r.priority == 16);
        CHECK(r.target == "foo.example.com");
        CHECK(r.port == std::optional<std::uint16_t>(53));
    }
    SECTION("Figure 5: an unknown key with an unquoted value") {
        const auto r = parsed(d2_f5.rdata);
        REQUIRE(r.other_params.size() == 1);
        CHECK(r.other_params[0].key == 667);
        CHECK(r.other_params[0].value == text("hello"));
    }
    SECTION("Figure 6: an unknown key with a quoted value and a decimal escape") {
        const auto r = parsed(d2_f6.rdata);
        REQUIRE(r.other_params.size() == 1);
        CHECK(r.other_params[0].key == 667);
        CHECK(r.other_params[0].value == join({text("hello"), {0xd2}, text("qoo")}));
    }
    SECTION("Figure 7: two quoted IPv6 hints") {
        const auto r = parsed(d2_f7.rdata);
        CHECK(r.ipv6hint ==
              std::vector<boost::asio::ip::address_v6>{v6("2001:db8::1"), v6("2001:db8::53:1")});
    }
    SECTION("Figure 8: an IPv6 hint with embedded IPv4") {
        const auto r = parsed(d2_f8.rdata);
        CHECK(r.target == "example.com");
        CHECK(r.ipv6hint ==
              std::vector<boost::asio::ip::address_v6>{v6("2001:db8:122:344::192.0.2.33")});
    }
    SECTION("Figure 9: mandatory with alpn and ipv4hint") {
        const auto r = parsed(d2_f9.rdata);
        CHECK(r.priority == 16);
        CHECK(r.target == "foo.example.org");
        CHECK(r.mandatory == std::vector<std::uint16_t>{1, 4});
        CHECK(r.alpn == std::vector<std::string>{"h2", "h3-19"});
        CHECK(r.ipv4hint == std::vector<boost::asio::ip::address_v4>{v4("192.0.2.1")});
        CHECK(!r.no_default_alpn);
    }
    SECTION("Figure 10: alpn ids holding a comma and a backslash") {
        const auto r = parsed(d2_f10.rdata);
        CHECK(r.alpn == std::vector<std::string>{"f\\oo,bar", "h2"});
    }
}

TEST_CASE("RFC 9460 D vectors encode back to their bytes", "[svcb]") {
    for (const auto& v : all_vectors()) {
        INFO(v.figure);
        CHECK(core::encode_service_record(parsed(v.rdata)) == v.rdata);
    }
}

TEST_CASE("RFC 9460 D.3 failure cases are rejected", "[svcb]") {
    // The appendix gives these in presentation form only; the wire forms are written here by
    // hand from it (SvcPriority 1, TargetName foo.example.com.).
    SECTION("Figure 11: multiple instances of the same SvcParamKey") {
        // example.com. SVCB 1 foo.example.com. ( key123=abc key123=def )
        CHECK(parse_error(service_mode({param(123, text("abc")), param(123, text("def"))})) ==
              dns_parse_error::keys_not_ascending);
    }
    SECTION("Figure 12: missing SvcParamValues that must be non-empty") {
        // example.com. SVCB 1 foo.example.com. mandatory
        CHECK(parse_error(service_mode({param(0, {})})) == dns_parse_error::bad_mandatory);
        // example.com. SVCB 1 foo.example.com. alpn
        CHECK(parse_error(service_mode({param(1, {})})) == dns_parse_error::bad_alpn);
        // example.com. SVCB 1 foo.example.com. port
        CHECK(parse_error(service_mode({param(3, {})})) == dns_parse_error::bad_port);
        // example.com. SVCB 1 foo.example.com. ipv4hint
        CHECK(parse_error(service_mode({param(4, {})})) == dns_parse_error::bad_ipv4hint);
        // example.com. SVCB 1 foo.example.com. ipv6hint
        CHECK(parse_error(service_mode({param(6, {})})) == dns_parse_error::bad_ipv6hint);
    }
    SECTION("Figure 13: the no-default-alpn value must be empty") {
        // example.com. SVCB 1 foo.example.com. no-default-alpn=abc
        CHECK(parse_error(service_mode({param(2, text("abc"))})) ==
              dns_parse_error::bad_no_default_alpn);
        // With an alpn, so that the value is the only fault.
        CHECK(parse_error(service_mode({param(1, {2, 'h', '2'}), param(2, text("abc"))})) ==
              dns_parse_error::bad_no_default_alpn);
    }
    SECTION("Figure 14: a mandatory SvcParam is missing") {
        // example.com. SVCB 1 foo.example.com. mandatory=key123
        CHECK(parse_error(service_mode({param(0, {0x00, 0x7b})})) ==
              dns_parse_error::mandatory_missing_key);
    }
    SECTION("Figure 15: mandatory must not list mandatory") {
        // example.com. SVCB 1 foo.example.com. mandatory=mandatory
        CHECK(parse_error(service_mode({param(0, {0x00, 0x00})})) ==
              dns_parse_error::bad_mandatory);
    }
    SECTION("Figure 16: the same key twice in the mandatory list") {
        // example.com. SVCB 1 foo.example.com. ( mandatory=key123,key123 key123=abc )
        CHECK(parse_error(
                  service_mode({param(0, {0x00, 0x7b, 0x00, 0x7b}), param(123, text("abc"))})) ==
              dns_parse_error::bad_mandatory);
    }
}

TEST_CASE("SVCB RDATA truncated at every length is rejected", "[svcb]") {
    for (const auto& v : all_vectors()) {
        INFO(v.figure);
        const auto ends = v.rdata[0] == 0 && v.rdata[1] == 0
                              ? std::vector<std::size_t>{v.rdata.size()}  // AliasMode
                              : boundaries(v.rdata);
        for (std::size_t n = 0; n < v.rdata.size(); ++n) {
            INFO("prefix of " << n << " bytes");
            core::service_record r;
            const auto ec = core::parse_service_record(std::span(v.rdata.data(), n), r);
            if (std::find(ends.begin(), ends.end(), n) == ends.end()) {
                CHECK(ec == dns_parse_error::truncated);
            } else {
                // A prefix ending between params is a whole record; Figure 9's then lacks a key
                // its mandatory list names.
                CHECK((!ec || ec == dns_parse_error::mandatory_missing_key));
            }
        }
    }
}

TEST_CASE("SVCB RDATA with malformed fields is rejected with its reason", "[svcb]") {
    SECTION("oversized length fields") {
        // A param length past the end of the RDATA.
        CHECK(parse_error(service_mode({{0x00, 0x03, 0xff, 0xff, 0x01, 0xbb}})) ==
              dns_parse_error::truncated);
        // A TargetName label longer than what is left.
        CHECK(parse_error({0x00, 0x01, 0x3f, 'a', 'b'}) == dns_parse_error::truncated);
        // An alpn id longer than its value.
        CHECK(parse_error(service_mode({param(1, {5, 'h', '2'})})) == dns_parse_error::bad_alpn);
        // 1 to 3 bytes after the last param: not a param header.
        CHECK(parse_error(service_mode({param(3, {0x01, 0xbb}), {0x00}})) ==
              dns_parse_error::truncated);
        CHECK(parse_error(service_mode({param(3, {0x01, 0xbb}), {0x00, 0x07, 0x00}})) ==
              dns_parse_error::truncated);
    }
    SECTION("keys out of order") {
        CHECK(parse_error(service_mode({param(3, {0x01, 0xbb}), param(1, {2, 'h', '2'})})) ==
              dns_parse_error::keys_not_ascending);
        CHECK(parse_error(service_mode({param(3, {0x01, 0xbb}), param(3, {0x01, 0xbc})})) ==
              dns_parse_error::keys_not_ascending);
    }
    SECTION("mandatory lists") {
        CHECK(parse_error(service_mode({param(0, {0x00, 0x03, 0x00}), param(3, {0x01, 0xbb})})) ==
              dns_parse_error::bad_mandatory);  // odd length
        CHECK(parse_error(service_mode({param(0, {0x00, 0x04, 0x00, 0x03}),
                                        param(3, {0x01, 0xbb}),
                                        param(4, {192, 0, 2, 1})})) ==
              dns_parse_error::bad_mandatory);  // not increasing
        CHECK(parse_error(
                  service_mode({param(0, {0x00, 0x03, 0x00, 0x04}), param(3, {0x01, 0xbb})})) ==
              dns_parse_error::mandatory_missing_key);  // ipv4hint absent
    }
    SECTION("alpn and no-default-alpn") {
        CHECK(parse_error(service_mode({param(1, {2, 'h', '2', 0})})) ==
              dns_parse_error::bad_alpn);  // an empty id
        CHECK(parse_error(service_mode({param(2, {})})) ==
              dns_parse_error::bad_no_default_alpn);  // without alpn
    }
    SECTION("port and hint lengths") {
        CHECK(parse_error(service_mode({param(3, {0x01})})) == dns_parse_error::bad_port);
        CHECK(parse_error(service_mode({param(3, {0x00, 0x01, 0xbb})})) ==
              dns_parse_error::bad_port);
        CHECK(parse_error(service_mode({param(4, {192, 0, 2, 1, 7})})) ==
              dns_parse_error::bad_ipv4hint);
        CHECK(parse_error(service_mode({param(4, {192, 0, 2})})) == dns_parse_error::bad_ipv4hint);
        CHECK(parse_error(service_mode({param(6, bytes(15, 1))})) == dns_parse_error::bad_ipv6hint);
        CHECK(parse_error(service_mode({param(6, bytes(17, 1))})) == dns_parse_error::bad_ipv6hint);
        CHECK(parse_error(service_mode({param(5, {})})) == dns_parse_error::bad_ech);
    }
    SECTION("TargetName") {
        // RFC 9460 §2.2: uncompressed; a pointer to a name before the RDATA is no name here.
        CHECK(parse_error({0x00, 0x01, 0xc0, 0x0c}) == dns_parse_error::compressed_name);
        CHECK(parse_error({0x00, 0x01, 0x01, 'a', 0xc0, 0x00}) == dns_parse_error::compressed_name);
        CHECK(parse_error({0x00, 0x01, 0x41, 'a', 0x00}) == dns_parse_error::bad_name);
        CHECK(parse_error({0x00, 0x01, 0x03, 'a', '.', 'b', 0x00}) == dns_parse_error::bad_name);
        bytes longest = {0x00, 0x01};
        for (int i = 0; i < 127; ++i) {
            longest.insert(longest.end(), {1, 'a'});
        }
        longest.push_back(0);  // 255 bytes of name: the most RFC 1035 §3.1 allows
        CHECK(parsed(longest).target.size() == 253);
        longest.insert(longest.end() - 1, {1, 'a'});
        CHECK(parse_error(longest) == dns_parse_error::name_too_long);
        CHECK(parse_error({0x00}) == dns_parse_error::truncated);
        CHECK(parse_error({0x00, 0x01}) == dns_parse_error::truncated);
    }
    SECTION("bounds") {
        auto rdata = service_mode({});
        for (std::uint16_t key = 100; key < 100 + core::max_service_params; ++key) {
            rdata = join({rdata, param(key, {})});
        }
        CHECK(parsed(rdata).other_params.size() == core::max_service_params);
        rdata = join({rdata, param(1000, {})});
        CHECK(parse_error(rdata) == dns_parse_error::too_many_params);
        CHECK(parse_error(bytes(65536, 0)) == dns_parse_error::rdata_too_long);
    }
}

TEST_CASE("SVCB AliasMode params are ignored", "[svcb]") {
    // RFC 9460 §2.4.2: a client SHOULD ignore the params of an AliasMode record, even broken ones.
    const auto with_port = join({{0x00, 0x00}, foo_example_com, param(3, {0x01, 0xbb})});
    const auto r = parsed(with_port);
    CHECK(r.alias_mode());
    CHECK(r.target == "foo.example.com");
    CHECK(!r.port);
    CHECK(parsed(join({{0x00, 0x00}, foo_example_com, {0xff}})).target == "foo.example.com");
    // AliasMode to "." : the service does not exist.
    CHECK(parsed({0x00, 0x00, 0x00}).target.empty());
}

TEST_CASE("SVCB encode and parse round-trip", "[svcb]") {
    core::service_record r;
    r.priority = 2;
    r.target = "svc.example.net";
    r.alpn = {"h3", "h2"};
    r.no_default_alpn = true;
    r.port = 8443;
    r.ipv4hint = {v4("192.0.2.1"), v4("198.51.100.7")};
    r.ech = {0x00, 0x04, 0xfe, 0x0d, 0x00, 0x00};
    r.ipv6hint = {v6("2001:db8::1")};
    r.mandatory = {3, 4, 700};
    r.other_params = {{700, text("x")}, {65000, {}}};
    const auto rdata = core::encode_service_record(r);
    CHECK(parsed(rdata) == r);
    // Upper case and a trailing dot in the TargetName parse to the canonical form.
    r.target = "SVC.Example.NET.";
    auto back = parsed(core::encode_service_record(r));
    CHECK(back.target == "svc.example.net");
    // AliasMode keeps only priority and target.
    core::service_record alias;
    alias.target = "pool.example.net";
    alias.port = 1;
    CHECK(core::encode_service_record(alias) ==
          join({{0x00, 0x00},
                {4, 'p', 'o', 'o', 'l', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e'},
                {3, 'n', 'e', 't', 0}}));
    core::service_record bad;
    bad.priority = 1;
    bad.other_params = {{3, {}}};
    CHECK_THROWS_AS(core::encode_service_record(bad), std::invalid_argument);
    bad.other_params.clear();
    bad.target = "a..b";
    CHECK_THROWS_AS(core::encode_service_record(bad), std::invalid_argument);
}

TEST_CASE("SVCB alpn_set adds http/1.1 unless no-default-alpn", "[svcb]") {
    core::service_record r;
    r.priority = 1;
    CHECK(r.alpn_set() == std::vector<std::string>{"http/1.1"});
    r.alpn = {"h3", "h2"};
    CHECK(r.alpn_set() == std::vector<std::string>{"h3", "h2", "http/1.1"});
    r.no_default_alpn = true;
    CHECK(r.alpn_set() == std::vector<std::string>{"h3", "h2"});
    r.no_default_alpn = false;
    r.alpn = {"http/1.1", "h2"};
    CHECK(r.alpn_set() == std::vector<std::string>{"http/1.1", "h2"});
}

TEST_CASE("https_query_name prefixes the port unless it is 443", "[svcb]") {
    CHECK(core::https_query_name("example.com", 443) == "example.com");
    CHECK(core::https_query_name("example.com", 8443) == "_8443._https.example.com");
}

TEST_CASE("DNS message from build_dns_response round-trips", "[svcb]") {
    const std::vector<core::dns_answer_spec> answers = {
        {"Example.COM.", core::dns_type_https, 300, d2_f9.rdata},
        {"example.com", core::dns_type_a, 60, {192, 0, 2, 1}},
        {"example.com", core::dns_type_https, 120, d2_f3.rdata},
    };
    const auto wire =
        core::build_dns_response(0xbeef, "example.COM", core::dns_type_https, 0, answers);
    core::dns_message m;
    REQUIRE(!core::parse_dns_message(wire, m));
    CHECK(m.id == 0xbeef);
    CHECK(m.response);
    CHECK(m.rcode == 0);
    CHECK(!m.truncated);
    CHECK(m.question_name == "example.com");
    CHECK(m.question_type == core::dns_type_https);
    REQUIRE(m.answers.size() == 3);
    for (std::size_t i = 0; i < answers.size(); ++i) {
        CHECK(m.answers[i].name == "example.com");
        CHECK(m.answers[i].type == answers[i].type);
        CHECK(m.answers[i].rclass == core::dns_class_in);
        CHECK(m.answers[i].ttl == answers[i].ttl);
        CHECK(bytes(m.answers[i].rdata.begin(), m.answers[i].rdata.end()) == answers[i].rdata);
    }
    const auto https = core::service_records_of(m, "EXAMPLE.com.");
    REQUIRE(https.records.size() == 2);
    CHECK(https.records[0] == parsed(d2_f9.rdata));
    CHECK(https.records[1].target.empty());
    CHECK(https.malformed == 0);
    CHECK(https.min_ttl == 120);
    CHECK(core::service_records_of(m, "other.example").records.empty());
    CHECK(core::service_records_of(m, "example.com", core::dns_type_svcb).records.empty());

    const auto nx = core::build_dns_response(1, "example.com", core::dns_type_https, 3, {});
    REQUIRE(!core::parse_dns_message(nx, m));
    CHECK(m.rcode == 3);
    CHECK(m.answers.empty());
}

TEST_CASE("service_records_of skips and counts malformed records and follows CNAMEs", "[svcb]") {
    const std::vector<core::dns_answer_spec> answers = {
        {"www.example.com", core::dns_type_cname, 30, join({{3, 'c', 'd', 'n'}, example_com})},
        {"cdn.example.com", core::dns_type_https, 600, d2_f4.rdata},
        // D.3 Figure 11 (duplicate keys) under the same name.
        {"cdn.example.com",
         core::dns_type_https,
         5,
         service_mode({param(123, text("abc")), param(123, text("def"))})},
    };
    const auto wire =
        core::build_dns_response(7, "www.example.com", core::dns_type_https, 0, answers);
    core::dns_message m;
    REQUIRE(!core::parse_dns_message(wire, m));
    CHECK(m.answers[0].canonical_name == "cdn.example.com");
    const auto https = core::service_records_of(m, "www.example.com");
    REQUIRE(https.records.size() == 1);
    CHECK(https.records[0].port == std::optional<std::uint16_t>(53));
    CHECK(https.malformed == 1);
    CHECK(https.min_ttl == 30);  // the CNAME's
}

TEST_CASE("DNS message parser rejects malformed messages", "[svcb]") {
    // Header: ID 1, QR RD RA, QDCOUNT 1, ANCOUNT as given.
    const auto header = [](std::uint8_t ancount) {
        return bytes{0x00, 0x01, 0x81, 0x80, 0x00, 0x01, 0x00, ancount, 0x00, 0x00, 0x00, 0x00};
    };
    const bytes qtail = {0x00, 0x41, 0x00, 0x01};  // QTYPE HTTPS, QCLASS IN
    core::dns_message m;
    m.id = 99;

    SECTION("truncated header") {
        const auto wire = join({header(0), example_com, qtail});
        for (std::size_t n = 0; n < 12; ++n) {
            CHECK(core::parse_dns_message(std::span(wire.data(), n), m) ==
                  dns_parse_error::truncated);
        }
        CHECK(m.id == 99);  // left unchanged
    }
    SECTION("a compression pointer to itself") {
        const auto wire = join({header(0), {0xc0, 0x0c}, qtail});
        CHECK(core::parse_dns_message(wire, m) == dns_parse_error::pointer_loop);
    }
    SECTION("a compression pointer back into its own name") {
        const auto wire = join({header(0), {0x01, 'a', 0xc0, 0x0c}, qtail});
        CHECK(core::parse_dns_message(wire, m) == dns_parse_error::pointer_loop);
    }
    SECTION("two pointers to each other") {
        // At 29 a pointer to 31, at 31 one back to 29: a loop of pointers always has a forward
        // one (or goes back into its own labels, above), which is what stops it.
        const auto wire = join({header(1),
                                example_com,
                                qtail,
                                {0xc0, 0x1f, 0xc0, 0x1d},
                                {0x00, 0x01, 0x00, 0x01, 0, 0, 0, 1, 0, 0}});
        CHECK(core::parse_dns_message(wire, m) == dns_parse_error::forward_pointer);
    }
    SECTION("a chain of more pointers than a name has labels") {
        // The root name at 12; an A record whose RDATA holds `n` pointers, each to the one
        // before it (the first to 12); then a record whose owner points to the last of them.
        const auto chain = [&](std::size_t n) {
            auto wire = join(
                {header(2),
                 {0x00},
                 qtail,
                 {0x00, 0x00, 0x01, 0x00, 0x01, 0, 0, 0, 1},
                 {static_cast<std::uint8_t>(2 * n >> 8), static_cast<std::uint8_t>(2 * n & 0xFF)}});
            std::size_t previous = 12;
            for (std::size_t i = 0; i < n; ++i) {
                const auto at = wire.size();
                wire.insert(wire.end(),
                            {static_cast<std::uint8_t>(0xc0 | (previous >> 8)),
                             static_cast<std::uint8_t>(previous & 0xFF)});
                previous = at;
            }
            wire.insert(wire.end(),
                        {static_cast<std::uint8_t>(0xc0 | (previous >> 8)),
                         static_cast<std::uint8_t>(previous & 0xFF)});
            wire.insert(wire.end(), {0x00, 0x01, 0x00, 0x01, 0, 0, 0, 1, 0, 0});
            return wire;
        };
        REQUIRE(!core::parse_dns_message(chain(126), m));  // 127 hops
        CHECK(m.answers.size() == 2);
        CHECK(m.answers[1].name.empty());
        CHECK(core::parse_dns_message(chain(127), m) == dns_parse_error::pointer_loop);
    }
    SECTION("a forward pointer") {
        const auto wire = join({header(0), {0xc0, 0x20}, qtail, bytes(32, 0)});
        CHECK(core::parse_dns_message(wire, m) == dns_parse_error::forward_pointer);
    }
    SECTION("a backward pointer is read") {
        // The answer's owner points to the question's name at offset 12; the CNAME's RDATA too.
        const auto wire = join({header(1),
                                example_com,
                                qtail,
                                {0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x80, 0, 0, 0, 0x00, 0x06},
                                {0x03, 'w', 'w', 'w', 0xc0, 0x0c}});
        REQUIRE(!core::parse_dns_message(wire, m));
        REQUIRE(m.answers.size() == 1);
        CHECK(m.answers[0].name == "example.com");
        CHECK(m.answers[0].canonical_name == "www.example.com");
        CHECK(m.answers[0].ttl == 0);  // top bit set: RFC 2181 §8
    }
    SECTION("truncated anywhere") {
        const std::vector<core::dns_answer_spec> answers = {
            {"example.com", core::dns_type_https, 300, d2_f9.rdata}};
        const auto wire =
            core::build_dns_response(3, "example.com", core::dns_type_https, 0, answers);
        for (std::size_t n = 0; n < wire.size(); ++n) {
            INFO("prefix of " << n << " bytes");
            CHECK(core::parse_dns_message(std::span(wire.data(), n), m) ==
                  dns_parse_error::truncated);
        }
    }
    SECTION("more than 256 answers") {
        std::vector<core::dns_answer_spec> answers(
            core::max_dns_answers, {"example.com", core::dns_type_a, 60, {192, 0, 2, 1}});
        auto wire = core::build_dns_response(4, "example.com", core::dns_type_a, 0, answers);
        REQUIRE(!core::parse_dns_message(wire, m));
        CHECK(m.answers.size() == core::max_dns_answers);
        answers.push_back(answers.back());
        wire = core::build_dns_response(4, "example.com", core::dns_type_a, 0, answers);
        CHECK(core::parse_dns_message(wire, m) == dns_parse_error::too_many_records);
    }
}

TEST_CASE("dns_parse_error has its own category", "[svcb]") {
    const boost::system::error_code ec = dns_parse_error::keys_not_ascending;
    CHECK(ec.category() == core::dns_parse_category());
    CHECK(std::string(ec.category().name()) == "happy_dial.dns");
    CHECK(!ec.message().empty());
    CHECK(ec != dns_parse_error::truncated);
}

namespace {

core::service_record https_service(std::uint16_t priority,
                                   std::string target,
                                   std::vector<std::string> alpn,
                                   std::vector<const char*> v6_hints = {}) {
    core::service_record r;
    r.priority = priority;
    r.target = std::move(target);
    r.alpn = std::move(alpn);
    for (const auto* h : v6_hints) {
        r.ipv6hint.push_back(boost::asio::ip::make_address_v6(h));
    }
    return r;
}

core::endpoint ep(const char* address, unsigned short port) {
    return {boost::asio::ip::make_address(address), port};
}

core::https_plan tcp_plan(std::uint64_t seed = 1) {
    return core::https_plan("example.com", 443, core::default_tcp_alpns(), seed);
}

}  // namespace

TEST_CASE("https plan: services are filtered by ALPN and mandatory keys", "[svcb][https_plan]") {
    auto h3_only = https_service(1, "", {"h3"});
    h3_only.no_default_alpn = true;
    auto unknown_mandatory = https_service(1, "", {"h2"});
    unknown_mandatory.mandatory = {7};
    const auto h3_with_default = https_service(2, "", {"h3"});  // + http/1.1 (§7.1.1)
    const auto h2 = https_service(3, "", {"h2"});
    const auto alias = https_service(0, "elsewhere.example", {});
    auto plan = tcp_plan();
    CHECK_FALSE(plan.answered());
    const std::vector records{h3_only, unknown_mandatory, h3_with_default, h2, alias};
    plan.set_records(records);
    CHECK(plan.answered());
    REQUIRE(plan.usable().size() == 2);
    // v3 §4: grouped by protocol first: h2 (the caller's first choice) at priority 3 before
    // http/1.1 at priority 2.
    CHECK(plan.usable()[0] == h2);
    CHECK(plan.usable()[1] == h3_with_default);
    CHECK(plan.group_of(0) == 0);
    CHECK(plan.group_of(1) == 1);
    CHECK(plan.no_service_group() == 2);
    CHECK(plan.shared_alpns(h3_with_default) == std::vector<std::string>{"http/1.1"});
}

TEST_CASE("https plan: groups by protocol then priority and ties share a group",
          "[svcb][https_plan]") {
    auto http11_only = https_service(1, "old.example", {"http/1.1"}, {"2001:db8::4"});
    http11_only.no_default_alpn = true;
    auto plan = tcp_plan();
    plan.set_records(std::vector{https_service(2, "b.example", {"h2"}, {"2001:db8::2"}),
                                 http11_only,
                                 https_service(1, "a.example", {"h2"}, {"2001:db8::1"}),
                                 https_service(2, "c.example", {"h2"}, {"2001:db8::3"})});
    REQUIRE(plan.usable().size() == 4);
    CHECK(plan.usable()[0].target == "a.example");
    CHECK(plan.usable()[3].target == "old.example");
    CHECK(plan.group_of(0) == 0);
    CHECK(plan.group_of(1) == 1);  // b and c: one group, in either order
    CHECK(plan.group_of(2) == 1);
    CHECK(plan.group_of(3) == 2);
    const auto planned = plan.endpoints(core::address_family::ipv6, nullptr);
    REQUIRE(planned.endpoints.size() == 4);
    CHECK(planned.endpoints[0] == ep("2001:db8::1", 443));
    CHECK(planned.endpoints[3] == ep("2001:db8::4", 443));
    CHECK(planned.groups == std::vector<std::uint16_t>{0, 1, 1, 2});
    // The record behind each endpoint, as the handshake stage is told.
    REQUIRE(plan.record_for(ep("2001:db8::4", 443)) != nullptr);
    CHECK(plan.record_for(ep("2001:db8::4", 443))->target == "old.example");
    CHECK(plan.record_for(ep("2001:db8::4", 8443)) == nullptr);  // not this service's port
    CHECK(plan.record_for(ep("2001:db8::99", 443)) == nullptr);  // no service lists it
}

TEST_CASE("https plan: priority order with ties shuffled by the seed", "[svcb][https_plan]") {
    const std::vector records{https_service(2, "b.example", {"h2"}),
                              https_service(1, "a1.example", {"h2"}),
                              https_service(1, "a2.example", {"h2"}),
                              https_service(1, "a3.example", {"h2"})};
    std::vector<std::string> first_targets;
    for (std::uint64_t seed = 1; seed <= 16; ++seed) {
        auto plan = tcp_plan(seed);
        plan.set_records(records);
        REQUIRE(plan.usable().size() == 4);
        CHECK(plan.usable()[0].priority == 1);
        CHECK(plan.usable()[3].target == "b.example");
        auto again = tcp_plan(seed);
        again.set_records(records);
        CHECK(again.usable() == plan.usable());  // a seed replays its order
        first_targets.push_back(plan.usable()[0].target);
    }
    std::sort(first_targets.begin(), first_targets.end());
    first_targets.erase(std::unique(first_targets.begin(), first_targets.end()),
                        first_targets.end());
    CHECK(first_targets.size() == 3);  // every tie goes first for some seed
}

TEST_CASE("https plan: endpoints in service order with each service's port", "[svcb][https_plan]") {
    auto origin_service = https_service(1, "", {"h2"}, {"2001:db8::1"});
    origin_service.port = 8443;
    const auto other = https_service(2, "cdn.example", {"h2"}, {"2001:db8::99"});
    auto plan = tcp_plan();
    plan.set_records(std::vector{other, origin_service});
    using core::address_family;
    // Before the AAAA answer: the origin service's hint stands in for it.
    CHECK(plan.endpoints(address_family::ipv6, nullptr).endpoints ==
          std::vector{ep("2001:db8::1", 8443), ep("2001:db8::99", 443)});
    // With it: the origin's own addresses on the service's port.
    const std::vector origin{ep("2001:db8::5", 443)};
    const auto with_origin = plan.endpoints(address_family::ipv6, &origin);
    CHECK(with_origin.endpoints == std::vector{ep("2001:db8::5", 8443), ep("2001:db8::99", 443)});
    CHECK(with_origin.groups == std::vector<std::uint16_t>{0, 1});
    CHECK(plan.endpoints_of(origin).endpoints == std::vector{ep("2001:db8::5", 8443)});
    REQUIRE(plan.record_for(ep("2001:db8::5", 8443)) != nullptr);
    CHECK(plan.record_for(ep("2001:db8::5", 8443))->port == 8443);
    // The hint the answer did not hold is withdrawn; the other target's is not.
    CHECK(plan.unconfirmed_hints(address_family::ipv6, origin) ==
          std::vector{ep("2001:db8::1", 8443)});
    CHECK(
        plan.unconfirmed_hints(address_family::ipv6, std::vector{ep("2001:db8::1", 443)}).empty());
    CHECK(plan.endpoints(address_family::ipv4, nullptr).endpoints.empty());
}

TEST_CASE("https plan: without a service for the origin its addresses come last",
          "[svcb][https_plan]") {
    auto plan = tcp_plan();
    plan.set_records(std::vector{https_service(1, "cdn.example", {"h2"}, {"2001:db8::99"})});
    const std::vector origin{ep("2001:db8::5", 443)};
    const auto planned = plan.endpoints(core::address_family::ipv6, &origin);
    CHECK(planned.endpoints == std::vector{ep("2001:db8::99", 443), ep("2001:db8::5", 443)});
    CHECK(planned.groups == std::vector<std::uint16_t>{0, plan.no_service_group()});
    CHECK(plan.endpoints_of(origin).groups == std::vector<std::uint16_t>{1});
    auto none = tcp_plan();
    none.set_records({});
    CHECK(none.endpoints_of(origin).endpoints == origin);
    CHECK(none.endpoints_of(origin).groups == std::vector<std::uint16_t>{0});
    CHECK(core::hold_address_answers_until(core::time_point{}, std::chrono::milliseconds(50)) ==
          core::time_point{} + std::chrono::milliseconds(50));
}
