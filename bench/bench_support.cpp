#include "bench_support.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <new>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

// ---- Global operator new replacement: counts every heap allocation of the process -----------

namespace {
std::atomic<std::uint64_t> g_allocations{0};
std::atomic<std::uint64_t> g_bytes{0};
std::atomic<std::int64_t> g_live{0};
// Counting is off outside the measurement windows, so that the timed benchmarks pay only a
// relaxed load per allocation (the arm that allocates more would otherwise pay more).
std::atomic<bool> g_counting{false};

void* counted_alloc(std::size_t n, std::size_t align) {
    if (n == 0) {
        n = 1;
    }
    void* p = nullptr;
    if (align > alignof(std::max_align_t)) {
        if (::posix_memalign(&p, align, n) != 0) {
            p = nullptr;
        }
    } else {
        p = std::malloc(n);
    }
    if (p && g_counting.load(std::memory_order_relaxed)) {
        g_allocations.fetch_add(1, std::memory_order_relaxed);
        g_bytes.fetch_add(n, std::memory_order_relaxed);
        g_live.fetch_add(static_cast<std::int64_t>(::malloc_usable_size(p)),
                         std::memory_order_relaxed);
    }
    return p;
}

void counted_free(void* p) noexcept {
    if (p && g_counting.load(std::memory_order_relaxed)) {
        g_live.fetch_sub(static_cast<std::int64_t>(::malloc_usable_size(p)),
                         std::memory_order_relaxed);
    }
    std::free(p);
}

void* throwing_alloc(std::size_t n, std::size_t align) {
    if (void* p = counted_alloc(n, align)) {
        return p;
    }
    throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) {
    return throwing_alloc(n, 0);
}
void* operator new[](std::size_t n) {
    return throwing_alloc(n, 0);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    return counted_alloc(n, 0);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    return counted_alloc(n, 0);
}
void* operator new(std::size_t n, std::align_val_t a) {
    return throwing_alloc(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
    return throwing_alloc(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return counted_alloc(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return counted_alloc(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept {
    counted_free(p);
}
void operator delete[](void* p) noexcept {
    counted_free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    counted_free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    counted_free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    counted_free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    counted_free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    counted_free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    counted_free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    counted_free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    counted_free(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    counted_free(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    counted_free(p);
}

namespace happy_dial::bench {

void heap_counting(bool on) noexcept {
    g_counting.store(on, std::memory_order_relaxed);
}

heap_counts heap_snapshot() noexcept {
    return {g_allocations.load(std::memory_order_relaxed),
            g_bytes.load(std::memory_order_relaxed),
            g_live.load(std::memory_order_relaxed)};
}

accepting_listener::accepting_listener(asio::ip::address address) : acceptor_(ctx_, {address, 0}) {
    acceptor_.listen(asio::socket_base::max_listen_connections);
    acceptor_.non_blocking(true);
}

std::size_t accepting_listener::drain(std::chrono::milliseconds first_wait, std::size_t max) {
    const int fd = acceptor_.native_handle();
    std::size_t accepted = 0;
    int wait_ms = static_cast<int>(first_wait.count());
    while (accepted < max) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, accepted == 0 ? wait_ms : 0) <= 0) {
            break;
        }
        const int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) {
            break;
        }
        ::close(c);
        ++accepted;
    }
    return accepted;
}

double quantile(std::vector<double>& v, double q) {
    if (v.empty()) {
        return 0.0;
    }
    std::sort(v.begin(), v.end());
    const double pos = q * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const auto hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

void publish_distribution(benchmark::State& state,
                          const std::string& prefix,
                          std::vector<double> ns) {
    static const int points[] = {1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99};
    std::sort(ns.begin(), ns.end());
    for (int p : points) {
        char name[64];
        std::snprintf(name, sizeof name, "%s_p%02d_ns", prefix.c_str(), p);
        state.counters[name] = quantile(ns, p / 100.0);
    }
    state.counters[prefix + "_samples"] = static_cast<double>(ns.size());
}

std::size_t rss_bytes() {
    long pages = 0;
    long resident = 0;
    if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) {
            resident = 0;
        }
        std::fclose(f);
    }
    return static_cast<std::size_t>(resident) * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

std::size_t raise_fd_limit(std::size_t wanted) {
    rlimit r{};
    if (::getrlimit(RLIMIT_NOFILE, &r) != 0) {
        return 0;
    }
    if (r.rlim_cur < wanted) {
        r.rlim_cur = std::min<rlim_t>(wanted, r.rlim_max);
        ::setrlimit(RLIMIT_NOFILE, &r);
        ::getrlimit(RLIMIT_NOFILE, &r);
    }
    return static_cast<std::size_t>(r.rlim_cur);
}

namespace {
bool g_quick = false;
}

bool quick_mode() {
    return g_quick;
}

void parse_quick_flag(int& argc, char** argv) {
    int out = 1;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--hd_quick") == 0) {
            g_quick = true;
        } else {
            argv[out++] = argv[i];
        }
    }
    argc = out;
    argv[argc] = nullptr;
}

void publish_comparison(benchmark::State& state,
                        std::vector<double> plain_ns,
                        std::vector<double> happy_ns) {
    std::vector<double> pair_ratio;
    for (std::size_t k = 0; k < happy_ns.size() && k < plain_ns.size(); ++k) {
        pair_ratio.push_back(happy_ns[k] / plain_ns[k]);
    }
    std::vector<double> p = plain_ns;
    std::vector<double> h = happy_ns;
    const double plain_median = quantile(p, 0.5);
    const double happy_median = quantile(h, 0.5);
    state.counters["plain_median_ns"] = plain_median;
    state.counters["happy_median_ns"] = happy_median;
    state.counters["ratio_median"] = happy_median / plain_median;
    state.counters["ratio_pairwise_median"] = quantile(pair_ratio, 0.5);
    publish_distribution(state, "plain", std::move(plain_ns));
    publish_distribution(state, "happy", std::move(happy_ns));
}

int run_benchmarks(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

}  // namespace happy_dial::bench
