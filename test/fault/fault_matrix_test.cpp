// The fault matrix: every scripted dial is rerun once per step with one fault injected at that
// step (Beast's fail_count "fail matrix"): a connect error, a setup-hook error, a resolver error,
// terminal and partial cancellation, deadline expiry, and the io_context stopped (then run again)
// or stopped and destroyed. Each run checks: exactly one completion with the expected error (none
// when the context is destroyed, and the handler destroyed exactly once), no descriptor beyond
// the winner's, every connect handed back, and the io_context running out of work (no timer or
// other operation left behind). Under ASan, LeakSanitizer checks that nothing leaked.
#include "catch.hpp"
#include "op/loopback.hpp"

#include <happy_dial/happy_dial.hpp>
#include <happy_dial/testing/mock_network.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace happy_dial;
using namespace happy_dial::test;
using namespace std::chrono_literals;
using core::address_family;
using std::chrono::milliseconds;
using testing::behaviour;
using testing::mock_network;

namespace {

// The errors the matrix injects: distinct from every scripted one, so a test can tell them apart.
const boost::system::error_code injected_connect_error = asio::error::network_unreachable;
const boost::system::error_code injected_setup_error = asio::error::access_denied;
const boost::system::error_code injected_lookup_error = asio::error::host_not_found_try_again;

enum class fault_kind {
    none,
    connect_error,
    setup_error,
    resolver_error,
    cancel_terminal,
    cancel_partial,
    deadline,
    stop_restart,
    stop_destroy,
};

const char* to_string(fault_kind k) {
    switch (k) {
        case fault_kind::none:
            return "none";
        case fault_kind::connect_error:
            return "connect error";
        case fault_kind::setup_error:
            return "setup-hook error";
        case fault_kind::resolver_error:
            return "resolver error";
        case fault_kind::cancel_terminal:
            return "terminal cancel";
        case fault_kind::cancel_partial:
            return "partial cancel";
        case fault_kind::deadline:
            return "deadline expiry";
        case fault_kind::stop_restart:
            return "io_context stopped, run again";
        case fault_kind::stop_destroy:
            return "io_context stopped and destroyed";
    }
    return "?";
}

enum class api { dial, connect };  // async_dial (returns a socket) / async_connect (fills one)

struct scripted_endpoint {
    std::string address;
    behaviour how;
    milliseconds delay;
};

struct scripted_answer {
    address_family family;
    std::vector<std::string> addresses;
    milliseconds delay;
};

/// One scripted dial. With `answers` it dials "svc.test" (resolved by the script); without, it
/// dials `endpoints` as a range, in that order.
struct scenario {
    std::string name;
    std::vector<scripted_answer> answers;
    std::vector<scripted_endpoint> endpoints;
    dial_options base;                         // every fault but deadline expiry
    dial_options with_deadline;                // deadline expiry: an overall timeout instead
    boost::system::error_code expected_error;  // of the fault-free dial
    std::optional<std::string> expected_winner;
};

constexpr unsigned short port = 443;

tcp::endpoint ep(const std::string& address) {
    return {asio::ip::make_address(address), port};
}

/// What one run observed.
struct outcome {
    int calls = 0;
    int handler_destroyed = 0;
    boost::system::error_code ec;
    std::optional<tcp::endpoint> winner;  // the target the returned connection was made for
    dial_report report;
    bool fired = false;  // the fault was injected
    bool late = false;   // ... at a stale step: the dial's outcome was already decided
    std::vector<testing::connect_record> connects;
    std::vector<address_family> lookup_families;
};

/// Counts destructions of the handler: the live instance must die exactly once.
struct sentinel {
    int* destroyed;
    explicit sentinel(int* d) : destroyed(d) {}
    sentinel(const sentinel&) = delete;
    sentinel& operator=(const sentinel&) = delete;
    ~sentinel() { ++*destroyed; }
};

struct matrix_stats {
    std::map<fault_kind, int> injected;
    int runs = 0;
};

class matrix {
  public:
    explicit matrix(scenario sc) : sc_(std::move(sc)) {}

    /// Runs the whole matrix for one API (the counts go to stats()).
    void run(api which) {
        // Fault-free references, one per set of options (a late fault must leave these intact).
        ref_base_ = run_once(which, fault_kind::none, 0);
        CHECK(ref_base_.ec == sc_.expected_error);
        if (sc_.expected_winner) {
            REQUIRE(ref_base_.winner);
            CHECK(*ref_base_.winner == ep(*sc_.expected_winner));
        } else {
            CHECK_FALSE(ref_base_.winner);
        }
        ref_deadline_ = run_once(which, fault_kind::none, 0, &sc_.with_deadline);
        CHECK(ref_deadline_.ec == ref_base_.ec);

        for (auto kind : {fault_kind::connect_error,
                          fault_kind::setup_error,
                          fault_kind::resolver_error,
                          fault_kind::cancel_terminal,
                          fault_kind::cancel_partial,
                          fault_kind::deadline,
                          fault_kind::stop_restart,
                          fault_kind::stop_destroy}) {
            // Step n = 0, 1, 2, ... until the dial ends before reaching it (bounded).
            std::size_t n = 0;
            for (; n < 64; ++n) {
                const auto out = run_once(which, kind, n);
                if (!out.fired) {
                    break;
                }
                ++stats_.injected[kind];
                check_expected(kind, n, out);
            }
            CHECK(n < 64);
        }
    }

    const matrix_stats& stats() const { return stats_; }

  private:
    const dial_options& options_for(fault_kind kind) const {
        if (kind == fault_kind::deadline) {
            return sc_.with_deadline;
        }
        return sc_.base;
    }

    outcome run_once(api which,
                     fault_kind kind,
                     std::size_t n,
                     const dial_options* options_override = nullptr) {
        ++stats_.runs;
        INFO(sc_.name << (which == api::dial ? ", async_dial" : ", async_connect") << ", "
                      << to_string(kind) << " at " << n);
        outcome out;
        const int fds_before = open_fd_count();
        {
            asio::io_context ctx;
            asio::steady_timer warm(ctx);  // creates the reactor: its fds are the baseline's
            auto net = mock_network::create(ctx.get_executor());  // with its own listeners
            for (const auto& a : sc_.answers) {
                net->answer("svc.test", a.family, a.addresses, a.delay);
            }
            std::vector<tcp::endpoint> range;
            for (const auto& e : sc_.endpoints) {
                net->endpoint(e.address, port, e.how, e.delay);
                range.push_back(ep(e.address));
            }
            asio::cancellation_signal signal;
            std::optional<tcp::socket> returned;
            tcp::socket caller_socket(ctx);
            switch (kind) {
                case fault_kind::connect_error:
                    net->fail_connect(n, injected_connect_error);
                    break;
                case fault_kind::setup_error:
                    net->fail_hook(n, injected_setup_error);
                    break;
                case fault_kind::resolver_error:
                    net->fail_lookup(n, injected_lookup_error);
                    break;
                case fault_kind::deadline:
                    net->freeze_at(n);
                    break;
                case fault_kind::cancel_terminal:
                case fault_kind::cancel_partial:
                case fault_kind::stop_restart:
                case fault_kind::stop_destroy:
                    net->on_step([&, kind, n](const testing::step_info& step) {
                        if (step.index != n) {
                            return;
                        }
                        out.fired = true;
                        out.late = step.late;
                        if (kind == fault_kind::cancel_terminal) {
                            signal.emit(asio::cancellation_type::terminal);
                        } else if (kind == fault_kind::cancel_partial) {
                            signal.emit(asio::cancellation_type::partial);
                        } else {
                            ctx.stop();
                        }
                    });
                    break;
                case fault_kind::none:
                    break;
            }
            auto options = net->options(options_override ? *options_override : options_for(kind));
            options.report = &out.report;
            const int fds_base = open_fd_count();

            // Each handler holds a sentinel that counts its destruction.
            auto on_socket = [&out, &returned] {
                return
                    [&out, &returned, guard = std::make_shared<sentinel>(&out.handler_destroyed)](
                        boost::system::error_code ec, tcp::socket s) {
                        ++out.calls;
                        out.ec = ec;
                        CHECK(s.is_open() == !ec);
                        returned.emplace(std::move(s));
                    };
            };
            auto on_endpoint = [&out, &caller_socket] {
                return [&out,
                        &caller_socket,
                        guard = std::make_shared<sentinel>(&out.handler_destroyed)](
                           boost::system::error_code ec, tcp::endpoint) {
                    ++out.calls;
                    out.ec = ec;
                    CHECK(caller_socket.is_open() == !ec);
                };
            };
            const bool host = !sc_.answers.empty();
            if (which == api::dial && host) {
                async_dial(ctx,
                           "svc.test",
                           std::to_string(port),
                           options,
                           asio::bind_cancellation_slot(signal.slot(), on_socket()));
            } else if (which == api::dial) {
                async_dial(
                    ctx, range, options, asio::bind_cancellation_slot(signal.slot(), on_socket()));
            } else if (host) {
                happy_dial::async_connect(
                    caller_socket,
                    "svc.test",
                    std::to_string(port),
                    options,
                    asio::bind_cancellation_slot(signal.slot(), on_endpoint()));
            } else {
                happy_dial::async_connect(
                    caller_socket,
                    range,
                    options,
                    asio::bind_cancellation_slot(signal.slot(), on_endpoint()));
            }

            ctx.run_for(10s);
            if (kind == fault_kind::stop_restart && out.fired) {
                CHECK(out.calls == 0);  // stopped mid-dial
                ctx.restart();
                ctx.run_for(10s);
            }
            if (kind == fault_kind::stop_destroy && out.fired) {
                CHECK(out.calls == 0);
                // The context is destroyed below with the dial still pending.
            } else {
                // Ran out of work: no timer, connect or lookup left behind.
                CHECK(ctx.stopped());
                CHECK(out.calls == 1);
                CHECK(out.handler_destroyed == 1);
                CHECK(net->pending_connects() == 0);
                const bool won = !out.ec;
                CHECK(open_fd_count() == fds_base + (won ? 1 : 0));  // only the winner
                CHECK(out.report.error == out.ec);
                for (const auto& attempt : out.report.attempts) {
                    CHECK(attempt.outcome != attempt_outcome::pending);
                    CHECK(attempt.ended);
                }
                if (won) {
                    REQUIRE(out.report.winner);
                    REQUIRE(*out.report.winner < out.report.attempts.size());
                    const auto& w = out.report.attempts[*out.report.winner];
                    CHECK(w.outcome == attempt_outcome::won);
                    out.winner = w.endpoint;
                    const auto& s = which == api::dial ? *returned : caller_socket;
                    CHECK(s.remote_endpoint() == net->listener_for(w.endpoint));
                } else {
                    CHECK_FALSE(out.report.winner);
                }
                returned.reset();
                caller_socket.close();
                CHECK(open_fd_count() == fds_base);
            }
            out.fired = out.fired || net->fired();
            out.connects = net->connects();
            out.lookup_families = lookup_families(options);
            net->release_withheld();
            net->on_step(nullptr);
        }
        // Everything the dial opened is closed, whether it completed or was destroyed.
        CHECK(open_fd_count() == fds_before);
        CHECK(out.handler_destroyed == 1);
        return out;
    }

    // The order in which the dial issues its lookups: AAAA first, excluded families skipped.
    static std::vector<address_family> lookup_families(const dial_options& o) {
        std::vector<address_family> f;
        if (o.family != family_preference::ipv4_only) {
            f.push_back(address_family::ipv6);
        }
        if (o.family != family_preference::ipv6_only) {
            f.push_back(address_family::ipv4);
        }
        return f;
    }

    behaviour behaviour_of(const tcp::endpoint& target) const {
        for (const auto& e : sc_.endpoints) {
            if (ep(e.address) == target) {
                return e.how;
            }
        }
        return behaviour::unreachable;
    }

    // The addresses the dial may use: every scripted address (of the answers that did not fail).
    std::vector<tcp::endpoint> usable(std::optional<address_family> failed) const {
        std::vector<tcp::endpoint> out;
        if (sc_.answers.empty()) {
            for (const auto& e : sc_.endpoints) {
                out.push_back(ep(e.address));
            }
        }
        for (const auto& a : sc_.answers) {
            if (failed && a.family == *failed) {
                continue;
            }
            for (const auto& address : a.addresses) {
                out.push_back(ep(address));
            }
        }
        return out;
    }

    void expect_same(const outcome& out, const outcome& ref) {
        CHECK(out.ec == ref.ec);
        CHECK(out.winner == ref.winner);
    }

    void check_expected(fault_kind kind, std::size_t n, const outcome& out) {
        INFO(sc_.name << ", " << to_string(kind) << " at " << n << (out.late ? " (late)" : ""));
        const auto& attempts = out.report.attempts;
        switch (kind) {
            case fault_kind::connect_error:
            case fault_kind::setup_error:
            case fault_kind::resolver_error: {
                // One attempt (the n-th; every attempt is connected and set up in id order) or
                // one family's answer fails; the dial goes on with the rest.
                std::optional<tcp::endpoint> failed_target;
                std::optional<address_family> failed_family;
                if (kind == fault_kind::resolver_error) {
                    REQUIRE(n < out.lookup_families.size());
                    failed_family = out.lookup_families[n];
                } else {
                    REQUIRE(n < attempts.size());
                    failed_target = attempts[n].endpoint;
                    CHECK(attempts[n].error == (kind == fault_kind::connect_error
                                                    ? injected_connect_error
                                                    : injected_setup_error));
                }
                std::optional<tcp::endpoint> can_win;
                const auto addresses = usable(failed_family);
                for (const auto& target : addresses) {
                    if (behaviour_of(target) == behaviour::connects && target != failed_target) {
                        can_win = target;
                        break;
                    }
                }
                if (can_win) {
                    CHECK_FALSE(out.ec);
                    CHECK(out.winner == can_win);
                } else {
                    // Every usable address tried; the error is the first attempt's (F.29).
                    REQUIRE_FALSE(attempts.empty());
                    CHECK(out.ec == attempts.front().error);
                    std::set<tcp::endpoint> tried;
                    for (const auto& a : attempts) {
                        tried.insert(a.endpoint);
                    }
                    for (const auto& target : addresses) {
                        CHECK(tried.count(target) == 1);
                    }
                }
                break;
            }
            case fault_kind::cancel_terminal:
                if (out.late) {
                    expect_same(out, ref_base_);
                } else {
                    CHECK(out.ec == asio::error::operation_aborted);
                }
                break;
            case fault_kind::cancel_partial:
                if (out.late) {
                    expect_same(out, ref_base_);
                } else {
                    // Nothing new starts; an attempt already running may still win.
                    bool winner_running = false;
                    for (const auto& c : out.connects) {
                        CHECK(c.issued_before_step <= n);
                        if (behaviour_of(c.target) == behaviour::connects &&
                            (!c.completed_at || *c.completed_at >= n)) {
                            winner_running = true;
                        }
                    }
                    if (winner_running) {
                        expect_same(out, ref_base_);
                    } else {
                        CHECK(out.ec == asio::error::operation_aborted);
                    }
                }
                break;
            case fault_kind::deadline:
                if (out.late) {
                    expect_same(out, ref_deadline_);
                } else {
                    CHECK(out.ec == error::timed_out);
                }
                break;
            case fault_kind::stop_restart:
                expect_same(out, ref_base_);
                break;
            case fault_kind::stop_destroy:
                CHECK(out.calls == 0);
                break;
            case fault_kind::none:
                break;
        }
    }

    scenario sc_;
    outcome ref_base_, ref_deadline_;
    matrix_stats stats_;
};

void report(const std::string& name, const matrix_stats& s) {
    int total = 0;
    std::ostringstream by_kind;
    for (const auto& [kind, count] : s.injected) {
        total += count;
        by_kind << " " << to_string(kind) << "=" << count;
    }
    std::cout << "fault matrix " << name << ": " << s.runs << " runs, " << total
              << " faults injected:" << by_kind.str() << "\n";
    CHECK(total > 0);
}

void run_matrix(scenario sc) {
    const auto name = sc.name;
    matrix m(std::move(sc));
    m.run(api::dial);
    m.run(api::connect);
    report(name, m.stats());
}

dial_options fast() {
    dial_options o;
    o.resolution_delay = 20ms;
    o.connection_attempt_delay = 15ms;
    return o;
}

// Completes a scenario's option sets from its base: black holes end by the attempt timeout
// (200 ms, far beyond the fault-free dial), or by the deadline (250 ms) in the deadline runs,
// where a frozen network must not let the attempts time out first.
scenario with_variants(scenario sc) {
    sc.base.attempt_timeout = 200ms;
    sc.with_deadline = sc.base;
    sc.with_deadline.attempt_timeout.reset();
    sc.with_deadline.timeout = 250ms;
    return sc;
}

}  // namespace

TEST_CASE("fault matrix: host, AAAA after A, refused, black hole, unreachable, then a winner",
          "[fault]") {
    // A answers at 2 ms, AAAA at 8 ms (inside the Resolution Delay): 2001:db8::1 (refused at
    // +4 ms), 192.0.2.1 (black hole), 2001:db8::2 (unreachable at +6 ms), 192.0.2.2 (connects
    // at +5 ms) wins at about 50 ms and the black hole is cancelled.
    scenario sc;
    sc.name = "host";
    sc.answers = {{address_family::ipv6, {"2001:db8::1", "2001:db8::2"}, 8ms},
                  {address_family::ipv4, {"192.0.2.1", "192.0.2.2"}, 2ms}};
    sc.endpoints = {{"2001:db8::1", behaviour::refuses, 4ms},
                    {"192.0.2.1", behaviour::never, 0ms},
                    {"2001:db8::2", behaviour::unreachable, 6ms},
                    {"192.0.2.2", behaviour::connects, 5ms}};
    sc.base = fast();
    sc.expected_winner = "192.0.2.2";
    run_matrix(with_variants(sc));
}

TEST_CASE("fault matrix: endpoint range where every attempt fails", "[fault]") {
    // 2001:db8::30 refused, 192.0.2.30 unreachable, 2001:db8::31 refused, 192.0.2.31 refused:
    // the dial fails with the first attempt's error (connection_refused).
    scenario sc;
    sc.name = "range";
    sc.endpoints = {{"2001:db8::30", behaviour::refuses, 4ms},
                    {"192.0.2.30", behaviour::unreachable, 6ms},
                    {"2001:db8::31", behaviour::refuses, 3ms},
                    {"192.0.2.31", behaviour::refuses, 5ms}};
    sc.base = fast();
    sc.expected_error = asio::error::connection_refused;
    run_matrix(with_variants(sc));
}

TEST_CASE("fault matrix: host, IPv4 preferred, two per family, at most two attempts at once",
          "[fault]") {
    // AAAA answers first (4 ms) and waits for A (10 ms, inside the Resolution Delay); 192.0.2.40
    // is a black hole, 192.0.2.41 connects after 10 ms; IPv6 is never needed.
    scenario sc;
    sc.name = "host-ipv4-capped";
    sc.answers = {{address_family::ipv6, {"2001:db8::40"}, 4ms},
                  {address_family::ipv4, {"192.0.2.40", "192.0.2.41"}, 10ms}};
    sc.endpoints = {{"192.0.2.40", behaviour::never, 0ms},
                    {"192.0.2.41", behaviour::connects, 10ms},
                    {"2001:db8::40", behaviour::refuses, 3ms}};
    sc.base = fast();
    sc.base.family = family_preference::prefer_ipv4;
    sc.base.first_address_family_count = 2;
    sc.base.max_concurrent_attempts = 2;
    sc.expected_winner = "192.0.2.41";
    run_matrix(with_variants(sc));
}
