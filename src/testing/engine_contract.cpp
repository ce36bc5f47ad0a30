// engine_contract: the events, the actions as they come.
#include "contract_text.hpp"

#include <happy_dial/error.hpp>
#include <happy_dial/testing/engine_contract.hpp>

#include <boost/asio/error.hpp>

#include <chrono>
#include <sstream>
#include <utility>

namespace happy_dial::testing {
namespace {

using core::address_family;
using core::duration;
using core::time_point;
using detail::index;
using detail::ms;
using detail::text;

}  // namespace

engine_contract::engine_contract(core::engine_config config)
    : config_(core::normalize(std::move(config))) {}

void engine_contract::violation(const std::string& what) {
    flag(now_, what);
}

void engine_contract::flag(time_point now, const std::string& what) {
    constexpr std::size_t most = 100;  // a livelock would repeat one forever
    if (violations_.size() < most) {
        violations_.push_back("t=" + (started_ ? ms(now - t0_) : std::string("?")) + ": " + what);
    } else if (violations_.size() == most) {
        violations_.push_back("(further violations are not recorded)");
    }
}

bool engine_contract::allowed(address_family f) const noexcept {
    using core::family_preference;
    return (config_.preference != family_preference::ipv6_only || f == address_family::ipv6) &&
           (config_.preference != family_preference::ipv4_only || f == address_family::ipv4);
}

bool engine_contract::awaiting(address_family f) const noexcept {
    return started_ && !done() && expected_[index(f)] && !answered_[index(f)];
}

std::vector<core::attempt_id> engine_contract::running() const {
    std::vector<core::attempt_id> out;
    for (std::size_t i = 0; i < attempts_.size(); ++i) {
        if (attempts_[i].how == state::running) {
            out.push_back(i);
        }
    }
    return out;
}

std::size_t engine_contract::untried() const {
    std::size_t n = 0;
    for (const auto& ep : usable_) {
        n += tried_.count(ep) == 0 ? 1u : 0u;
    }
    return partial_ ? 0 : n;
}

// Mirrors dial_engine::accept: which endpoints the engine may dial.
void engine_contract::learn(const core::endpoint& ep) {
    if (partial_) {
        return;  // nothing is accepted after a partial cancel
    }
    seen_.insert(ep);
    if (!core::is_dialable(ep)) {
        ++rejected_invalid_;
    } else if (!allowed(core::family_of(ep))) {
        ++rejected_family_;
    } else if (refused_.count(ep) != 0) {
        ++rejected_filter_;
    } else if (usable_.count(ep) == 0) {
        bool ok = true;
        if (config_.endpoint_filter) {
            try {
                ok = config_.endpoint_filter(ep);
            } catch (...) {
                ok = false;
            }
        }
        if (ok) {
            usable_.insert(ep);
        } else {
            ++rejected_filter_;
            refused_.insert(ep);
        }
    }
}

void engine_contract::check(time_point now,
                            const engine_event& e,
                            std::span<const core::action> actions) {
    if (fed_ && now < now_) {
        flag(now, "event fed out of time order: " + ms(now_ - now) + " before the previous one");
    }
    fed_ = true;
    now_ = now;
    batch b;
    event(e, b);
    if (b.ignored && !actions.empty() && !done()) {
        violation(text(e) + " must be ignored, yet the engine answered " + text(actions.front()));
    }
    for (const auto& a : actions) {
        action(a, b);
    }
    settle(b);
}

void engine_contract::event(const engine_event& e, batch& b) {
    const bool live = started_ && !done();
    if (live && armed_ && now_ > *armed_) {
        late_ = true;  // a wake-up was due before this event
    }
    if (const auto* s = std::get_if<start_event>(&e)) {
        if (started_) {
            b.ignored = true;  // a second start
            return;
        }
        started_ = true;
        t0_ = now_;
        if (config_.overall_timeout) {
            deadline_ = now_ + *config_.overall_timeout;
        }
        if (s->how == start_event::kind::target) {
            if (s->target.error) {
                b.target_error = s->target.error;
            } else if (!s->target.needs_lookup()) {
                ++answers_;
                learn(s->target.literal_endpoint());
            } else {
                b.lookup_start = true;
                if (s->target.literal) {
                    b.literal_family = core::family_of(core::endpoint{*s->target.literal, 0});
                }
            }
        } else if (s->how == start_event::kind::expected) {
            for (auto f : s->expected) {
                expected_[index(f)] = expected_[index(f)] || allowed(f);
            }
        } else {
            ++answers_;
            for (const auto& ep : s->endpoints) {
                learn(ep);
            }
        }
        return;
    }
    if (!live) {
        b.ignored = true;  // before the start or after dial_done
        return;
    }
    if (const auto* a = std::get_if<answer_event>(&e)) {
        ++answers_;
        if (a->answer.family) {
            answered_[index(*a->answer.family)] = true;
            answer_error_[index(*a->answer.family)] = a->answer.error;
        }
        for (const auto& ep : a->answer.endpoints) {
            learn(ep);
        }
    } else if (const auto* r = std::get_if<result_event>(&e)) {
        if (r->id >= attempts_.size() || attempts_[r->id].how != state::running) {
            b.ignored = true;  // stale, duplicate or unknown
            return;
        }
        auto& at = attempts_[r->id];
        at.ended = now_;
        at.how = r->error ? state::failed : state::connected;
        at.error = r->error;
        --running_;
        if (!r->error) {
            b.success = r->id;
        }
    } else if (std::holds_alternative<timer_event>(e)) {
        if (armed_ && now_ >= *armed_) {
            armed_.reset();  // fired: spent
        }
    } else if (const auto* c = std::get_if<cancel_event>(&e)) {
        cancelled_ = true;
        b.terminal = c->kind == core::cancel_kind::terminal;
        partial_ = partial_ || !b.terminal;
    }
}

void engine_contract::action(const core::action& a, batch& b) {
    if (done()) {
        violation("action after dial_done: " + text(a));
        return;
    }
    if (const auto* l = std::get_if<core::start_lookup>(&a)) {
        const auto f = l->family;
        const bool wanted = b.literal_family ? f == *b.literal_family : allowed(f);
        if (!b.lookup_start) {
            violation(text(a) + " not in reply to start(target)");
        } else if (b.lookups[index(f)]) {
            violation(text(a) + " twice");
        } else if (!wanted) {
            violation(text(a) + " for a family that is not to be looked up");
        } else if (f == address_family::ipv6 && b.lookups[index(address_family::ipv4)]) {
            violation("the A lookup was asked before the AAAA one (RFC 8305 §3)");
        }
        b.lookups[index(f)] = true;
        expected_[index(f)] = true;
    } else if (const auto* s = std::get_if<core::start_attempt>(&a)) {
        attempt_started(*s);
    } else if (const auto* c = std::get_if<core::cancel_attempt>(&a)) {
        if (c->id >= attempts_.size() || attempts_[c->id].how != state::running) {
            violation(text(a) + " for an attempt that is not running");
            return;
        }
        attempts_[c->id].how = state::cancelled;  // or timed out: settled with the reply
        attempts_[c->id].ended = now_;
        --running_;
        b.cancels.push_back(c->id);
    } else if (const auto* t = std::get_if<core::set_timer>(&a)) {
        if (t->at <= now_) {
            violation("set_timer at or before now (" + ms(t->at - now_) +
                      "): the driver would spin");
        }
        if (deadline_ && t->at > *deadline_) {
            violation("set_timer " + ms(t->at - *deadline_) + " past the deadline");
        }
        armed_ = t->at;
    } else if (std::holds_alternative<core::cancel_timer>(a)) {
        if (!armed_) {
            violation("cancel_timer with no wake-up armed");
        }
        armed_.reset();
    } else {
        dial_done(std::get<core::dial_done>(a), b);
    }
}

void engine_contract::attempt_started(const core::start_attempt& s) {
    const std::string what = text(core::action{s});
    if (s.id != attempts_.size()) {
        violation(what + ": ids are dense from 0, expected " + std::to_string(attempts_.size()));
    }
    if (!core::is_dialable(s.target)) {
        violation(what + ": not dialable");
    } else if (!allowed(core::family_of(s.target))) {
        violation(what + ": a family the policy excludes");
    } else if (seen_.count(s.target) == 0) {
        violation(what + ": an endpoint no answer gave");
    } else if (usable_.count(s.target) == 0) {
        violation(what + ": an endpoint the endpoint_filter refused");
    }
    if (!tried_.insert(s.target).second) {
        violation(what + ": that endpoint was started before");
    }
    if (cancelled_) {
        violation(what + " after a cancel");
    }
    if (last_start_ && now_ < *last_start_ + core::limits::min_attempt_delay) {
        violation(what + " " + ms(now_ - *last_start_) +
                  " after the previous start, less than 10 ms (RFC 8305 §5)");
    }
    if (deadline_ && now_ >= *deadline_) {
        violation(what + " at or past the deadline");
    }
    ++running_;
    const auto cap = config_.max_concurrent_attempts;
    if (cap != 0 && running_ > cap) {
        violation(what + ": " + std::to_string(running_) + " attempts running, above the cap of " +
                  std::to_string(cap));
    }
    attempts_.push_back({s.target, now_, {}, state::running, {}});
    last_start_ = now_;
}

}  // namespace happy_dial::testing
