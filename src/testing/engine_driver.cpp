#include <happy_dial/testing/engine_driver.hpp>

#include <boost/system/system_error.hpp>

#include <algorithm>
#include <chrono>
#include <ostream>
#include <sstream>
#include <utility>

namespace happy_dial::testing {
namespace {

core::engine_config validated(const core::engine_config& config) {
    if (const auto ec = core::validate(config)) {
        throw boost::system::system_error(ec, "engine_driver: engine_config");
    }
    return config;
}

std::string ms(core::duration d) {
    std::ostringstream os;
    os << std::chrono::duration<double, std::milli>(d).count() << "ms";
    return os.str();
}

}  // namespace

attempt_script connects_after(core::duration after) {
    return {attempt_script::kind::connects, after, {}};
}

attempt_script fails_after(core::duration after, core::error_code error) {
    return {attempt_script::kind::fails, after, error};
}

attempt_script never_answers() {
    return {attempt_script::kind::never, {}, {}};
}

std::optional<core::endpoint> dial_result::winner() const {
    if (!outcome.winner || *outcome.winner >= trace.attempts.size()) {
        return std::nullopt;
    }
    return trace.attempts[*outcome.winner].target;
}

core::duration dial_result::started(core::attempt_id id) const {
    return trace.attempts.at(id).started - trace.started;
}

core::time_point engine_driver::default_start() noexcept {
    return core::time_point{} + std::chrono::hours(1);
}

engine_driver::engine_driver(core::engine_config config, core::time_point start)
    : start_(start),
      now_(start),
      engine_(validated(config)),
      contract_(std::move(config)),
      unscripted_(fails_after({}, boost::asio::error::host_unreachable)) {}

engine_driver& engine_driver::answer(core::address_family family,
                                     std::vector<core::endpoint> addresses,
                                     core::duration after,
                                     core::error_code error) {
    lookups_[static_cast<std::size_t>(family)] = lookup{std::move(addresses), after, error, false};
    return *this;
}

engine_driver& engine_driver::never_answer(core::address_family family) {
    lookups_[static_cast<std::size_t>(family)] = lookup{{}, {}, {}, true};
    return *this;
}

engine_driver& engine_driver::endpoint(const core::endpoint& target, attempt_script how) {
    scripts_[target] = how;
    return *this;
}

engine_driver& engine_driver::unscripted_endpoints(attempt_script how) {
    unscripted_ = how;
    return *this;
}

engine_driver& engine_driver::answer_at(core::duration at, core::resolution_answer answer) {
    schedule(start_ + at, answer_event{std::move(answer)});
    return *this;
}

engine_driver& engine_driver::cancel_at(core::duration at, core::cancel_kind kind) {
    schedule(start_ + at, cancel_event{kind});
    return *this;
}

engine_driver& engine_driver::wake_at(core::duration at) {
    schedule(start_ + at, timer_event{});
    return *this;
}

engine_driver& engine_driver::report_at(core::duration at,
                                        core::attempt_id id,
                                        core::error_code error) {
    schedule(start_ + at, result_event{id, error});
    return *this;
}

engine_driver& engine_driver::report_cancelled(std::function<bool(core::attempt_id)> deliver) {
    report_cancelled_ = std::move(deliver);
    return *this;
}

engine_driver& engine_driver::tie_breaker(std::function<std::uint64_t()> key) {
    tie_breaker_ = std::move(key);
    return *this;
}

engine_driver& engine_driver::manual_timers(bool manual) {
    manual_timers_ = manual;
    return *this;
}

engine_driver& engine_driver::max_events(std::size_t n) {
    max_events_ = n;
    return *this;
}

engine_driver& engine_driver::observe(std::function<void(const driver_step&)> observer) {
    observer_ = std::move(observer);
    return *this;
}

dial_result engine_driver::dial(std::string_view host, std::string_view service) {
    start_event s;
    s.how = start_event::kind::target;
    s.target = core::parse_target(host, service);
    return run_dial(std::move(s));
}

dial_result engine_driver::dial_expecting(std::vector<core::address_family> expected) {
    start_event s;
    s.how = start_event::kind::expected;
    s.expected = std::move(expected);
    return run_dial(std::move(s));
}

dial_result engine_driver::dial_endpoints(std::vector<core::endpoint> endpoints) {
    start_event s;
    s.how = start_event::kind::endpoints;
    s.endpoints = std::move(endpoints);
    return run_dial(std::move(s));
}

dial_result engine_driver::run_dial(start_event start) {
    feed(start);
    run();
    return finish();
}

void engine_driver::schedule(core::time_point at, engine_event e, source from, std::uint64_t tag) {
    const std::uint64_t tie = tie_breaker_ ? tie_breaker_() : 0;
    queue_.emplace(order{at, tie, seq_++}, queued{std::move(e), from, tag});
}

// GCC 12 reports the inactive alternative of a timeline entry (an answer event's TTL) as
// maybe-uninitialized when an action is pushed: a false positive of its variant analysis.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
void engine_driver::feed(const engine_event& e) {
    if (std::holds_alternative<timer_event>(e) && armed_ && now_ >= *armed_) {
        armed_.reset();  // the wake-up fired: spent
        ++timer_generation_;
    }
    timeline_.push_back({now_, e});
    testing::feed(engine_, now_, e);
    std::vector<core::action> actions;
    while (auto a = engine_.next_action()) {
        actions.push_back(std::move(*a));
    }
    for (const auto& a : actions) {
        timeline_.push_back({now_, a});
        carry_out(a);
    }
    contract_.check(now_, e, actions);
    if (observer_) {
        observer_(driver_step{now_, e, actions});
    }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

void engine_driver::carry_out(const core::action& a) {
    if (const auto* l = std::get_if<core::start_lookup>(&a)) {
        const auto& script = lookups_[static_cast<std::size_t>(l->family)];
        if (!script) {
            schedule(now_, answer_event{{l->family, {}, boost::asio::error::host_not_found}});
        } else if (!script->never) {
            schedule(now_ + script->after,
                     answer_event{{l->family, script->addresses, script->error}});
        }
    } else if (const auto* s = std::get_if<core::start_attempt>(&a)) {
        const auto it = scripts_.find(s->target);
        const attempt_script& how = it != scripts_.end() ? it->second : unscripted_;
        if (how.outcome != attempt_script::kind::never) {
            const core::error_code ec =
                how.outcome == attempt_script::kind::connects ? core::error_code{} : how.error;
            pending_[s->id] = true;
            schedule(now_ + how.after, result_event{s->id, ec}, source::result, s->id);
        }
    } else if (const auto* c = std::get_if<core::cancel_attempt>(&a)) {
        const auto it = pending_.find(c->id);
        if (it != pending_.end()) {  // the socket is closed: the result is dropped, or stale
            it->second = report_cancelled_ && report_cancelled_(c->id);
        }
    } else if (const auto* t = std::get_if<core::set_timer>(&a)) {
        armed_ = t->at;
        ++timer_generation_;
        if (!manual_timers_) {
            schedule(std::max(t->at, now_), timer_event{}, source::timer, timer_generation_);
        }
    } else if (std::holds_alternative<core::cancel_timer>(a)) {
        armed_.reset();
        ++timer_generation_;
    }
}

// Drops the scheduled events that are not to happen any more (a replaced or cancelled wake-up,
// the result of an attempt cancelled meanwhile); true when a due event is next.
bool engine_driver::next_due() {
    while (!queue_.empty()) {
        const queued& q = queue_.begin()->second;
        bool due = true;
        if (q.from == source::timer) {
            due = armed_ && q.tag == timer_generation_;
        } else if (q.from == source::result) {
            const auto it = pending_.find(q.tag);
            due = it != pending_.end() && it->second;
            if (!due && it != pending_.end()) {
                pending_.erase(it);
            }
        }
        if (due) {
            return true;
        }
        queue_.erase(queue_.begin());
    }
    return false;
}

bool engine_driver::step() {
    if (!next_due()) {
        return false;
    }
    const auto it = queue_.begin();
    const core::time_point at = std::get<0>(it->first);
    const queued q = std::move(it->second);
    queue_.erase(it);
    if (q.from == source::result) {
        pending_.erase(q.tag);
    }
    now_ = std::max(now_, at);
    if (++events_ > max_events_) {
        contract_.flag(now_, "more than " + std::to_string(max_events_) + " events: a livelock?");
        queue_.clear();
        return false;
    }
    feed(q.event);
    return true;
}

void engine_driver::run() {
    while (step()) {
    }
}

void engine_driver::run_until(core::time_point t) {
    while (next_due() && std::get<0>(queue_.begin()->first) <= t && step()) {
    }
    now_ = std::max(now_, t);
}

dial_result engine_driver::finish() {
    contract_.finish(engine_);
    dial_result r;
    r.done = engine_.done();
    r.trace = engine_.trace();
    if (contract_.result()) {
        r.outcome = *contract_.result();
    }
    r.elapsed = (r.done ? contract_.done_at() : now_) - r.trace.started;
    r.violations = contract_.violations();
    return r;
}

std::string engine_driver::describe() const {
    std::ostringstream os;
    for (const auto& entry : timeline_) {
        os << "  +" << ms(entry.at - start_);
        if (const auto* e = std::get_if<engine_event>(&entry.what)) {
            os << " " << *e << "\n";
        } else if (const auto* t =
                       std::get_if<core::set_timer>(&std::get<core::action>(entry.what))) {
            os << "   -> set_timer{+" << ms(t->at - start_) << "}\n";
        } else {
            os << "   -> " << std::get<core::action>(entry.what) << "\n";
        }
    }
    for (const auto& v : contract_.violations()) {
        os << "  !! " << v << "\n";
    }
    return os.str();
}

}  // namespace happy_dial::testing
