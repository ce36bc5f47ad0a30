// libFuzzer target: arbitrary option values and event sequences fed to core::dial_engine through
// testing::engine_driver, stepped by hand: time jumps, wake-ups on time, early, late or
// spurious, answers (of a query or family-less, with odd and duplicate addresses, errors, service
// groups), reports on running, ended and unknown attempts, cancellations, second starts. The
// driver's testing::engine_contract checks the engine's contract on every reply (the rules are
// listed in include/happy_dial/testing/engine_contract.hpp: dense ids, usable targets never started
// twice, the 10 ms floor, the cap, cancel_attempt and timers, exactly one dial_done and nothing
// after it, the deadline, the F.29 error, progress, the trace). This file adds:
//
//  * validate() accepts exactly the documented ranges and names the bad option's error, and
//    normalize() clamps the delays;
//  * liveness: driven on (timers fired, attempts failed, answers given), the engine finishes;
//  * events after the end are ignored.
//
// Any violation aborts, which libFuzzer reports with the input that caused it.
#include <happy_dial/core/dial_engine.hpp>
#include <happy_dial/error.hpp>
#include <happy_dial/testing/engine_driver.hpp>

#include <boost/asio/error.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fuzzer/FuzzedDataProvider.h>
#include <optional>
#include <set>
#include <stdexcept>
#include <vector>

using namespace happy_dial;
using namespace happy_dial::core;
using namespace std::chrono_literals;

namespace {

#define FUZZ_CHECK(cond)                                                                      \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            std::fprintf(                                                                     \
                stderr, "engine_fuzz: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                     \
        }                                                                                     \
    } while (0)

duration fuzz_duration(FuzzedDataProvider& in) {
    switch (in.ConsumeIntegralInRange<int>(0, 5)) {
        case 0:
            return std::chrono::milliseconds(in.ConsumeIntegralInRange<int>(0, 400));
        case 1:
            return std::chrono::milliseconds(in.ConsumeIntegralInRange<int>(-5, 30));
        case 2:
            return duration(in.ConsumeIntegral<std::int64_t>());  // anything at all
        case 3:
            return limits::absurd + duration(in.ConsumeIntegralInRange<int>(-1, 1));
        case 4:
            return std::chrono::milliseconds(in.ConsumeIntegralInRange<int>(1, 5000));
        default:
            return duration(in.ConsumeIntegralInRange<std::int64_t>(-1000, 20'000'000));
    }
}

endpoint fuzz_endpoint(FuzzedDataProvider& in) {
    // A small address space so duplicates are common; some odd ones (unspecified, multicast,
    // broadcast, port 0) that must never be dialled.
    const auto pick = in.ConsumeIntegralInRange<int>(0, 15);
    const unsigned short port = in.ConsumeBool() ? 443 : in.ConsumeIntegralInRange<int>(0, 3);
    const auto low = static_cast<unsigned char>(in.ConsumeIntegralInRange<int>(0, 7));
    using boost::asio::ip::address_v4;
    using boost::asio::ip::address_v6;
    switch (pick) {
        case 0:
            return {address_v4::any(), port};
        case 1:
            return {address_v6::any(), port};
        case 2:
            return {address_v4::broadcast(), port};
        case 3:
            return {address_v4({224, 0, 0, low}), port};
        case 4: {
            address_v6::bytes_type b{};
            b[0] = 0xff;
            b[1] = 0x02;
            b[15] = low;
            return {address_v6(b), port};
        }
        default:
            if (pick % 2) {
                return {address_v4({192, 0, 2, low}), port};
            } else {
                address_v6::bytes_type b{0x20, 0x01, 0x0d, 0xb8};
                b[15] = low;
                return {address_v6(b), port};
            }
    }
}

error_code fuzz_error(FuzzedDataProvider& in) {
    static const error_code errors[] = {
        boost::asio::error::connection_refused,
        boost::asio::error::host_unreachable,
        boost::asio::error::network_unreachable,
        boost::asio::error::timed_out,
        boost::asio::error::host_not_found,
        boost::asio::error::operation_aborted,
    };
    return in.PickValueInArray(errors);
}

bool in_bounds(duration d, bool zero_ok) {
    return (zero_ok ? d >= duration::zero() : d > duration::zero()) && d <= limits::absurd;
}

/// Drives one engine by hand through testing::engine_driver, as the input says; the driver's
/// engine_contract checks every reply.
class harness {
  public:
    harness(FuzzedDataProvider& in, engine_config config) : in_(in), driver_(std::move(config)) {
        // Wake-ups and attempt results come only when the input says so.
        driver_.manual_timers().unscripted_endpoints(testing::never_answers());
    }

    void run() {
        testing::start_event start;
        const auto mode = in_.ConsumeIntegralInRange<int>(0, 3);
        if (mode == 0) {
            start.how = testing::start_event::kind::endpoints;
            start.endpoints.resize(in_.ConsumeIntegralInRange<std::size_t>(0, 8));
            for (auto& e : start.endpoints) {
                e = fuzz_endpoint(in_);
            }
        } else {
            start.how = testing::start_event::kind::expected;
            if (mode & 1) {
                start.expected.push_back(address_family::ipv6);
            }
            if (mode & 2 || in_.ConsumeBool()) {
                start.expected.push_back(address_family::ipv4);
            }
        }
        feed(start);
        for (int events = 0; events < 256 && in_.remaining_bytes() > 0; ++events) {
            event();
        }
        finish_off();
    }

  private:
    void event() {
        switch (in_.ConsumeIntegralInRange<int>(0, 9)) {
            case 0:  // time passes
                driver_.advance(
                    std::chrono::microseconds(in_.ConsumeIntegralInRange<int>(0, 3'000'000)));
                break;
            case 1:  // the wake-up fires on time
                if (const auto at = driver_.contract().armed()) {
                    driver_.run_until(*at);
                    feed(testing::timer_event{});
                }
                break;
            case 2:  // a spurious, early or late wake-up
                feed(testing::timer_event{});
                break;
            case 3:
            case 4: {  // an answer (for a query, or family-less like a range)
                resolution_answer a;
                const auto which = in_.ConsumeIntegralInRange<int>(0, 2);
                if (which < 2) {
                    a.family = which == 0 ? address_family::ipv6 : address_family::ipv4;
                }
                a.endpoints.resize(in_.ConsumeIntegralInRange<std::size_t>(0, 6));
                for (auto& e : a.endpoints) {
                    e = fuzz_endpoint(in_);
                }
                if (in_.ConsumeIntegralInRange<int>(0, 4) == 0) {
                    a.error = fuzz_error(in_);
                }
                if (in_.ConsumeIntegralInRange<int>(0, 3) == 0) {
                    // Service groups (HTTPS records), sometimes of the wrong length (ignored).
                    a.groups.resize(in_.ConsumeBool()
                                        ? a.endpoints.size()
                                        : in_.ConsumeIntegralInRange<std::size_t>(0, 6));
                    for (auto& g : a.groups) {
                        g = in_.ConsumeIntegralInRange<std::uint16_t>(0, 3);
                    }
                }
                feed(testing::answer_event{a});
                break;
            }
            case 5:
            case 6: {  // an attempt's outcome: usually a running one, sometimes stale or unknown
                attempt_id id = in_.ConsumeIntegralInRange<attempt_id>(0, 12);
                const auto running = driver_.contract().running();
                if (!running.empty() && in_.ConsumeBool()) {
                    id = running[in_.ConsumeIntegralInRange<std::size_t>(0, running.size() - 1)];
                }
                const bool success = in_.ConsumeBool();
                feed(testing::result_event{id, success ? error_code{} : fuzz_error(in_)});
                break;
            }
            case 7:
                feed(testing::cancel_event{in_.ConsumeBool() ? cancel_kind::terminal
                                                             : cancel_kind::partial});
                break;
            case 8: {  // a second start is ignored
                testing::start_event again;
                again.how = testing::start_event::kind::expected;
                again.expected = {address_family::ipv4};
                feed(again);
                again.how = testing::start_event::kind::endpoints;
                again.endpoints = {fuzz_endpoint(in_)};
                feed(again);
                break;
            }
            default:
                driver_.advance(std::chrono::milliseconds(in_.ConsumeIntegralInRange<int>(0, 30)));
                break;
        }
    }

    void feed(const testing::engine_event& e) {
        driver_.feed(e);
        if (!driver_.contract().ok()) {
            std::fprintf(stderr, "engine_fuzz: contract violated:\n%s", driver_.describe().c_str());
            std::abort();
        }
    }

    // Liveness: keep the dial going the way a network eventually would; it must finish.
    void finish_off() {
        const auto& contract = driver_.contract();
        for (int i = 0; i < 10000 && !driver_.engine().done(); ++i) {
            if (const auto at = contract.armed()) {
                driver_.run_until(*at);
                feed(testing::timer_event{});
            } else if (const auto running = contract.running(); !running.empty()) {
                feed(
                    testing::result_event{running.front(), boost::asio::error::connection_refused});
            } else if (contract.awaiting(address_family::ipv6)) {
                feed(testing::answer_event{{address_family::ipv6, {}, {}}});
            } else if (contract.awaiting(address_family::ipv4)) {
                feed(testing::answer_event{{address_family::ipv4, {}, {}}});
            } else {
                break;  // nothing runs, nothing is awaited, no wake-up: the checker said stalled
            }
        }
        FUZZ_CHECK(driver_.engine().done());
        // Events after the end are ignored (the checker flags any action).
        driver_.advance(1h);
        feed(testing::timer_event{});
        feed(testing::cancel_event{cancel_kind::terminal});
        feed(testing::result_event{0, {}});
        feed(testing::answer_event{{address_family::ipv4, {fuzz_endpoint(in_)}, {}}});
        driver_.finish();
        if (!contract.ok()) {
            std::fprintf(stderr, "engine_fuzz: contract violated:\n%s", driver_.describe().c_str());
            std::abort();
        }
    }

    FuzzedDataProvider& in_;
    testing::engine_driver driver_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    engine_config config;
    config.resolution_delay = fuzz_duration(in);
    config.connection_attempt_delay = fuzz_duration(in);
    config.preference = in.PickValueInArray({family_preference::prefer_ipv6,
                                             family_preference::prefer_ipv4,
                                             family_preference::ipv6_only,
                                             family_preference::ipv4_only});
    config.first_address_family_count = in.ConsumeBool() ? in.ConsumeIntegralInRange<unsigned>(0, 3)
                                                         : in.ConsumeIntegral<unsigned>();
    if (in.ConsumeBool()) {
        config.overall_timeout = fuzz_duration(in);
    }
    if (in.ConsumeBool()) {
        config.attempt_timeout = fuzz_duration(in);
    }
    config.max_concurrent_attempts = in.ConsumeIntegralInRange<std::size_t>(0, 3);
    const auto filter_mask = in.ConsumeIntegral<std::uint8_t>();
    const bool use_filter = in.ConsumeBool();
    const bool filter_throws = in.ConsumeBool();

    // validate() accepts exactly the documented ranges, and names the first bad option.
    const auto ec = validate(config);
    const bool delays_ok = in_bounds(config.resolution_delay, true) &&
                           in_bounds(config.connection_attempt_delay, false);
    const bool timeouts_ok =
        (!config.overall_timeout || in_bounds(*config.overall_timeout, false)) &&
        (!config.attempt_timeout || in_bounds(*config.attempt_timeout, false));
    if (!delays_ok) {
        FUZZ_CHECK(ec == error::invalid_delay);
        return 0;
    }
    if (!timeouts_ok) {
        FUZZ_CHECK(ec == error::invalid_timeout);
        return 0;
    }
    if (config.first_address_family_count == 0) {
        FUZZ_CHECK(ec == error::invalid_family_count);
        return 0;
    }
    FUZZ_CHECK(!ec);
    const auto normal = normalize(config);
    FUZZ_CHECK(normal.connection_attempt_delay >= limits::min_attempt_delay);
    FUZZ_CHECK(normal.connection_attempt_delay <= limits::max_attempt_delay);
    FUZZ_CHECK(normal.resolution_delay <= limits::max_resolution_delay);

    if (use_filter) {
        config.endpoint_filter = [filter_mask, filter_throws](const endpoint& ep) -> bool {
            const bool ok =
                ((filter_mask >> (ep.address().is_v6() ? 4 : 0)) >> (ep.port() % 4) & 1) == 0;
            if (!ok && filter_throws) {
                throw std::runtime_error("filter");  // a throwing filter refuses the endpoint
            }
            return ok;
        };
    }
    harness h(in, std::move(config));
    h.run();
    return 0;
}
