// libFuzzer target: arbitrary proxy replies, cut into arbitrary pieces, through the SOCKS5 and
// HTTP CONNECT clients (core::socks5_client, core::http_connect_client). Checks that they never
// crash, never take more bytes than offered, never take a byte once done or failed, and always
// end in done or failed with an error once the reply is over (issue 15).
#include <happy_dial/core/proxy_client.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fuzzer/FuzzedDataProvider.h>
#include <memory>
#include <vector>

namespace {

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(                                                                          \
                stderr, "proxy_reply_fuzz: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                          \
        }                                                                                          \
    } while (0)

using happy_dial::core::proxy_step;

void run(happy_dial::core::proxy_client& client, FuzzedDataProvider& data) {
    // Bounded: every turn either writes, consumes at least one byte, or ends the loop.
    for (int turn = 0; turn < 100000; ++turn) {
        const auto step = client.step();
        if (step == proxy_step::write) {
            FUZZ_CHECK(!client.output().empty());
            client.written();
            continue;
        }
        if (step != proxy_step::read) {
            break;
        }
        if (data.remaining_bytes() == 0) {
            client.closed();
            FUZZ_CHECK(client.step() == proxy_step::failed);
            break;
        }
        const auto chunk = data.ConsumeIntegralInRange<std::size_t>(1, 600);
        const auto piece = data.ConsumeBytes<std::uint8_t>(chunk);
        if (piece.empty()) {
            continue;
        }
        const auto taken = client.input(std::span(piece.data(), piece.size()));
        FUZZ_CHECK(taken <= piece.size());
        FUZZ_CHECK(taken > 0);  // a reading client takes at least one byte of what arrives
        if (taken < piece.size()) {
            FUZZ_CHECK(client.step() != proxy_step::read);  // it stopped at the reply's end
        }
    }
    if (client.step() == proxy_step::failed) {
        FUZZ_CHECK(client.error());
        const std::uint8_t more[] = {1, 2, 3};
        FUZZ_CHECK(client.input(std::span(more, 3)) == 0);
    }
    if (client.step() == proxy_step::done) {
        FUZZ_CHECK(!client.error());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    FuzzedDataProvider data(bytes, size);
    const auto kind = data.ConsumeIntegralInRange<int>(0, 3);
    const auto max_reply = data.ConsumeIntegralInRange<std::size_t>(0, 4096);
    std::unique_ptr<happy_dial::core::proxy_client> client;
    switch (kind) {
        case 0:
            client = std::make_unique<happy_dial::core::socks5_client>("example.com", 443);
            break;
        case 1:
            client =
                std::make_unique<happy_dial::core::socks5_client>("192.0.2.1", 80, "user", "pw");
            break;
        case 2:
            client = std::make_unique<happy_dial::core::http_connect_client>(
                "example.com", 443, "", "", max_reply);
            break;
        default:
            client = std::make_unique<happy_dial::core::http_connect_client>(
                "2001:db8::1", 443, "user", "pw", max_reply);
            break;
    }
    run(*client, data);
    return 0;
}
