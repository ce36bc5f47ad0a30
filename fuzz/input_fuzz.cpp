// libFuzzer target: arbitrary host and service strings through happy_dial's input checks
// (core::check_host, core::check_service), which run before any lookup. Checks that they
// never crash and answer exactly as documented (error.hpp, docs/reliability.md):
//  * host: empty -> empty_host; longer than 253 bytes or any byte outside [A-Za-z0-9-._:%]
//    -> invalid_host; else accepted;
//  * service: empty, or all digits with a value outside 1..65535 -> invalid_service; all digits
//    in range -> accepted with that port; anything else -> left to getaddrinfo (no port).
#include <happy_dial/core/target.hpp>
#include <happy_dial/error.hpp>

#include <boost/asio/ip/address.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fuzzer/FuzzedDataProvider.h>
#include <optional>
#include <string>

namespace {

#define FUZZ_CHECK(cond)                                                                     \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            std::fprintf(                                                                    \
                stderr, "input_fuzz: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                    \
        }                                                                                    \
    } while (0)

bool host_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == ':' || c == '%';
}

// RFC 1035 labels, written independently of check_host: 1..63 bytes each, one trailing dot
// allowed; names with ':' are IPv6 literals and have none.
bool labels_ok(const std::string& host) {
    if (host.find(':') != std::string::npos) {
        return true;
    }
    std::size_t length = 0;
    for (std::size_t i = 0; i < host.size(); ++i) {
        if (host[i] != '.') {
            ++length;
            continue;
        }
        if (length == 0 || length > 63) {
            return false;
        }
        length = 0;
    }
    const bool trailing_dot = !host.empty() && host.back() == '.';
    return trailing_dot ? host.size() > 1 : (length > 0 && length <= 63);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    const std::string service = in.ConsumeRandomLengthString(12);
    const std::string host = in.ConsumeRemainingBytesAsString();

    const auto host_ec = happy_dial::core::check_host(host);
    bool chars_ok = true;
    for (const unsigned char c : host) {
        chars_ok = chars_ok && host_char(c);
    }
    if (host.empty()) {
        FUZZ_CHECK(host_ec == happy_dial::error::empty_host);
    } else if (host.size() > 253 || !chars_ok || !labels_ok(host)) {
        FUZZ_CHECK(host_ec == happy_dial::error::invalid_host);
    } else {
        FUZZ_CHECK(!host_ec);
        boost::system::error_code ignored;
        (void)boost::asio::ip::make_address(host, ignored);  // what the dial does next
    }

    std::optional<unsigned short> port = 42;
    const auto service_ec = happy_dial::core::check_service(service, port);
    bool digits = !service.empty();
    unsigned long long value = 0;
    for (const unsigned char c : service) {
        digits = digits && c >= '0' && c <= '9';
        if (digits && value <= 65535) {
            value = value * 10 + (c - '0');
        }
    }
    if (service.empty() || (digits && (value == 0 || value > 65535))) {
        FUZZ_CHECK(service_ec == happy_dial::error::invalid_service);
    } else if (digits) {
        FUZZ_CHECK(!service_ec);
        FUZZ_CHECK(port && *port == value);
    } else {
        FUZZ_CHECK(!service_ec);
        FUZZ_CHECK(!port);
    }
    return 0;
}
