// Shared helpers of the happy_dial benchmarks: allocation counters, loopback listeners, sample
// statistics, RSS and file-descriptor limits. Loopback only: nothing here sends a packet
// anywhere but 127.0.0.1 and ::1.
#pragma once

#include "op/loopback.hpp"
#include "support/counting_allocator.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace happy_dial::bench {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using bench_clock = std::chrono::steady_clock;

// ---- Allocation counting ------------------------------------------------------------------

/// Counts of the global operator new replacement in alloc_counter.cpp (every thread).
struct heap_counts {
    std::uint64_t allocations = 0;  ///< operator new calls (all forms)
    std::uint64_t bytes = 0;        ///< bytes requested
    std::int64_t live_bytes = 0;    ///< requested minus freed (sized deletes only are exact)
};
heap_counts heap_snapshot() noexcept;
/// Turns counting on or off (off by default). Only allocations and frees made while it is on
/// are counted, so measure deltas inside one window.
void heap_counting(bool on) noexcept;

/// The tests' counting allocator: bound to a completion handler with asio::bind_allocator it
/// sees everything the operation allocates "through the associated allocator".
using test::allocation_counters;
using test::counting_allocator;

// ---- Loopback listeners -------------------------------------------------------------------

// The operation tests' loopback addresses, ::1 probe and black hole.
using test::black_hole;
using test::has_ipv6_loopback;
using test::loopback_v4;
using test::loopback_v6;

/// A listener whose kernel completes handshakes (backlog: the system's maximum, somaxconn).
/// The benchmark drains its accept queue outside the timed region with drain().
class accepting_listener {
  public:
    explicit accepting_listener(asio::ip::address address);
    tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }
    /// Accepts and closes every queued connection; waits up to `first_wait` for the first one.
    /// Returns how many were accepted (bounded by `max`).
    std::size_t drain(std::chrono::milliseconds first_wait, std::size_t max = 1u << 20);

  private:
    asio::io_context ctx_;
    tcp::acceptor acceptor_;
};

// ---- Statistics and the process ------------------------------------------------------------

/// The q-quantile (0..1) of `v` (sorted in place), by linear interpolation.
double quantile(std::vector<double>& v, double q);

/// Publishes median, quantiles and the count of `ns` samples as counters `<prefix>_p50_ns`...
void publish_distribution(benchmark::State& state,
                          const std::string& prefix,
                          std::vector<double> ns);

/// Publishes the interleaved comparison of happy_dial against plain Asio: both medians
/// (`plain_median_ns`, `happy_median_ns`), their ratio (`ratio_median`), the median of the
/// per-pair ratios (`ratio_pairwise_median`: slow phases of the machine cancel out pair by
/// pair) and both distributions.
void publish_comparison(benchmark::State& state,
                        std::vector<double> plain_ns,
                        std::vector<double> happy_ns);

/// Resident set size of this process in bytes (/proc/self/statm).
std::size_t rss_bytes();

/// Raises RLIMIT_NOFILE's soft limit to `wanted` (or the hard limit); returns the new limit.
std::size_t raise_fd_limit(std::size_t wanted);

/// True when the benchmark binary was started with --hd_quick (CTest smoke run).
bool quick_mode();
/// Takes --hd_quick out of the arguments before Google Benchmark parses them.
void parse_quick_flag(int& argc, char** argv);
/// Runs the registered benchmarks with Google Benchmark's own flags; the exit status for main.
int run_benchmarks(int argc, char** argv);

inline double ns_since(bench_clock::time_point t0, bench_clock::time_point t1) {
    return std::chrono::duration<double, std::nano>(t1 - t0).count();
}

}  // namespace happy_dial::bench
