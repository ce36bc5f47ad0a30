// The sans-I/O engine alone (no sockets, a simulated clock): cost per dial and per event as the
// address count grows. The addresses are ::1 and 127.0.0.1 on distinct ports (never dialled).
#include "bench_support.hpp"

#include <happy_dial/core/dial_engine.hpp>
#include <happy_dial/error.hpp>

#include <boost/asio/error.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <optional>
#include <variant>
#include <vector>

namespace {

using namespace happy_dial::bench;
namespace core = happy_dial::core;
using namespace std::chrono_literals;

std::vector<core::endpoint> addresses(std::size_t n) {
    std::vector<core::endpoint> eps;
    eps.reserve(n);
    for (std::size_t k = 0; k < n; ++k) {
        const auto port = static_cast<unsigned short>(1 + k / 2);
        eps.emplace_back(k % 2 == 0 ? loopback_v6 : loopback_v4, port);
    }
    return eps;
}

enum class scenario {
    /// The first attempt connects at once (the healthy path with n addresses queued).
    first_wins,
    /// Every attempt is refused at once: n attempts, each failure starts the next (10 ms floor).
    all_refused,
    /// Nothing answers: the stagger timer starts every attempt (all n run at once, with a
    /// per-attempt timeout armed), then the last one connects and n-1 are cancelled.
    stagger_last_wins,
};

struct outcome {
    std::size_t events = 0;
    std::size_t actions = 0;
    bool done = false;
};

// Drives one dial to its end; every loop is bounded by the address count.
outcome run_dial(const core::engine_config& config,
                 const std::vector<core::endpoint>& eps,
                 scenario s) {
    core::dial_engine engine(config);
    core::time_point now{};
    outcome out;
    core::time_point timer_at{};
    bool timer = false;
    std::vector<core::attempt_id> started;
    std::size_t reported = 0;
    const std::size_t n = eps.size();

    auto drain = [&] {
        while (auto a = engine.next_action()) {
            ++out.actions;
            if (auto* st = std::get_if<core::start_attempt>(&*a)) {
                started.push_back(st->id);
            } else if (auto* t = std::get_if<core::set_timer>(&*a)) {
                timer = true;
                timer_at = t->at;
            } else if (std::holds_alternative<core::cancel_timer>(*a)) {
                timer = false;
            } else if (std::holds_alternative<core::dial_done>(*a)) {
                out.done = true;
            }
        }
    };

    engine.start_with_endpoints(now, eps);
    ++out.events;
    drain();
    const std::size_t bound = 4 * n + 16;
    for (std::size_t step = 0; step < bound && !out.done; ++step) {
        now += 1ms;
        switch (s) {
            case scenario::first_wins:
                engine.on_attempt_result(now, started.at(0), {});
                break;
            case scenario::all_refused:
                if (reported < started.size()) {
                    engine.on_attempt_result(
                        now, started[reported++], boost::asio::error::connection_refused);
                } else if (timer) {
                    now = std::max(now, timer_at);
                    engine.on_timer(now);
                }
                break;
            case scenario::stagger_last_wins:
                if (started.size() == n) {
                    engine.on_attempt_result(now, started.back(), {});
                } else if (timer) {
                    now = std::max(now, timer_at);
                    engine.on_timer(now);
                }
                break;
        }
        ++out.events;
        drain();
    }
    return out;
}

void engine_bench(benchmark::State& state, scenario s) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto eps = addresses(n);
    core::engine_config config;
    if (s == scenario::stagger_last_wins) {
        config.attempt_timeout = std::chrono::hours(1);  // armed for every running attempt
    }
    outcome last;
    for (auto _ : state) {
        last = run_dial(config, eps, s);
        benchmark::DoNotOptimize(last);
    }
    if (!last.done) {
        state.SkipWithError("the dial did not finish");
        return;
    }
    const double iterations = static_cast<double>(state.iterations());
    state.counters["addresses"] = static_cast<double>(n);
    state.counters["events_per_dial"] = static_cast<double>(last.events);
    state.counters["actions_per_dial"] = static_cast<double>(last.actions);
    // Seconds per event / per address (Google Benchmark divides by the elapsed time, inverted).
    state.counters["time_per_event"] =
        benchmark::Counter(static_cast<double>(last.events) * iterations,
                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["time_per_address"] =
        benchmark::Counter(static_cast<double>(n) * iterations,
                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

}  // namespace

int main(int argc, char** argv) {
    parse_quick_flag(argc, argv);
    const bool quick = quick_mode();
    const struct {
        const char* name;
        scenario s;
    } scenarios[] = {{"engine_first_wins", scenario::first_wins},
                     {"engine_all_refused", scenario::all_refused},
                     {"engine_stagger_last_wins", scenario::stagger_last_wins}};
    for (const auto& sc : scenarios) {
        auto* b = benchmark::RegisterBenchmark(sc.name, engine_bench, sc.s);
        for (int n : {1, 2, 8, 64, 512, 4096}) {
            b->Arg(n);
        }
        b->Unit(benchmark::kMicrosecond);
        if (quick) {
            b->Iterations(1);
        }
    }
    return run_benchmarks(argc, argv);
}
