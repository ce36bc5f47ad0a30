// libFuzzer target: arbitrary bytes as a DNS response (core::parse_dns_message), every SVCB and
// HTTPS answer of it, and the bytes themselves, as SVCB RDATA (core::parse_service_record).
// Checks that nothing crashes or reads out of bounds, that an error leaves the output unchanged,
// and that every RDATA that parses encodes (core::encode_service_record) into an RDATA that
// parses back to the same fields. The records of each message also go through core::https_plan
// (check_plan).
#include <happy_dial/core/dns_message.hpp>
#include <happy_dial/core/https_plan.hpp>
#include <happy_dial/core/svcb.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

namespace {

#define FUZZ_CHECK(cond)                                                                    \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            std::fprintf(                                                                   \
                stderr, "svcb_fuzz: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                   \
        }                                                                                   \
    } while (0)

namespace core = happy_dial::core;

void check_rdata(std::span<const std::uint8_t> rdata) {
    core::service_record r;
    r.priority = 0xBEEF;
    if (core::parse_service_record(rdata, r)) {
        FUZZ_CHECK(r.priority == 0xBEEF);  // unchanged on error
        return;
    }
    FUZZ_CHECK(!r.no_default_alpn || !r.alpn.empty());
    const auto encoded = core::encode_service_record(r);
    FUZZ_CHECK(encoded.size() <= rdata.size());  // canonical: never longer than the input
    core::service_record back;
    FUZZ_CHECK(!core::parse_service_record(encoded, back));
    FUZZ_CHECK(back == r);
}

// The plan of a record set (issue 16): groups never decrease in try order, and every endpoint
// made from hints carries a group below the no-service group and maps back to its record.
void check_plan(const std::string& origin, std::span<const core::service_record> records) {
    core::https_plan plan(origin, 443, core::default_tcp_alpns(), records.size());
    plan.set_records(records);
    for (std::size_t i = 1; i < plan.usable().size(); ++i) {
        FUZZ_CHECK(plan.group_of(i - 1) <= plan.group_of(i));
    }
    for (const auto f : {core::address_family::ipv6, core::address_family::ipv4}) {
        const auto planned = plan.endpoints(f, nullptr);
        FUZZ_CHECK(planned.endpoints.size() == planned.groups.size());
        for (std::size_t i = 0; i < planned.endpoints.size(); ++i) {
            FUZZ_CHECK(planned.groups[i] < plan.no_service_group());
            FUZZ_CHECK(plan.record_for(planned.endpoints[i]) != nullptr);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    const std::span<const std::uint8_t> input(bytes, size);
    core::dns_message message;
    if (!core::parse_dns_message(input, message)) {
        FUZZ_CHECK(message.answers.size() <= core::max_dns_answers);
        for (const auto& rr : message.answers) {
            FUZZ_CHECK(rr.rdata.data() >= bytes &&
                       rr.rdata.data() + rr.rdata.size() <= bytes + size);
            FUZZ_CHECK(rr.name.size() < core::max_dns_name_length);
            if (rr.type == core::dns_type_https || rr.type == core::dns_type_svcb) {
                check_rdata(rr.rdata);
            }
        }
        const auto answer = core::service_records_of(message, message.question_name);
        FUZZ_CHECK(answer.records.size() + answer.malformed <= message.answers.size());
        check_plan(message.question_name, answer.records);
    }
    check_rdata(input);
    return 0;
}
