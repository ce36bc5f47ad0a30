// Randomized schedules for the sans-I/O dial engine.
//
// A generator makes a random scenario (addresses, per-endpoint behaviour, answer timings,
// engine_config, cancellations, spurious wake-ups, stale and duplicate reports);
// testing::engine_driver plays it against core::dial_engine with a fake clock, and its
// testing::engine_contract checks the engine's contract on every event. This file adds the checks
// that need the scenario's model (RFC 8305 order and timing; see "Simulation" below).
//
// Reproduce a failure with the printed seed and schedule number:
//   HAPPY_DIAL_SEED=<seed> HAPPY_DIAL_SCHEDULE=<n> unit_tests "[random]"
// (HAPPY_DIAL_SCHEDULE replays that one schedule and prints its scenario and timeline).
// HAPPY_DIAL_SCHEDULES=<count> changes the number of schedules.
#include "catch.hpp"
#include "unit/engine_harness.hpp"

#include <happy_dial/error.hpp>
#include <happy_dial/testing/engine_driver.hpp>

#include <boost/asio/error.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace happy_dial;
using namespace happy_dial::core;
using std::chrono::milliseconds;

constexpr std::uint64_t default_seed = 0x8305'2017'0000'0001ULL;
constexpr std::size_t default_schedules = 100000;
constexpr std::size_t max_events = 5000;  // per schedule: more means the engine livelocks

// splitmix64: the same seed gives the same schedule with every standard library.
struct rng {
    std::uint64_t state;
    std::uint64_t next() {
        std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
    long long range(long long lo, long long hi) {  // inclusive
        return lo + static_cast<long long>(below(static_cast<std::uint64_t>(hi - lo + 1)));
    }
    bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
    duration ms(long long lo, long long hi) { return milliseconds(range(lo, hi)); }
};

std::uint64_t schedule_seed(std::uint64_t base, std::size_t n) {
    rng r{base ^ (0x632be59bd9b4e019ULL * (n + 1))};
    return r.next();
}

int fam(address_family f) {
    return static_cast<int>(f);
}
address_family other(address_family f) {
    return f == address_family::ipv6 ? address_family::ipv4 : address_family::ipv6;
}

// ---------------------------------------------------------------------------------------------
// Scenario

enum class behaviour_kind { connects, fails, silent };

struct behaviour {
    behaviour_kind kind = behaviour_kind::silent;
    duration after{};
    error_code error;
};

struct scripted_answer {
    duration at{};
    resolution_answer answer;
};

struct cancel_plan {
    duration at{};
    cancel_kind kind{};
};

// 0: none, 1: refuses 198.51.100.0/24, 2: throws for addresses whose last byte is 0 mod 3.
bool filter_accepts(int kind, const endpoint& ep) {
    const auto addr = ep.address();
    if (kind == 1) {
        return !(addr.is_v4() && (addr.to_v4().to_uint() >> 8) == 0xC63364u);
    }
    if (kind == 2) {
        const unsigned last =
            addr.is_v4() ? addr.to_v4().to_bytes()[3] : addr.to_v6().to_bytes()[15];
        if (last % 3 == 0) {
            throw std::runtime_error("filter failure");
        }
    }
    return true;
}

bool family_allowed(family_preference p, address_family f) {
    return (p != family_preference::ipv6_only || f == address_family::ipv6) &&
           (p != family_preference::ipv4_only || f == address_family::ipv4);
}

address_family preferred_of(family_preference p) {
    return p == family_preference::prefer_ipv4 || p == family_preference::ipv4_only
               ? address_family::ipv4
               : address_family::ipv6;
}

const char* to_string(family_preference p) {
    switch (p) {
        case family_preference::prefer_ipv6:
            return "prefer_ipv6";
        case family_preference::prefer_ipv4:
            return "prefer_ipv4";
        case family_preference::ipv6_only:
            return "ipv6_only";
        case family_preference::ipv4_only:
            return "ipv4_only";
    }
    return "?";
}

struct scenario {
    engine_config config;
    int filter_kind = 0;
    bool with_endpoints = false;  // start_with_endpoints instead of start()
    std::vector<endpoint> initial;
    std::vector<address_family> expected;
    std::vector<scripted_answer> answers;
    std::map<endpoint, behaviour> behaviours;
    std::vector<cancel_plan> cancels;
    std::vector<duration> spurious_timers;
    double stale_probability = 0;
    double connect_share = 0, fail_share = 0;
};

class generator {
  public:
    explicit generator(rng& r) : r_(r) {}

    scenario make() {
        scenario s;
        make_config(s);
        // A per-schedule mix of endpoint behaviours, so all-fail and all-silent runs happen too.
        switch (r_.below(5)) {
            case 0:
                s.connect_share = 0, s.fail_share = 0.8;
                break;
            case 1:
                s.connect_share = 0.1, s.fail_share = 0.2;
                break;
            default:
                s.connect_share = 0.35, s.fail_share = 0.4;
        }
        s.stale_probability = r_.chance(0.5) ? 0.5 : 0.0;
        scenario_ = &s;

        if (r_.chance(0.1)) {
            s.with_endpoints = true;
            s.initial = addresses(address_family::ipv6, r_.range(0, 8));
            auto v4 = addresses(address_family::ipv4, r_.range(0, 8));
            s.initial.insert(
                r_.chance(0.5) ? s.initial.end() : s.initial.begin(), v4.begin(), v4.end());
            if (r_.chance(0.3)) {  // a late list not tied to a query
                auto fam = r_.chance(0.5) ? address_family::ipv6 : address_family::ipv4;
                s.answers.push_back(
                    {r_.ms(0, 800), {std::nullopt, addresses(fam, r_.range(0, 4)), {}}});
            }
        } else {
            const auto shape = r_.below(10);
            if (shape < 7) {
                s.expected = {address_family::ipv6, address_family::ipv4};
            } else if (shape == 7) {
                s.expected = {address_family::ipv4, address_family::ipv6};
            } else if (shape == 8) {
                s.expected = {r_.chance(0.5) ? address_family::ipv6 : address_family::ipv4};
            }  // else: nothing expected
            for (address_family f : s.expected) {
                script_family(s, f);
            }
        }
        const auto cancels = r_.below(4) == 0 ? 1 + (r_.chance(0.3) ? 1 : 0) : 0;
        for (int i = 0; i < cancels; ++i) {
            s.cancels.push_back(
                {r_.ms(0, 1500), r_.chance(0.5) ? cancel_kind::terminal : cancel_kind::partial});
        }
        if (r_.chance(0.2)) {
            for (auto n = r_.range(1, 3); n > 0; --n) {
                s.spurious_timers.push_back(r_.ms(0, 2000));
            }
        }
        return s;
    }

  private:
    duration pick(std::initializer_list<duration> fixed, long long lo, long long hi) {
        const auto i = r_.below(fixed.size() + 1);
        return i == fixed.size() ? r_.ms(lo, hi) : *(fixed.begin() + i);
    }

    void make_config(scenario& s) {
        using namespace std::chrono_literals;
        auto& c = s.config;
        // Includes values outside the clamps: 1 ms and 5 ms below the 10 ms floor, 3 s and 30 s
        // above the 2 s cap.
        c.resolution_delay = pick({0ms, 1ms, 10ms, 25ms, 50ms, 50ms, 2s, 3s, 10s}, 0, 300);
        c.connection_attempt_delay =
            pick({1ms, 5ms, 10ms, 50ms, 100ms, 250ms, 250ms, 2s, 3s, 30s}, 1, 500);
        switch (r_.below(20)) {
            case 0:
            case 1:
            case 2:
                c.preference = family_preference::ipv6_only;
                break;
            case 3:
            case 4:
            case 5:
                c.preference = family_preference::ipv4_only;
                break;
            case 6:
            case 7:
            case 8:
            case 9:
            case 10:
                c.preference = family_preference::prefer_ipv4;
                break;
            default:
                c.preference = family_preference::prefer_ipv6;
        }
        c.first_address_family_count = static_cast<unsigned>(r_.range(1, 3));
        if (r_.chance(0.4)) {
            c.overall_timeout = r_.chance(0.3) ? r_.ms(1, 60) : r_.ms(1, 3000);
        }
        if (r_.chance(0.3)) {
            c.attempt_timeout = r_.ms(5, 1000);
        }
        c.max_concurrent_attempts = r_.chance(0.6) ? 0 : static_cast<std::size_t>(r_.range(1, 3));
        const auto f = r_.below(20);
        s.filter_kind = f < 2 ? 1 : f == 2 ? 2 : 0;
        if (s.filter_kind != 0) {
            const int kind = s.filter_kind;
            c.endpoint_filter = [kind](const endpoint& ep) { return filter_accepts(kind, ep); };
        }
    }

    void script_family(scenario& s, address_family f) {
        const auto kind = r_.below(100);
        if (kind < 8) {
            return;  // never answers
        }
        duration at = r_.chance(0.2) ? duration{} : r_.chance(0.1) ? r_.ms(0, 1500) : r_.ms(0, 300);
        resolution_answer a{f, {}, {}};
        if (kind < 18) {
            // negative answer (NODATA)
        } else if (kind < 26) {
            a.error = r_.chance(0.5) ? boost::asio::error::host_not_found
                                     : boost::asio::error::host_not_found_try_again;
        } else {
            a.endpoints = addresses(f, r_.range(0, 8));
        }
        s.answers.push_back({at, a});
        if (r_.chance(0.2)) {  // a late extra answer for the same family (§6)
            resolution_answer late{f, {}, {}};
            if (r_.chance(0.15)) {
                if (r_.chance(0.5)) {
                    late.error = boost::asio::error::host_not_found;
                }
            } else {
                late.endpoints = addresses(f, r_.range(1, 4));
            }
            s.answers.push_back({at + r_.ms(0, 800), late});
        }
    }

    unsigned short port() { return r_.chance(0.05) ? 8443 : 443; }

    endpoint fresh(address_family f) {
        if (f == address_family::ipv6) {
            boost::asio::ip::address_v6::bytes_type b{};
            b[0] = 0x20, b[1] = 0x01, b[2] = 0x0d, b[3] = 0xb8;  // 2001:db8::/64
            if (r_.chance(0.8)) {
                b[15] = static_cast<unsigned char>(r_.range(1, 40));
            } else {
                for (std::size_t i = 8; i < 16; ++i) {
                    b[i] = static_cast<unsigned char>(r_.below(256));
                }
            }
            return {boost::asio::ip::address_v6(b), port()};
        }
        const std::uint32_t net = r_.chance(0.5) ? 0xC0000200u : 0xC6336400u;
        const auto host = r_.chance(0.8) ? r_.range(1, 40) : r_.range(1, 254);
        return {boost::asio::ip::address_v4(net | static_cast<std::uint32_t>(host)), port()};
    }

    endpoint invalid(address_family f) {
        namespace ip = boost::asio::ip;
        switch (r_.below(4)) {
            case 0:  // port 0
                return {fresh(f).address(), 0};
            case 1:
                return f == address_family::ipv4 ? endpoint{ip::address_v4::any(), 443}
                                                 : endpoint{ip::address_v6::any(), 443};
            case 2:
                return f == address_family::ipv4 ? endpoint{ip::address_v4::broadcast(), 443}
                                                 : endpoint{ip::make_address("ff02::1"), 443};
            default:
                return f == address_family::ipv4 ? endpoint{ip::make_address("224.0.0.1"), 443}
                                                 : endpoint{ip::make_address("ff05::2"), 443};
        }
    }

    std::vector<endpoint> addresses(address_family f, long long n) {
        std::vector<endpoint> out;
        for (long long i = 0; i < n; ++i) {
            endpoint ep;
            auto& pool = generated_[fam(f)];
            if (!pool.empty() && r_.chance(0.1)) {
                ep = pool[r_.below(pool.size())];  // duplicate
            } else if (r_.chance(0.08)) {
                ep = invalid(f);
            } else {
                ep = fresh(f);
            }
            pool.push_back(ep);
            out.push_back(ep);
            if (!scenario_->behaviours.count(ep)) {
                scenario_->behaviours[ep] = make_behaviour();
            }
        }
        return out;
    }

    behaviour make_behaviour() {
        behaviour b;
        const double roll = static_cast<double>(r_.below(1000)) / 1000.0;
        if (roll < scenario_->connect_share) {
            b.kind = behaviour_kind::connects;
            b.after = r_.chance(0.1) ? duration{} : r_.chance(0.7) ? r_.ms(1, 150) : r_.ms(1, 700);
        } else if (roll < scenario_->connect_share + scenario_->fail_share) {
            b.kind = behaviour_kind::fails;
            b.after = r_.chance(0.15) ? duration{} : r_.ms(1, 400);
            static const error_code errors[] = {
                boost::asio::error::connection_refused,
                boost::asio::error::network_unreachable,
                boost::asio::error::host_unreachable,
                boost::asio::error::timed_out,
                boost::asio::error::connection_reset,
            };
            b.error = errors[r_.below(5)];
        } else {
            b.kind = behaviour_kind::silent;
        }
        return b;
    }

    rng& r_;
    scenario* scenario_ = nullptr;
    std::vector<endpoint> generated_[2];
};

// ---------------------------------------------------------------------------------------------
// Simulation: testing::engine_driver plays the network and the caller (answers, attempts,
// timers, cancellations, stale and duplicate reports) and its engine_contract checks the
// engine's contract on every event. What is checked here is the scenario model: the §4 order of
// every start, the §3 time of the first start, the §5 stagger and failure-starts-next bounds,
// the winner scripted to connect, success whenever a connecting address was started in time,
// and every address known before a deadline tried before it (issue 11).

// Counters over all schedules, printed with HAPPY_DIAL_STATS=1 to see what the run covered.
struct statistics {
    std::size_t schedules = 0, events = 0, attempts = 0, success = 0, timed_out = 0, aborted = 0,
                exhausted = 0, attempt_timeouts = 0, stale_reports = 0, duplicate_reports = 0,
                spurious_timers = 0, partial_cancels = 0, terminal_cancels = 0, give_ups = 0,
                late_answers = 0, resolution_delay_waits = 0, failure_next_checks = 0,
                stagger_checks = 0;
};
statistics stats;

// "The next start must happen by `by` (or the dial end by then)" after a failure at `at`.
struct start_expectation {
    time_point at;
    time_point by;
    std::size_t next_index;
};

struct sim_attempt {
    endpoint target;
    time_point started;
    behaviour how;
    bool running = true;
    bool cancelled = false;
    std::size_t untried_after = 0;
};

testing::attempt_script script_of(const behaviour& b) {
    switch (b.kind) {
        case behaviour_kind::connects:
            return testing::connects_after(b.after);
        case behaviour_kind::fails:
            return testing::fails_after(b.after, b.error);
        default:
            return testing::never_answers();
    }
}

class simulation {
  public:
    explicit simulation(std::uint64_t seed) : r_{seed} {
        generator g{r_};
        sc_ = g.make();
    }

    std::vector<std::string> run();
    std::string log() const;

  private:
    double ms(time_point tp) const {
        return std::chrono::duration<double, std::milli>(tp - t0_).count();
    }
    double ms(duration d) const { return std::chrono::duration<double, std::milli>(d).count(); }

    void violation(const std::string& what) {
        std::ostringstream os;
        os << "t=" << ms(now_) << "ms: " << what;
        violations_.push_back(os.str());
    }

    void print_scenario(std::ostream& os) const;
    void model_answer(const resolution_answer& a);
    void model_start(const start_attempt& s);
    std::size_t untried() const {
        return accepted_[0].size() + accepted_[1].size() - started_[0] - started_[1];
    }
    void observe(const testing::driver_step& step);
    void final_checks(const testing::dial_result& r);

    rng r_;
    scenario sc_;
    std::optional<testing::engine_driver> driver_;

    time_point t0_ = test::t(0);
    time_point now_ = t0_;

    std::vector<sim_attempt> attempts_;
    std::optional<time_point> last_start_;
    bool done_ = false;
    time_point done_at_;

    bool cancelled_ = false;  // a cancel reached the engine before dial_done
    bool partial_ = false;
    std::optional<time_point> first_cancel_at_;
    bool gave_up_ = false;

    // The simulator's model of what the engine knows.
    bool engine_expects_[2] = {false, false};
    std::optional<time_point> answered_at_[2];
    std::set<endpoint> seen_;
    std::vector<endpoint> accepted_[2];
    std::size_t started_[2] = {0, 0};
    std::size_t accepted_before_deadline_ = 0;
    std::optional<time_point> first_accept_at_;
    bool first_accept_preferred_ = false;
    bool preferred_answered_at_first_ = false;

    std::vector<start_expectation> expectations_;
    std::vector<std::string> violations_;
};

void simulation::print_scenario(std::ostream& os) const {
    const auto& c = sc_.config;
    os << "config: resolution_delay=" << ms(c.resolution_delay)
       << "ms attempt_delay=" << ms(c.connection_attempt_delay)
       << "ms preference=" << to_string(c.preference)
       << " first_family_count=" << c.first_address_family_count << " overall_timeout=";
    if (c.overall_timeout) {
        os << ms(*c.overall_timeout) << "ms";
    } else {
        os << "none";
    }
    os << " attempt_timeout=";
    if (c.attempt_timeout) {
        os << ms(*c.attempt_timeout) << "ms";
    } else {
        os << "none";
    }
    os << " max_concurrent=" << c.max_concurrent_attempts << " filter=" << sc_.filter_kind
       << " stale_p=" << sc_.stale_probability << "\n";
    if (sc_.with_endpoints) {
        os << "start_with_endpoints:";
        for (const auto& ep : sc_.initial) {
            os << " " << ep;
        }
        os << "\n";
    } else {
        os << "start expecting:";
        for (auto f : sc_.expected) {
            os << " " << happy_dial::core::to_string(f);
        }
        os << "\n";
    }
    for (const auto& a : sc_.answers) {
        os << "answer at " << ms(a.at) << "ms "
           << (a.answer.family ? happy_dial::core::to_string(*a.answer.family) : "list")
           << " error='" << (a.answer.error ? a.answer.error.message() : "") << "':";
        for (const auto& ep : a.answer.endpoints) {
            os << " " << ep;
        }
        os << "\n";
    }
    for (const auto& [ep, b] : sc_.behaviours) {
        os << "endpoint " << ep << ": "
           << (b.kind == behaviour_kind::connects ? "connects"
               : b.kind == behaviour_kind::fails  ? "fails"
                                                  : "never answers");
        if (b.kind != behaviour_kind::silent) {
            os << " after " << ms(b.after) << "ms";
        }
        if (b.error) {
            os << " (" << b.error.message() << ")";
        }
        os << "\n";
    }
    for (const auto& c2 : sc_.cancels) {
        os << "cancel " << (c2.kind == cancel_kind::terminal ? "terminal" : "partial") << " at "
           << ms(c2.at) << "ms\n";
    }
    for (auto d : sc_.spurious_timers) {
        os << "spurious on_timer at " << ms(d) << "ms\n";
    }
}

std::string simulation::log() const {
    std::ostringstream os;
    print_scenario(os);
    if (driver_) {
        os << driver_->describe();
    }
    return os.str();
}

// Mirrors what dial_engine::accept does with the addresses, to know which are dialable.
void simulation::model_answer(const resolution_answer& a) {
    const auto pref = preferred_of(sc_.config.preference);
    if (a.family) {
        if (answered_at_[fam(*a.family)]) {
            ++stats.late_answers;
        } else {
            answered_at_[fam(*a.family)] = now_;
        }
    }
    if (partial_) {
        return;
    }
    for (const auto& ep : a.endpoints) {
        bool allowed = is_dialable(ep) && family_allowed(sc_.config.preference, family_of(ep));
        if (allowed && sc_.filter_kind != 0) {
            try {
                allowed = filter_accepts(sc_.filter_kind, ep);
            } catch (...) {
                allowed = false;
            }
        }
        if (allowed && seen_.insert(ep).second) {
            accepted_[fam(family_of(ep))].push_back(ep);
            const auto& timeout = sc_.config.overall_timeout;
            if (!timeout || now_ < t0_ + *timeout) {
                ++accepted_before_deadline_;
            }
        }
    }
    if (!first_accept_at_ && untried() > 0) {
        first_accept_at_ = now_;
        first_accept_preferred_ = accepted_[fam(pref)].size() > 0;
        preferred_answered_at_first_ = answered_at_[fam(pref)].has_value();
    }
}

// §4 order model: the desired family by the interleaving rule, else the other; within a
// family, arrival order.
void simulation::model_start(const start_attempt& s) {
    const auto pref = preferred_of(sc_.config.preference);
    const auto oth = other(pref);
    const std::size_t pref_used = started_[fam(pref)], other_used = started_[fam(oth)];
    auto f = pref_used < sc_.config.first_address_family_count                    ? pref
             : other_used < pref_used - sc_.config.first_address_family_count + 1 ? oth
                                                                                  : pref;
    if (started_[fam(f)] == accepted_[fam(f)].size()) {
        f = other(f);
    }
    if (started_[fam(f)] == accepted_[fam(f)].size()) {
        std::ostringstream os;
        os << "start_attempt of " << s.target << " but no accepted address is untried";
        violation(os.str());
    } else if (const auto& expect = accepted_[fam(f)][started_[fam(f)]]; s.target != expect) {
        std::ostringstream os;
        os << "start_attempt " << s.target << " but the §4 order says " << expect;
        violation(os.str());
    }
    ++started_[fam(family_of(s.target))];
    sim_attempt at;
    at.target = s.target;
    at.started = now_;
    if (const auto it = sc_.behaviours.find(s.target); it != sc_.behaviours.end()) {
        at.how = it->second;
    }
    attempts_.push_back(at);
    last_start_ = now_;
}

void simulation::observe(const testing::driver_step& step) {
    now_ = step.at;
    ++stats.events;
    const bool was_done = done_;
    bool failure = false;
    if (const auto* s = std::get_if<testing::start_event>(&step.event)) {
        if (s->how == testing::start_event::kind::endpoints) {
            model_answer({std::nullopt, s->endpoints, {}});
        }
    } else if (const auto* a = std::get_if<testing::answer_event>(&step.event)) {
        if (!done_) {
            model_answer(a->answer);
        }
    } else if (const auto* r = std::get_if<testing::result_event>(&step.event)) {
        if (r->id >= attempts_.size() || !attempts_[r->id].running) {
            ++(r->id < attempts_.size() && attempts_[r->id].cancelled ? stats.stale_reports
                                                                      : stats.duplicate_reports);
        } else if (!done_) {
            attempts_[r->id].running = false;
            failure = static_cast<bool>(r->error);
            if (failure && r_.chance(0.1)) {  // a duplicate report, sometimes claiming success
                driver_->report_at(
                    now_ - t0_ + r_.ms(0, 100), r->id, r_.chance(0.5) ? error_code{} : r->error);
            }
        }
    } else if (const auto* c = std::get_if<testing::cancel_event>(&step.event)) {
        if (!done_) {
            cancelled_ = true;
            partial_ = partial_ || c->kind == cancel_kind::partial;
            ++(c->kind == cancel_kind::partial ? stats.partial_cancels
               : gave_up_                      ? stats.give_ups
                                               : stats.terminal_cancels);
            if (!first_cancel_at_) {
                first_cancel_at_ = now_;
            }
        }
    }

    const std::size_t untried_before = untried();
    const std::size_t starts_before = attempts_.size();
    const auto last_start_before = last_start_;
    std::size_t cancels = 0;
    for (const auto& a : step.actions) {
        if (done_) {
            break;  // the contract checker reports it
        }
        if (const auto* s = std::get_if<start_attempt>(&a)) {
            model_start(*s);
        } else if (const auto* c = std::get_if<cancel_attempt>(&a)) {
            ++cancels;
            if (c->id < attempts_.size()) {
                attempts_[c->id].running = false;
                attempts_[c->id].cancelled = true;
            }
        } else if (std::holds_alternative<dial_done>(a)) {
            done_ = true;
            done_at_ = now_;
        }
    }
    // §5: a failure starts the next attempt at once, >= 10 ms after the previous start; a
    // cancel_attempt without dial_done is a per-attempt timeout, which counts as a failure.
    if ((failure || cancels > 0) && !was_done && !done_ && untried_before > 0 &&
        last_start_before && !partial_) {
        expectations_.push_back(
            {now_, std::max(now_, *last_start_before + limits::min_attempt_delay), starts_before});
    }
    if (attempts_.size() > starts_before) {
        attempts_.back().untried_after = untried();
    }
}

std::vector<std::string> simulation::run() {
    if (validate(sc_.config)) {
        violation("generated config does not validate");
        return violations_;
    }
    driver_.emplace(sc_.config, t0_);
    auto& d = *driver_;
    {
        // Normalization: delays clamped to the RFC bounds.
        const auto& c = d.engine().config();
        const auto cad = std::clamp(sc_.config.connection_attempt_delay,
                                    limits::min_attempt_delay,
                                    limits::max_attempt_delay);
        const auto rd = std::min(sc_.config.resolution_delay, limits::max_resolution_delay);
        if (c.connection_attempt_delay != cad || c.resolution_delay != rd) {
            violation("config not normalized to the clamps");
        }
    }
    for (auto f : sc_.expected) {
        if (family_allowed(sc_.config.preference, f)) {
            engine_expects_[fam(f)] = true;
        }
    }
    d.max_events(max_events)
        .tie_breaker([this] { return r_.next(); })
        .report_cancelled([this](attempt_id) { return r_.chance(sc_.stale_probability); })
        .observe([this](const testing::driver_step& s) { observe(s); });
    for (const auto& [ep, b] : sc_.behaviours) {
        d.endpoint(ep, script_of(b));
    }
    for (const auto& a : sc_.answers) {
        d.answer_at(a.at, a.answer);
    }
    for (const auto& c : sc_.cancels) {
        d.cancel_at(c.at, c.kind);
    }
    for (auto at : sc_.spurious_timers) {
        d.wake_at(at);
        ++stats.spurious_timers;
    }
    if (r_.chance(0.05)) {  // a report for an attempt that never existed
        d.report_at(r_.ms(0, 1000), 1000, {});
    }

    testing::start_event start;
    start.how = sc_.with_endpoints ? testing::start_event::kind::endpoints
                                   : testing::start_event::kind::expected;
    start.endpoints = sc_.initial;
    start.expected = sc_.expected;
    d.feed(start);
    d.run();
    if (!d.engine().done()) {
        // Nothing left to happen: the engine waits for something that never comes (an answer,
        // an attempt that never answers; the contract checker flags any other stall). The caller
        // gives up.
        gave_up_ = true;
        d.feed(testing::cancel_event{cancel_kind::terminal});
    }
    const auto result = d.finish();
    final_checks(result);
    std::vector<std::string> problems = result.violations;
    problems.insert(problems.end(), violations_.begin(), violations_.end());
    return problems;
}

void simulation::final_checks(const testing::dial_result& r) {
    if (!r.done) {
        return;  // the contract checker reports it
    }
    const auto& c = sc_.config;
    std::optional<time_point> deadline;
    if (c.overall_timeout) {
        deadline = t0_ + *c.overall_timeout;
    }
    now_ = done_at_;
    const bool success = !r.outcome.error;
    ++stats.schedules;
    stats.attempts += attempts_.size();
    ++(success                                                    ? stats.success
       : r.outcome.error == error::timed_out                      ? stats.timed_out
       : r.outcome.error == boost::asio::error::operation_aborted ? stats.aborted
                                                                  : stats.exhausted);
    for (const auto& rec : r.trace.attempts) {
        stats.attempt_timeouts += rec.outcome == attempt_outcome::timed_out ? 1u : 0u;
    }

    // The winner was scripted to connect, and did at its start + d.
    if (r.outcome.winner) {
        const auto w = *r.outcome.winner;
        if (w >= attempts_.size() || attempts_[w].how.kind != behaviour_kind::connects) {
            violation("winner " + std::to_string(w) + " was not scripted to connect");
        } else if (done_at_ != attempts_[w].started + attempts_[w].how.after) {
            violation("winner's connect time is not its start + d");
        }
    }

    // Success guaranteed when a connecting address was started in time and nothing cancelled.
    if (!cancelled_ && !success) {
        for (std::size_t i = 0; i < attempts_.size(); ++i) {
            const auto& at = attempts_[i];
            if (at.how.kind == behaviour_kind::connects &&
                (!deadline || at.started + at.how.after < *deadline) &&
                (!c.attempt_timeout || at.how.after < *c.attempt_timeout)) {
                violation(
                    "attempt " + std::to_string(i) +
                    " would connect in time, yet the dial failed: " + r.outcome.error.message());
                break;
            }
        }
    }

    // With a deadline, every address known before it is started before it, spacing permitting
    // (issue 11): an address left untried means the starts ran at the 10 ms floor to the end,
    // so the last one is within 10 ms of the deadline.
    if (deadline && r.outcome.error == error::timed_out && !cancelled_ &&
        c.max_concurrent_attempts == 0 && accepted_before_deadline_ > attempts_.size()) {
        if (attempts_.empty() || *deadline - attempts_.back().started > limits::min_attempt_delay) {
            violation(std::to_string(accepted_before_deadline_ - attempts_.size()) +
                      " address(es) known before the deadline never tried, the last start " +
                      (attempts_.empty() ? std::string("never")
                                         : std::to_string(ms(attempts_.back().started)) + "ms"));
        }
    }

    // §3: the first attempt starts as soon as allowed: at once for the preferred family (or
    // when the preferred answer is already in), else after the Resolution Delay or when the
    // preferred answer arrives, whichever is first.
    if (first_accept_at_) {
        const auto pref = preferred_of(c.preference);
        time_point expect = *first_accept_at_;
        if (!first_accept_preferred_ && engine_expects_[fam(pref)] &&
            !preferred_answered_at_first_) {
            duration wait = std::min(c.resolution_delay, limits::max_resolution_delay);
            if (deadline) {
                wait = std::min(wait, (*deadline - *first_accept_at_) / 2);
            }
            expect = *first_accept_at_ + wait;
            ++stats.resolution_delay_waits;
            if (answered_at_[fam(pref)] && *answered_at_[fam(pref)] < expect) {
                expect = *answered_at_[fam(pref)];
            }
        }
        const bool disturbed =
            (first_cancel_at_ && *first_cancel_at_ <= expect) || (deadline && *deadline <= expect);
        if (!disturbed) {
            if (attempts_.empty()) {
                violation("no attempt started although an address was accepted at " +
                          std::to_string(ms(*first_accept_at_)) + "ms");
            } else if (attempts_[0].started != expect) {
                violation("first attempt started at " + std::to_string(ms(attempts_[0].started)) +
                          "ms, expected " + std::to_string(ms(expect)) + "ms");
            }
        }
    }

    // §5: with addresses waiting, the next attempt starts within one Connection Attempt Delay
    // (no cap in play).
    const auto cad = std::clamp(
        c.connection_attempt_delay, limits::min_attempt_delay, limits::max_attempt_delay);
    const auto interrupted_by = [&](time_point by) {
        return (first_cancel_at_ && *first_cancel_at_ <= by) || done_at_ <= by;
    };
    if (c.max_concurrent_attempts == 0) {
        for (std::size_t i = 0; i < attempts_.size(); ++i) {
            if (attempts_[i].untried_after == 0) {
                continue;
            }
            const auto by = attempts_[i].started + cad;
            ++stats.stagger_checks;
            const bool next_in_time = i + 1 < attempts_.size() && attempts_[i + 1].started <= by;
            if (!next_in_time && !interrupted_by(by)) {
                violation("attempt " + std::to_string(i) + " left addresses waiting longer than " +
                          std::to_string(ms(cad)) + "ms");
            }
        }
    }
    // §5: a failure (or per-attempt timeout) starts the next attempt at once (>= 10 ms later).
    for (const auto& x : expectations_) {
        ++stats.failure_next_checks;
        const bool next_in_time =
            x.next_index < attempts_.size() && attempts_[x.next_index].started <= x.by;
        if (!next_in_time && !interrupted_by(x.by)) {
            violation("failure at " + std::to_string(ms(x.at)) + "ms did not start the next by " +
                      std::to_string(ms(x.by)) + "ms");
        }
    }
}

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::strtoull(v, nullptr, 0) : fallback;
}

}  // namespace

TEST_CASE("engine: randomized schedules keep every invariant", "[engine][random]") {
    const std::uint64_t seed = env_number("HAPPY_DIAL_SEED", default_seed);
    const char* only = std::getenv("HAPPY_DIAL_SCHEDULE");
    const std::size_t first = only && *only ? std::strtoull(only, nullptr, 0) : 0;
    const std::size_t count =
        only && *only ? 1 : env_number("HAPPY_DIAL_SCHEDULES", default_schedules);

    std::size_t failures = 0;
    for (std::size_t n = first; n < first + count; ++n) {
        simulation sim{schedule_seed(seed, n)};
        const std::vector<std::string> problems = sim.run();
        if (problems.empty() && !(only && *only)) {
            continue;
        }
        std::ostringstream msg;
        msg << "HAPPY_DIAL_SEED=" << seed << " HAPPY_DIAL_SCHEDULE=" << n << "\n";
        for (const auto& p : problems) {
            msg << "  " << p << "\n";
        }
        msg << sim.log();
        if (problems.empty()) {
            WARN(msg.str());
            continue;
        }
        ++failures;
        FAIL_CHECK(msg.str());
        if (failures >= 5) {
            break;
        }
    }
    if (std::getenv("HAPPY_DIAL_STATS")) {
        const auto& st = stats;
        std::cout << "seed " << seed << ": " << st.schedules << " schedules, " << st.events
                  << " events, " << st.attempts << " attempts; success " << st.success
                  << ", timed_out " << st.timed_out << ", aborted " << st.aborted << ", exhausted "
                  << st.exhausted << "; attempt timeouts " << st.attempt_timeouts
                  << ", stale reports " << st.stale_reports << ", duplicate reports "
                  << st.duplicate_reports << ", spurious timers " << st.spurious_timers
                  << ", partial cancels " << st.partial_cancels << ", terminal cancels "
                  << st.terminal_cancels << ", give-ups " << st.give_ups << ", late answers "
                  << st.late_answers << ", resolution delay waits " << st.resolution_delay_waits
                  << ", stagger checks " << st.stagger_checks << ", failure-next checks "
                  << st.failure_next_checks << "\n";
    }
    INFO("seed " << seed);
    CHECK(failures == 0);
    CHECK(count >= (only && *only ? 1u : 10000u));
}
