// libFuzzer target: arbitrary option values and event sequences fed to core::dial_engine, with
// the engine's contract checked after every event (docs/design.md §3-§5):
//
//  * validate() accepts exactly the documented ranges and names the bad option's error;
//  * start_attempt ids are dense; targets are dialable, allowed by the family policy and the
//    filter, were answered, never tried twice; starts are >= 10 ms apart, never beyond the
//    concurrency cap, never after a partial cancel, never at or past the deadline;
//  * cancel_attempt names a running attempt; set_timer asks for a time strictly after now (no
//    busy loop) and not past the deadline; cancel_timer only cancels an armed timer;
//  * exactly one dial_done, the last action ever; a winner only as the answer to its success;
//    when it comes, no attempt runs and no timer is armed; the trace agrees (F.29 error);
//  * liveness: driven on (timers fired, attempts failed, answers given), the engine finishes.
//
// Any violation aborts, which libFuzzer reports with the input that caused it.
#include <happy_dial/core/dial_engine.hpp>
#include <happy_dial/error.hpp>

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

bool allowed_by_policy(family_preference p, const endpoint& ep) {
    if (p == family_preference::ipv6_only) {
        return ep.address().is_v6();
    }
    if (p == family_preference::ipv4_only) {
        return ep.address().is_v4();
    }
    return true;
}

bool in_bounds(duration d, bool zero_ok) {
    return (zero_ok ? d >= duration::zero() : d > duration::zero()) && d <= limits::absurd;
}

/// Runs one engine and mirrors what its driver is allowed to believe.
class harness {
  public:
    harness(FuzzedDataProvider& in, engine_config config, std::uint8_t filter_mask)
        : in_(in), config_(config), filter_mask_(filter_mask), engine_(std::move(config)) {}

    void run() {
        const auto mode = in_.ConsumeIntegralInRange<int>(0, 3);
        if (mode == 0) {
            std::vector<endpoint> eps(in_.ConsumeIntegralInRange<int>(0, 8));
            for (auto& e : eps) {
                e = fuzz_endpoint(in_);
            }
            remember(eps);
            start_time_ = now_;
            engine_.start_with_endpoints(now_, eps);
        } else {
            std::vector<address_family> families;
            if (mode & 1) {
                families.push_back(address_family::ipv6);
            }
            if (mode & 2 || in_.ConsumeBool()) {
                families.push_back(address_family::ipv4);
            }
            for (auto f : families) {
                outstanding_.insert(f);
            }
            start_time_ = now_;
            engine_.start(now_, families);
        }
        if (config_.overall_timeout) {
            deadline_ = *start_time_ + *config_.overall_timeout;
        }
        drain(std::nullopt);

        for (int events = 0; events < 256 && in_.remaining_bytes() > 0; ++events) {
            event();
        }
        finish_off();
    }

  private:
    void event() {
        switch (in_.ConsumeIntegralInRange<int>(0, 9)) {
            case 0:  // time passes
                now_ += std::chrono::microseconds(in_.ConsumeIntegralInRange<int>(0, 3'000'000));
                break;
            case 1:  // the wake-up fires on time
                if (armed_) {
                    now_ = std::max(now_, *armed_);
                    fire_timer();
                }
                break;
            case 2:  // a spurious, early or late wake-up
                fire_timer();
                break;
            case 3:
            case 4: {  // an answer (for a query, or family-less like a range)
                resolution_answer a;
                const auto which = in_.ConsumeIntegralInRange<int>(0, 2);
                if (which < 2) {
                    a.family = which == 0 ? address_family::ipv6 : address_family::ipv4;
                    outstanding_.erase(*a.family);
                }
                a.endpoints.resize(in_.ConsumeIntegralInRange<int>(0, 6));
                for (auto& e : a.endpoints) {
                    e = fuzz_endpoint(in_);
                }
                if (in_.ConsumeIntegralInRange<int>(0, 4) == 0) {
                    a.error = fuzz_error(in_);
                }
                remember(a.endpoints);
                engine_.on_answer(now_, a);
                drain(std::nullopt);
                break;
            }
            case 5:
            case 6: {  // an attempt's outcome: usually a running one, sometimes stale or unknown
                attempt_id id = in_.ConsumeIntegralInRange<attempt_id>(0, 12);
                if (!running_.empty() && in_.ConsumeBool()) {
                    id =
                        *std::next(running_.begin(),
                                   in_.ConsumeIntegralInRange<std::size_t>(0, running_.size() - 1));
                }
                const bool success = in_.ConsumeBool();
                report(id, success ? error_code{} : fuzz_error(in_));
                break;
            }
            case 7:
                cancel(in_.ConsumeBool() ? cancel_kind::terminal : cancel_kind::partial);
                break;
            case 8:  // a second start is ignored
                engine_.start(now_, {address_family::ipv4});
                engine_.start_with_endpoints(now_, {fuzz_endpoint(in_)});
                drain(std::nullopt);
                break;
            default:
                now_ += std::chrono::milliseconds(in_.ConsumeIntegralInRange<int>(0, 30));
                break;
        }
    }

    void fire_timer() {
        if (armed_ && now_ >= *armed_) {
            armed_.reset();  // a fired wake-up is spent
        }
        engine_.on_timer(now_);
        drain(std::nullopt);
    }

    void report(attempt_id id, error_code ec) {
        const bool was_running = running_.count(id) > 0;
        if (was_running) {
            running_.erase(id);
        }
        engine_.on_attempt_result(now_, id, ec);
        drain(was_running && !ec ? std::optional<attempt_id>(id) : std::nullopt);
    }

    void cancel(cancel_kind kind) {
        engine_.cancel(now_, kind);
        if (kind == cancel_kind::partial && !done_) {
            partially_cancelled_ = true;
        }
        drain(std::nullopt);
    }

    // Liveness: keep the dial going the way a network eventually would; it must finish.
    void finish_off() {
        for (int i = 0; i < 10000 && !done_; ++i) {
            if (armed_) {
                now_ = std::max(now_, *armed_);
                fire_timer();
            } else if (!running_.empty()) {
                report(*running_.begin(), boost::asio::error::connection_refused);
            } else if (!outstanding_.empty()) {
                const auto f = *outstanding_.begin();
                outstanding_.erase(f);
                engine_.on_answer(now_, resolution_answer{f, {}, {}});
                drain(std::nullopt);
            } else {
                // Nothing running, no timer, every answer in: it must have finished.
                FUZZ_CHECK(done_);
            }
        }
        FUZZ_CHECK(done_);
        FUZZ_CHECK(engine_.done());
        FUZZ_CHECK(!engine_.next_action());
        // Events after the end are ignored.
        engine_.on_timer(now_ + 1h);
        engine_.cancel(now_, cancel_kind::terminal);
        engine_.on_attempt_result(now_, 0, {});
        engine_.on_answer(now_, resolution_answer{address_family::ipv4, {fuzz_endpoint(in_)}, {}});
        FUZZ_CHECK(!engine_.next_action());
    }

    void remember(const std::vector<endpoint>& eps) { answered_.insert(eps.begin(), eps.end()); }

    bool filter(const endpoint& ep) const {
        return ((filter_mask_ >> (ep.address().is_v6() ? 4 : 0)) >> (ep.port() % 4) & 1) == 0;
    }

    // Takes every queued action and checks it against the contract.
    void drain(std::optional<attempt_id> just_succeeded) {
        while (auto a = engine_.next_action()) {
            FUZZ_CHECK(!done_);  // nothing after dial_done
            if (auto* s = std::get_if<start_attempt>(&*a)) {
                FUZZ_CHECK(s->id == starts_);
                ++starts_;
                FUZZ_CHECK(is_dialable(s->target));
                FUZZ_CHECK(allowed_by_policy(config_.preference, s->target));
                FUZZ_CHECK(!config_.endpoint_filter || filter(s->target));
                FUZZ_CHECK(answered_.count(s->target) == 1);
                FUZZ_CHECK(tried_.insert(s->target).second);  // never twice (§4 duplicates)
                FUZZ_CHECK(!partially_cancelled_);
                FUZZ_CHECK(!last_start_ || now_ >= *last_start_ + limits::min_attempt_delay);
                FUZZ_CHECK(!deadline_ || now_ < *deadline_);
                last_start_ = now_;
                running_.insert(s->id);
                FUZZ_CHECK(config_.max_concurrent_attempts == 0 ||
                           running_.size() <= config_.max_concurrent_attempts);
            } else if (auto* c = std::get_if<cancel_attempt>(&*a)) {
                FUZZ_CHECK(running_.erase(c->id) == 1);
            } else if (auto* t = std::get_if<set_timer>(&*a)) {
                FUZZ_CHECK(t->at > now_);  // a wake-up at or before now would spin
                FUZZ_CHECK(!deadline_ || t->at <= *deadline_);
                armed_ = t->at;
            } else if (std::get_if<cancel_timer>(&*a)) {
                FUZZ_CHECK(armed_);
                armed_.reset();
            } else {
                const auto& d = std::get<dial_done>(*a);
                done_ = true;
                check_done(d, just_succeeded);
            }
        }
    }

    void check_done(const dial_done& d, std::optional<attempt_id> just_succeeded) {
        FUZZ_CHECK(running_.empty());
        FUZZ_CHECK(!armed_);
        const auto& trace = engine_.trace();
        FUZZ_CHECK(trace.attempts.size() == starts_);
        for (const auto& r : trace.attempts) {
            FUZZ_CHECK(r.outcome != attempt_outcome::pending);
            FUZZ_CHECK(r.ended);
            FUZZ_CHECK((r.outcome == attempt_outcome::won) == (d.winner && *d.winner == r.id));
            FUZZ_CHECK(r.outcome == attempt_outcome::won || r.error);
        }
        if (d.winner) {
            FUZZ_CHECK(!d.error);
            FUZZ_CHECK(just_succeeded && *just_succeeded == *d.winner);
            return;
        }
        FUZZ_CHECK(d.error);
        if (d.error == boost::asio::error::operation_aborted || d.error == error::timed_out) {
            return;  // a cancel or the deadline (the first attempt may have failed this way too)
        }
        // F.29: the first attempt's error; with none, why no address was left.
        for (const auto& r : trace.attempts) {
            if (r.error) {
                FUZZ_CHECK(d.error == r.error);
                return;
            }
        }
        FUZZ_CHECK(trace.attempts.empty());
    }

    FuzzedDataProvider& in_;
    engine_config config_;
    std::uint8_t filter_mask_;
    dial_engine engine_;
    time_point now_ = time_point{} + 1h;
    std::optional<time_point> start_time_;
    std::optional<time_point> deadline_;
    std::optional<time_point> armed_;
    std::optional<time_point> last_start_;
    std::set<attempt_id> running_;
    std::set<address_family> outstanding_;
    std::set<endpoint> answered_;
    std::set<endpoint> tried_;
    std::size_t starts_ = 0;
    bool partially_cancelled_ = false;
    bool done_ = false;
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
    harness h(in, std::move(config), filter_mask);
    h.run();
    return 0;
}
