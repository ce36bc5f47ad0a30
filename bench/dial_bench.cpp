// happy_dial::async_dial against plain asio::async_connect on loopback: healthy single and dual
// stack latency, heap allocations per dial, 10,000 concurrent dials, and cancellation cost. As
// root, also the healthy dual-stack dial over a veth pair between two network namespaces that the
// benchmark creates and deletes (issue 12: does the deferred-timer shortcut pay off there?).
//
// Every figure is a ratio against plain asio::async_connect measured in the same run: the two
// are interleaved dial by dial (alternating which goes first) on the same io_context and the
// same listeners, so drift of the shared machine hits both alike. The figures are Google
// Benchmark user counters; bench/report.py turns the JSON into tables and plots.
#include "bench_support.hpp"

#include <happy_dial/happy_dial.hpp>
#include <happy_dial/transport.hpp>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/steady_timer.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fcntl.h>
#include <malloc.h>
#include <memory>
#include <optional>
#include <sched.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

using namespace happy_dial::bench;
using results_type = tcp::resolver::results_type;
using boost::system::error_code;

results_type make_results(const std::vector<tcp::endpoint>& eps) {
    return results_type::create(eps.begin(), eps.end(), "localhost", "bench");
}

// One plain dial + close: asio::async_connect over resolver results, the handler closes the
// socket. Returns the wall time in ns, or a negative value on failure.
double plain_dial(asio::io_context& ctx, const results_type& results) {
    bool ok = false;
    const auto t0 = bench_clock::now();
    tcp::socket socket(ctx);
    asio::async_connect(socket, results, [&](error_code ec, const tcp::endpoint&) {
        ok = !ec;
        socket.close();
    });
    ctx.run();
    const auto t1 = bench_clock::now();
    ctx.restart();
    return ok ? ns_since(t0, t1) : -1.0;
}

// The same with happy_dial::async_dial over the same resolver results.
double happy_dial_once(asio::io_context& ctx,
                       const results_type& results,
                       const happy_dial::dial_options& options) {
    bool ok = false;
    const auto t0 = bench_clock::now();
    happy_dial::async_dial(ctx, results, options, [&](error_code ec, tcp::socket socket) {
        ok = !ec;
        socket.close();
    });
    ctx.run();
    const auto t1 = bench_clock::now();
    ctx.restart();
    return ok ? ns_since(t0, t1) : -1.0;
}

// Accepts (and closes) the connections the last dial made; returns how many there were.
std::size_t collect(std::vector<std::unique_ptr<accepting_listener>>& listeners) {
    std::size_t n = 0;
    for (int round = 0; round < 1000 && n == 0; ++round) {  // bounded: ~1 s at most
        for (auto& l : listeners) {
            n += l->drain(std::chrono::milliseconds(0));
        }
        if (n == 0) {
            listeners.front()->drain(std::chrono::milliseconds(1), 0);
        }
    }
    return n;
}

// A listener set: `ports` listener ports per family. Dials rotate over them so that no
// destination sees more than a fraction of the connects (TIME_WAIT / ephemeral ports).
struct targets {
    std::vector<std::unique_ptr<accepting_listener>> listeners;
    std::vector<results_type> rotation;  // one resolver result set per port group

    targets(bool dual, int ports) {
        for (int i = 0; i < ports; ++i) {
            std::vector<tcp::endpoint> eps;
            if (dual) {
                listeners.push_back(std::make_unique<accepting_listener>(loopback_v6));
                eps.push_back(listeners.back()->endpoint());
            }
            listeners.push_back(std::make_unique<accepting_listener>(loopback_v4));
            eps.push_back(listeners.back()->endpoint());
            rotation.push_back(make_results(eps));
        }
    }
};

// ---- Healthy path: one endpoint, or ::1 and 127.0.0.1 both accepting -----------------------

// An observer that counts attempts and dials (issue 17: what a minimal metrics observer costs).
struct counting_observer final : happy_dial::dial_observer {
    std::atomic<std::uint64_t> attempts{0};
    std::atomic<std::uint64_t> dials{0};
    void attempt_started(const happy_dial::dial_event&,
                         std::size_t,
                         const happy_dial::attempt_report&) override {
        attempts.fetch_add(1, std::memory_order_relaxed);
    }
    void dial_done(const happy_dial::dial_event&, const happy_dial::dial_report&) override {
        dials.fetch_add(1, std::memory_order_relaxed);
    }
};

// `remember`: every happy_dial dial shares one dial_history (issue 14: its lookup at the start
// and its record at the end are on this path). `observe`: every dial has a counting observer.
void healthy(benchmark::State& state, bool dual, bool remember, bool observe) {
    if (dual && !has_ipv6_loopback()) {
        state.SkipWithError("no IPv6 loopback");
        return;
    }
    asio::io_context ctx;
    targets t(dual, 8);
    happy_dial::dial_options options;
    if (remember) {
        options.history = std::make_shared<happy_dial::dial_history>();
    }
    if (observe) {
        options.observer = std::make_shared<counting_observer>();
    }
    std::vector<double> plain_ns;
    std::vector<double> happy_ns;
    std::size_t plain_conns = 0;
    std::size_t happy_conns = 0;
    std::size_t i = 0;

    for (std::size_t w = 0; w < 200; ++w) {  // warm the allocator caches and the kernel
        plain_dial(ctx, t.rotation[w % t.rotation.size()]);
        collect(t.listeners);
        happy_dial_once(ctx, t.rotation[w % t.rotation.size()], options);
        collect(t.listeners);
    }
    for (auto _ : state) {
        const auto& r = t.rotation[i % t.rotation.size()];
        const bool happy_first = (i++ & 1) != 0;
        for (int k = 0; k < 2; ++k) {
            if ((k == 0) == happy_first) {
                const double ns = happy_dial_once(ctx, r, options);
                happy_conns += collect(t.listeners);
                if (ns < 0) {
                    state.SkipWithError("happy_dial failed");
                    return;
                }
                happy_ns.push_back(ns);
            } else {
                const double ns = plain_dial(ctx, r);
                plain_conns += collect(t.listeners);
                if (ns < 0) {
                    state.SkipWithError("asio::async_connect failed");
                    return;
                }
                plain_ns.push_back(ns);
            }
        }
    }

    // Attempts per dial, from the dial report (a separate pass: the report costs time).
    std::size_t attempts = 0;
    const std::size_t report_dials = quick_mode() ? 5 : 200;
    for (std::size_t k = 0; k < report_dials; ++k) {
        happy_dial::dial_report report;
        auto with_report = options;
        with_report.report = &report;
        happy_dial_once(ctx, t.rotation[k % t.rotation.size()], with_report);
        collect(t.listeners);
        attempts += report.attempts.size();
    }

    const double dials = static_cast<double>(happy_ns.size());
    state.counters["happy_connections_per_dial"] = static_cast<double>(happy_conns) / dials;
    state.counters["plain_connections_per_dial"] =
        static_cast<double>(plain_conns) / static_cast<double>(plain_ns.size());
    state.counters["happy_attempts_per_dial"] =
        static_cast<double>(attempts) / static_cast<double>(report_dials);
    publish_comparison(state, std::move(plain_ns), std::move(happy_ns));
}

// ---- Heap allocations per dial, as the address count grows ---------------------------------

// `n` endpoints; the first is an accepting listener, so each dial makes exactly one attempt.
// The rest are 127.0.0.x addresses that are never tried (they stay queued behind the winner).
void allocations(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    asio::io_context ctx;
    std::vector<std::unique_ptr<accepting_listener>> listeners;
    listeners.push_back(std::make_unique<accepting_listener>(loopback_v4));
    std::vector<tcp::endpoint> eps{listeners.front()->endpoint()};
    for (std::size_t k = 1; k < n; ++k) {
        const asio::ip::address_v4 a(0x7f000000u + 1u + static_cast<unsigned>(k));  // 127.0.x.y
        eps.emplace_back(a, listeners.front()->endpoint().port());
    }
    const auto results = make_results(eps);
    const happy_dial::dial_options options;

    struct tally_pair {
        heap_counts heap;
        allocation_counters assoc;
    };
    auto run_plain = [&](allocation_counters& tally) {
        tcp::socket socket(ctx);
        asio::async_connect(
            socket,
            results,
            asio::bind_allocator(counting_allocator<void>(&tally),
                                 [&](error_code, const tcp::endpoint&) { socket.close(); }));
        ctx.run();
        ctx.restart();
    };
    auto run_happy = [&](allocation_counters& tally) {
        happy_dial::async_dial(
            ctx,
            results,
            options,
            asio::bind_allocator(counting_allocator<void>(&tally),
                                 [](error_code, tcp::socket socket) { socket.close(); }));
        ctx.run();
        ctx.restart();
    };
    for (int w = 0; w < 50; ++w) {
        allocation_counters ignored;
        run_plain(ignored);
        collect(listeners);
        run_happy(ignored);
        collect(listeners);
    }
    double plain_new = 0, plain_bytes = 0, plain_assoc = 0, plain_assoc_bytes = 0;
    double happy_new = 0, happy_bytes = 0, happy_assoc = 0, happy_assoc_bytes = 0;
    std::size_t dials = 0;
    for (auto _ : state) {
        allocation_counters tp;
        heap_counting(true);
        const auto p0 = heap_snapshot();
        run_plain(tp);
        const auto p1 = heap_snapshot();
        heap_counting(false);
        collect(listeners);
        allocation_counters th;
        heap_counting(true);
        const auto h0 = heap_snapshot();
        run_happy(th);
        const auto h1 = heap_snapshot();
        heap_counting(false);
        collect(listeners);
        plain_new += static_cast<double>(p1.allocations - p0.allocations);
        plain_bytes += static_cast<double>(p1.bytes - p0.bytes);
        plain_assoc += static_cast<double>(tp.allocations);
        plain_assoc_bytes += static_cast<double>(tp.bytes);
        happy_new += static_cast<double>(h1.allocations - h0.allocations);
        happy_bytes += static_cast<double>(h1.bytes - h0.bytes);
        happy_assoc += static_cast<double>(th.allocations);
        happy_assoc_bytes += static_cast<double>(th.bytes);
        ++dials;
    }
    const double d = static_cast<double>(dials);
    state.counters["addresses"] = static_cast<double>(n);
    state.counters["plain_new_per_dial"] = plain_new / d;
    state.counters["plain_new_bytes_per_dial"] = plain_bytes / d;
    state.counters["plain_assoc_allocs_per_dial"] = plain_assoc / d;
    state.counters["plain_assoc_bytes_per_dial"] = plain_assoc_bytes / d;
    state.counters["happy_new_per_dial"] = happy_new / d;
    state.counters["happy_new_bytes_per_dial"] = happy_bytes / d;
    state.counters["happy_assoc_allocs_per_dial"] = happy_assoc / d;
    state.counters["happy_assoc_bytes_per_dial"] = happy_assoc_bytes / d;
}

// ---- 10,000 dials in flight on one io_context ---------------------------------------------

void concurrency(benchmark::State& state) {
    const std::size_t wanted = quick_mode() ? 200 : static_cast<std::size_t>(state.range(0));
    const std::size_t limit = raise_fd_limit(wanted + 1024);
    const std::size_t dials = limit > 1024 ? std::min(wanted, limit - 1024) : 0;
    if (dials == 0) {
        state.SkipWithError("RLIMIT_NOFILE too low");
        return;
    }
    // somaxconn caps each backlog (4096 on Debian): enough listeners that no accept queue fills.
    const std::size_t listener_count = dials / 1024 + 2;
    asio::io_context ctx;
    std::vector<std::unique_ptr<accepting_listener>> listeners;
    std::vector<tcp::endpoint> eps;
    for (std::size_t k = 0; k < listener_count; ++k) {
        listeners.push_back(std::make_unique<accepting_listener>(loopback_v4));
        eps.push_back(listeners.back()->endpoint());
    }
    std::vector<results_type> results;
    for (const auto& e : eps) {
        results.push_back(make_results({e}));
    }
    const happy_dial::dial_options options;
    auto drain = [&] {
        std::size_t n = 0;
        for (auto& l : listeners) {
            n += l->drain(std::chrono::milliseconds(0));
        }
        return n;
    };

    struct batch {
        double ns = 0;
        double rss_per_dial = 0;
        double heap_per_dial = 0;
        std::size_t ok = 0;
    };
    // Starts all dials, measures memory while they are pending, runs them to completion.
    auto run_batch = [&](bool happy) {
        batch b;
        std::vector<tcp::socket> plain_sockets;
        plain_sockets.reserve(dials);
        ::malloc_trim(0);
        const auto rss0 = rss_bytes();
        heap_counting(true);
        const auto heap0 = heap_snapshot();
        const auto t0 = bench_clock::now();
        for (std::size_t k = 0; k < dials; ++k) {
            const auto& r = results[k % results.size()];
            if (happy) {
                happy_dial::async_dial(ctx, r, options, [&b](error_code ec, tcp::socket s) {
                    b.ok += !ec;
                    s.close();
                });
            } else {
                auto& s = plain_sockets.emplace_back(ctx);
                asio::async_connect(s, r, [&b, &s](error_code ec, const tcp::endpoint&) {
                    b.ok += !ec;
                    s.close();
                });
            }
        }
        const auto t1 = bench_clock::now();
        const auto heap1 = heap_snapshot();
        heap_counting(false);
        const auto rss1 = rss_bytes();
        const auto t2 = bench_clock::now();
        ctx.run();
        const auto t3 = bench_clock::now();
        ctx.restart();
        b.ns = ns_since(t0, t1) + ns_since(t2, t3);
        b.rss_per_dial =
            (static_cast<double>(rss1) - static_cast<double>(rss0)) / static_cast<double>(dials);
        b.heap_per_dial =
            static_cast<double>(heap1.live_bytes - heap0.live_bytes) / static_cast<double>(dials);
        return b;
    };

    std::vector<double> plain_ns, happy_ns, plain_rss, happy_rss, plain_heap, happy_heap;
    std::size_t i = 0;
    std::size_t accepted = 0;
    std::size_t expected = 0;
    for (auto _ : state) {
        const bool happy_first = (i++ & 1) != 0;
        for (int k = 0; k < 2; ++k) {
            const bool happy = (k == 0) == happy_first;
            const batch b = run_batch(happy);
            accepted += drain();
            expected += dials;
            if (b.ok != dials) {
                state.SkipWithError("a dial failed");
                return;
            }
            (happy ? happy_ns : plain_ns).push_back(b.ns);
            (happy ? happy_rss : plain_rss).push_back(b.rss_per_dial);
            (happy ? happy_heap : plain_heap).push_back(b.heap_per_dial);
        }
    }
    const double plain_t = quantile(plain_ns, 0.5);
    const double happy_t = quantile(happy_ns, 0.5);
    state.counters["dials"] = static_cast<double>(dials);
    state.counters["plain_total_ms"] = plain_t / 1e6;
    state.counters["happy_total_ms"] = happy_t / 1e6;
    state.counters["ratio_total"] = happy_t / plain_t;
    state.counters["plain_rss_per_pending_dial_B"] = quantile(plain_rss, 0.5);
    state.counters["happy_rss_per_pending_dial_B"] = quantile(happy_rss, 0.5);
    state.counters["plain_heap_per_pending_dial_B"] = quantile(plain_heap, 0.5);
    state.counters["happy_heap_per_pending_dial_B"] = quantile(happy_heap, 0.5);
    state.counters["accepted_per_dial"] =
        expected ? static_cast<double>(accepted) / static_cast<double>(expected) : 0.0;
}

// ---- Cancellation: a dial racing 4 black-holed endpoints, cancelled -------------------------

void cancellation(benchmark::State& state) {
    asio::io_context ctx;
    const bool v6 = has_ipv6_loopback();
    std::vector<std::unique_ptr<black_hole>> holes;
    std::vector<tcp::endpoint> eps;
    for (int k = 0; k < 4; ++k) {
        holes.push_back(
            std::make_unique<black_hole>((v6 && k % 2 == 0) ? loopback_v6 : loopback_v4));
        eps.push_back(holes.back()->endpoint());
    }
    const auto results = make_results(eps);
    std::size_t started = 0;
    happy_dial::dial_options options;
    options.connection_attempt_delay = std::chrono::milliseconds(10);  // all 4 racing by 30 ms
    options.socket_setup = [&started](tcp::socket&, const tcp::endpoint&, error_code&) {
        ++started;
    };

    // Starts a dial, cancels it (terminal) 50 ms later; returns ns from emit() to completion.
    auto one = [&](bool happy) {
        asio::cancellation_signal signal;
        bench_clock::time_point emitted{}, completed{};
        error_code result;
        tcp::socket plain_socket(ctx);
        if (happy) {
            happy_dial::async_dial(
                ctx,
                results,
                options,
                asio::bind_cancellation_slot(signal.slot(), [&](error_code ec, tcp::socket) {
                    completed = bench_clock::now();
                    result = ec;
                }));
        } else {
            asio::async_connect(plain_socket,
                                results,
                                asio::bind_cancellation_slot(
                                    signal.slot(), [&](error_code ec, const tcp::endpoint&) {
                                        completed = bench_clock::now();
                                        result = ec;
                                    }));
        }
        asio::steady_timer timer(ctx, std::chrono::milliseconds(50));
        timer.async_wait([&](error_code) {
            emitted = bench_clock::now();
            signal.emit(asio::cancellation_type::terminal);
        });
        ctx.run();
        ctx.restart();
        return result == asio::error::operation_aborted ? ns_since(emitted, completed) : -1.0;
    };

    one(true);
    one(false);
    started = 0;
    std::vector<double> plain_ns, happy_ns;
    std::size_t i = 0;
    for (auto _ : state) {
        const bool happy_first = (i++ & 1) != 0;
        for (int k = 0; k < 2; ++k) {
            const bool happy = (k == 0) == happy_first;
            const double ns = one(happy);
            if (ns < 0) {
                state.SkipWithError("the dial did not end with operation_aborted");
                return;
            }
            (happy ? happy_ns : plain_ns).push_back(ns);
        }
    }
    const double p = quantile(plain_ns, 0.5);
    const double h = quantile(happy_ns, 0.5);
    state.counters["plain_cancel_median_ns"] = p;
    state.counters["happy_cancel_median_ns"] = h;
    state.counters["ratio_median"] = h / p;
    state.counters["happy_attempts_racing"] =
        static_cast<double>(started) / static_cast<double>(happy_ns.size());
}

// ---- The deferred-timer shortcut over a veth pair (issue 12) --------------------------------
//
// On loopback the handshake completes inside connect(), so system_network's async_connect says
// `settled` and the dial skips arming its attempt timer. Here the dual-stack healthy dial goes
// over a veth pair between two network namespaces instead, with four arms interleaved dial by
// dial: plain asio::async_connect, happy_dial with the default transport, and happy_dial through
// two forwarding transports that differ only in what async_connect returns: one passes on
// system_network's answer (and counts it: the "probe" counters), the other always says `pending`
// (the timer is always armed: "no_probe"). The namespaces are this process's own: created before,
// deleted after, and nothing is sent outside them.

// Runs `command` through the shell with its output discarded; true when it exited with 0.
bool run_quiet(const std::string& command) {
    const int status = std::system((command + " >/dev/null 2>&1").c_str());
    return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Namespace names: hd-veth-c-PID (client) and hd-veth-s-PID (server).
std::string veth_namespace(char side, long pid) {
    return std::string("hd-veth-") + side + "-" + std::to_string(pid);
}

// Deletes the hd-veth-* namespaces whose process is gone (a run that was killed), and any that
// carry this process's id (a reused pid). Another live run's namespaces are left alone.
void remove_stale_veth_namespaces() {
    FILE* list = ::popen("ip netns list 2>/dev/null", "r");
    if (list == nullptr) {
        return;
    }
    std::vector<std::string> stale;
    std::array<char, 256> line{};
    for (int n = 0; n < 10000 && std::fgets(line.data(), static_cast<int>(line.size()), list);
         ++n) {
        std::string name(line.data());
        name = name.substr(0, name.find_first_of(" \n"));
        if (name.size() < 11 || name.rfind("hd-veth-", 0) != 0 || name[9] != '-' ||
            (name[8] != 'c' && name[8] != 's')) {
            continue;
        }
        const long pid = std::strtol(name.c_str() + 10, nullptr, 10);
        if (pid > 0 &&
            (pid == ::getpid() || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH))) {
            stale.push_back(name);
        }
    }
    ::pclose(list);
    for (const auto& name : stale) {
        run_quiet("ip netns del " + name);
    }
}

// Two namespaces joined by a veth pair: client fd00:8305::1 and 10.83.5.1, server
// fd00:8305::2 and 10.83.5.2. Deleted (with the pair) on destruction, also after a failed setup.
class veth_namespaces {
  public:
    static constexpr const char* client_v6 = "fd00:8305::1";
    static constexpr const char* server_v6 = "fd00:8305::2";
    static constexpr const char* client_v4 = "10.83.5.1";
    static constexpr const char* server_v4 = "10.83.5.2";

    veth_namespaces()
        : client_(veth_namespace('c', ::getpid())), server_(veth_namespace('s', ::getpid())) {
        remove_stale_veth_namespaces();
        const std::string c = "ip -n " + client_ + " ";
        const std::string s = "ip -n " + server_ + " ";
        const std::string cdev = "hdvc" + std::to_string(::getpid());  // <= 15 characters
        const std::string sdev = "hdvs" + std::to_string(::getpid());
        const std::string steps[] = {
            "ip netns add " + client_,
            "ip netns add " + server_,
            "ip link add " + cdev + " netns " + client_ + " type veth peer name " + sdev +
                " netns " + server_,
            c + "addr add " + client_v6 + "/64 dev " + cdev + " nodad",
            s + "addr add " + server_v6 + "/64 dev " + sdev + " nodad",
            c + "addr add " + client_v4 + "/24 dev " + cdev,
            s + "addr add " + server_v4 + "/24 dev " + sdev,
            c + "link set lo up",
            s + "link set lo up",
            c + "link set " + cdev + " up",
            s + "link set " + sdev + " up",
            // As loopback has by default (tcp_tw_reuse=2): the client's TIME_WAIT ports reused.
            "ip netns exec " + client_ + " sh -c 'echo 1 > /proc/sys/net/ipv4/tcp_tw_reuse'",
        };
        for (const auto& step : steps) {
            if (!run_quiet(step)) {
                error_ = "veth setup failed: " + step;
                return;
            }
        }
    }
    ~veth_namespaces() {
        run_quiet("ip netns del " + client_);
        run_quiet("ip netns del " + server_);
    }
    veth_namespaces(const veth_namespaces&) = delete;
    veth_namespaces& operator=(const veth_namespaces&) = delete;

    const std::string& client() const { return client_; }
    const std::string& server() const { return server_; }
    /// Empty when the setup succeeded.
    const std::string& error() const { return error_; }

  private:
    std::string client_;
    std::string server_;
    std::string error_;
};

// Moves the calling thread into the named network namespace, and back on destruction. A
// socket stays in the namespace it was created in.
class netns_scope {
  public:
    explicit netns_scope(const std::string& name)
        : home_(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
        const int target = ::open(("/var/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
        entered_ = home_ >= 0 && target >= 0 && ::setns(target, CLONE_NEWNET) == 0;
        if (target >= 0) {
            ::close(target);
        }
    }
    ~netns_scope() {
        if (entered_ && ::setns(home_, CLONE_NEWNET) != 0) {
            std::fputs("bench_dial: cannot return to the original network namespace\n", stderr);
            std::abort();  // the remaining benchmarks would run in the wrong namespace
        }
        if (home_ >= 0) {
            ::close(home_);
        }
    }
    netns_scope(const netns_scope&) = delete;
    netns_scope& operator=(const netns_scope&) = delete;
    bool entered() const { return entered_; }

  private:
    int home_;
    bool entered_ = false;
};

// system_network behind another dial_transport. `shortcut`: async_connect passes on what
// system_network says (settled when connect() already decided) and counts it; otherwise it says
// `pending`, as a transport that cannot tell does, and the dial always arms its attempt timer.
class forwarding_transport final : public happy_dial::dial_transport {
  public:
    explicit forwarding_transport(bool shortcut) : shortcut_(shortcut) {}
    void async_lookup(const happy_dial::lookup_query& query, answer_handler done) override {
        net_->async_lookup(query, std::move(done));
    }
    happy_dial::connect_progress async_connect(tcp::socket& socket,
                                               const tcp::endpoint& target,
                                               happy_dial::connect_completion done) override {
        const auto progress = net_->async_connect(socket, target, std::move(done));
        if (!shortcut_) {
            return happy_dial::connect_progress::pending;
        }
        ++probes;
        settled_count += progress == happy_dial::connect_progress::settled ? 1 : 0;
        return progress;
    }
    void cancel_connect(tcp::socket& socket) override { net_->cancel_connect(socket); }

    std::uint64_t probes = 0;         ///< connects seen (shortcut on)
    std::uint64_t settled_count = 0;  ///< of which connect() already decided

  private:
    happy_dial::system_network* net_ = happy_dial::system_network::instance().get();
    bool shortcut_;
};

void veth_shortcut(benchmark::State& state) {
    if (::geteuid() != 0) {
        state.SkipWithError(
            "veth benchmark: needs root (it creates two network namespaces and "
            "a veth pair); run bench_dial as root");
        return;
    }
    if (!run_quiet("command -v ip")) {
        state.SkipWithError("veth benchmark: needs the ip command (iproute2)");
        return;
    }
    const veth_namespaces net;
    if (!net.error().empty()) {
        state.SkipWithError(net.error().c_str());
        return;
    }
    // 8 port pairs per run: [fd00:8305::2]:p (first) and 10.83.5.2:q, as healthy_dual_stack.
    std::vector<std::unique_ptr<accepting_listener>> listeners;
    std::vector<results_type> rotation;
    try {
        const netns_scope in_server(net.server());
        if (!in_server.entered()) {
            state.SkipWithError(("veth benchmark: setns into " + net.server() + " failed").c_str());
            return;
        }
        for (int k = 0; k < 8; ++k) {
            listeners.push_back(std::make_unique<accepting_listener>(
                asio::ip::make_address(veth_namespaces::server_v6)));
            const auto v6 = listeners.back()->endpoint();
            listeners.push_back(std::make_unique<accepting_listener>(
                asio::ip::make_address(veth_namespaces::server_v4)));
            rotation.push_back(make_results({v6, listeners.back()->endpoint()}));
        }
    } catch (const std::exception& e) {
        state.SkipWithError((std::string("veth benchmark: listeners: ") + e.what()).c_str());
        return;
    }
    const netns_scope in_client(net.client());
    if (!in_client.entered()) {
        state.SkipWithError(("veth benchmark: setns into " + net.client() + " failed").c_str());
        return;
    }

    asio::io_context ctx;
    const auto probing = std::make_shared<forwarding_transport>(true);
    const auto not_probing = std::make_shared<forwarding_transport>(false);
    happy_dial::dial_options default_options;
    happy_dial::dial_options probe_options;
    probe_options.transport = probing;
    happy_dial::dial_options no_probe_options;
    no_probe_options.transport = not_probing;
    enum arm { plain = 0, happy_default = 1, happy_probe = 2, happy_no_probe = 3, arms = 4 };
    static constexpr const char* arm_names[arms] = {"plain", "default", "probe", "no_probe"};
    auto dial = [&](int a, const results_type& r) {
        switch (a) {
            case plain:
                return plain_dial(ctx, r);
            case happy_default:
                return happy_dial_once(ctx, r, default_options);
            case happy_probe:
                return happy_dial_once(ctx, r, probe_options);
            default:
                return happy_dial_once(ctx, r, no_probe_options);
        }
    };

    // Warm up (also the neighbour entries: the first dials wait for NDP and ARP).
    const std::size_t warmup = quick_mode() ? 5 : 200;
    for (std::size_t w = 0; w < warmup; ++w) {
        for (int a = 0; a < arms; ++a) {
            dial(a, rotation[w % rotation.size()]);
            collect(listeners);
        }
    }
    probing->probes = 0;
    probing->settled_count = 0;

    std::array<std::vector<double>, arms> ns;
    std::array<std::size_t, arms> conns{};
    std::size_t i = 0;
    for (auto _ : state) {
        const auto& r = rotation[i % rotation.size()];
        const int first = static_cast<int>(i++ % arms);  // each arm goes first in turn
        for (int k = 0; k < arms; ++k) {
            const int a = (first + k) % arms;
            const double t = dial(a, r);
            conns[static_cast<std::size_t>(a)] += collect(listeners);
            if (t < 0) {
                state.SkipWithError(
                    (std::string("veth benchmark: a dial failed (") + arm_names[a] + ")").c_str());
                return;
            }
            ns[static_cast<std::size_t>(a)].push_back(t);
        }
    }

    const double dials = static_cast<double>(ns[plain].size());
    std::array<double, arms> median{};
    for (std::size_t a = 0; a < arms; ++a) {
        auto v = ns[a];
        median[a] = quantile(v, 0.5);
        state.counters[std::string(arm_names[a]) + "_median_ns"] = median[a];
        state.counters[std::string(arm_names[a]) + "_p90_ns"] = quantile(v, 0.9);
        state.counters[std::string(arm_names[a]) + "_connections_per_dial"] =
            static_cast<double>(conns[a]) / dials;
    }
    // Ratio of medians, and the median of the per-iteration ratios (slow phases cancel out).
    auto pairwise = [&](std::size_t a, std::size_t b) {
        std::vector<double> q;
        for (std::size_t k = 0; k < ns[a].size() && k < ns[b].size(); ++k) {
            q.push_back(ns[a][k] / ns[b][k]);
        }
        return quantile(q, 0.5);
    };
    for (std::size_t a = happy_default; a < arms; ++a) {
        state.counters[std::string("ratio_") + arm_names[a]] = median[a] / median[plain];
        state.counters[std::string("ratio_pairwise_") + arm_names[a]] = pairwise(a, plain);
    }
    // The question: probe (shortcut) against no probe (timer always armed); < 1: the probe pays.
    state.counters["probe_vs_no_probe"] = median[happy_probe] / median[happy_no_probe];
    state.counters["probe_vs_no_probe_pairwise"] = pairwise(happy_probe, happy_no_probe);
    state.counters["probes_per_dial"] = static_cast<double>(probing->probes) / dials;
    state.counters["settled_fraction"] =
        probing->probes
            ? static_cast<double>(probing->settled_count) / static_cast<double>(probing->probes)
            : 0.0;
}

}  // namespace

int main(int argc, char** argv) {
    parse_quick_flag(argc, argv);
    const bool quick = quick_mode();
    auto timed = [quick](benchmark::internal::Benchmark* b, double seconds) {
        if (quick) {
            b->Iterations(2);
        } else {
            b->MinTime(seconds);
        }
        b->Unit(benchmark::kMicrosecond);
    };
    timed(benchmark::RegisterBenchmark("healthy_single", healthy, false, false, false), 4.0);
    timed(benchmark::RegisterBenchmark("healthy_dual_stack", healthy, true, false, false), 4.0);
    timed(benchmark::RegisterBenchmark("healthy_single_history", healthy, false, true, false), 4.0);
    timed(benchmark::RegisterBenchmark("healthy_dual_stack_history", healthy, true, true, false),
          4.0);
    timed(benchmark::RegisterBenchmark("healthy_single_observer", healthy, false, false, true),
          4.0);
    auto* alloc = benchmark::RegisterBenchmark("allocations", allocations);
    for (int n : {1, 2, 4, 8, 16, 64, 512}) {
        alloc->Arg(n);
    }
    alloc->Iterations(quick ? 2 : 500)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("concurrent_dials", concurrency)
        ->Arg(10000)
        ->Iterations(quick ? 1 : 6)
        ->Unit(benchmark::kMillisecond);
    // Root only (network namespaces); a fixed count, so that the namespaces are set up once.
    benchmark::RegisterBenchmark("veth_dual_stack_shortcut", veth_shortcut)
        ->Iterations(quick ? 2 : 20000)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("cancel_4_black_holes", cancellation)
        ->Iterations(quick ? 1 : 40)
        ->Unit(benchmark::kMillisecond);
    return run_benchmarks(argc, argv);
}
