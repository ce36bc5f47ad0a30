// engine_contract, the end of the dial: dial_done, each reply's settling, and the trace.
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

// A cancel_attempt that does not end the dial is that attempt's per-attempt timeout, when due.
void engine_contract::timed_out(core::attempt_id id) {
    auto& at = attempts_[id];
    at.how = state::timed_out;
    at.error = error::attempt_timed_out;
    const auto& limit = config_.attempt_timeout;
    if (!limit || (late_ ? now_ < at.started + *limit : now_ != at.started + *limit)) {
        violation("cancel_attempt{" + std::to_string(id) +
                  "} neither ends the dial nor is its per-attempt timeout " +
                  (limit ? "(due at " + ms(at.started + *limit - t0_) + ")" : "(none is set)"));
    }
}

void engine_contract::dial_done(const core::dial_done& d, batch& b) {
    result_ = d;
    done_at_ = now_;
    // The attempts cancelled in this reply: by the end of the dial, or each by its own timeout.
    const bool ends_all = d.winner || d.error == error::timed_out || b.terminal;
    for (const auto id : b.cancels) {
        if (ends_all) {
            attempts_[id].error = boost::asio::error::operation_aborted;
        } else {
            timed_out(id);
        }
    }
    b.cancels.clear();
    const std::string what = text(core::action{d});
    for (const auto id : running()) {
        violation(what + " while attempt " + std::to_string(id) + " still runs");
    }
    if (armed_) {
        violation(what + " with a wake-up still armed");
    }
    if (!d.error != d.winner.has_value()) {
        violation(what + ": a winner if and only if no error");
    }
    if (d.winner) {
        if (b.success != d.winner) {
            violation(what + ": the winner is not the attempt whose success was just reported");
        }
    } else if (b.target_error) {
        if (d.error != b.target_error) {
            violation(what + ": a bad target ends the dial with its own error " +
                      text(b.target_error));
        }
    } else if (b.terminal) {
        if (d.error != boost::asio::error::operation_aborted) {
            violation(what + ": a terminal cancel ends the dial with operation_aborted");
        }
    } else if (d.error == error::timed_out) {
        if (!deadline_ || (late_ ? now_ < *deadline_ : now_ != *deadline_)) {
            violation(what + ": error::timed_out " +
                      (deadline_ ? "not at the deadline (" + ms(*deadline_ - t0_) + ")"
                                 : std::string("without a deadline")));
        }
    } else if (!(d.error == boost::asio::error::operation_aborted && cancelled_)) {
        // The dial failed on its own.
        if (deadline_ && now_ >= *deadline_) {
            violation(what + " at the deadline: that is error::timed_out");
        }
        if (partial_) {
            violation(what + ": after a partial cancel the dial ends with operation_aborted");
        }
        for (auto f : {address_family::ipv6, address_family::ipv4}) {
            if (expected_[index(f)] && !answered_[index(f)]) {
                violation(what + " before the " + core::to_string(f) + " answer came");
            }
        }
        if (untried() > 0) {
            violation(what + " with " + std::to_string(untried()) +
                      " usable address(es) never tried");
        }
        const auto want = failure_reason();
        if (d.error != want) {
            violation(what + ": the error should be " + text(want) + " (spec F.29)");
        }
    }
    if (deadline_ && now_ > *deadline_ && !late_) {
        violation(what + " " + ms(now_ - *deadline_) + " after the deadline");
    }
}

// dial_engine's documented failure reason: the first attempt's error, else why no address
// was left.
core::error_code engine_contract::failure_reason() const {
    for (const auto& at : attempts_) {
        if (at.error) {
            return at.error;
        }
    }
    if (rejected_filter_ > 0) {
        return error::all_endpoints_filtered;
    }
    if (rejected_family_ > 0) {
        return error::family_excluded;
    }
    if (rejected_invalid_ > 0) {
        return error::invalid_endpoint;
    }
    const auto preferred = config_.preference == core::family_preference::prefer_ipv4 ||
                                   config_.preference == core::family_preference::ipv4_only
                               ? address_family::ipv4
                               : address_family::ipv6;
    const auto other =
        preferred == address_family::ipv6 ? address_family::ipv4 : address_family::ipv6;
    if (answer_error_[index(preferred)]) {
        return answer_error_[index(preferred)];
    }
    if (answer_error_[index(other)]) {
        return answer_error_[index(other)];
    }
    return error::no_endpoints;
}

// After the reply to one event: what must have happened, and progress.
void engine_contract::settle(const batch& b) {
    for (const auto id : b.cancels) {  // no dial_done in this reply
        timed_out(id);
    }
    for (auto f : {address_family::ipv6, address_family::ipv4}) {
        const bool wanted = b.literal_family ? f == *b.literal_family : allowed(f);
        if (b.lookup_start && wanted && !b.lookups[index(f)]) {
            violation(std::string("start(target) did not ask for the ") + core::to_string(f) +
                      " lookup");
        }
    }
    if (b.ignored || !started_ || done()) {
        return;
    }
    if (b.target_error) {
        violation("a bad target did not end the dial at once");
    }
    if (b.terminal) {
        violation("a terminal cancel did not end the dial");
    }
    if (partial_ && running_ == 0) {
        violation("partially cancelled with no attempt running, yet the dial goes on");
    }
    if (deadline_ && now_ >= *deadline_) {
        violation("an event at or past the deadline did not end the dial");
    }
    if (!armed_) {
        const auto cap = config_.max_concurrent_attempts;
        const bool room = cap == 0 || running_ < cap;
        if (untried() > 0 && room) {
            violation(std::to_string(untried()) + " address(es) wait, yet no wake-up is armed");
        } else if (running_ == 0 && untried() == 0 && !awaiting(address_family::ipv6) &&
                   !awaiting(address_family::ipv4)) {
            violation("stalled: nothing runs, nothing is awaited, no wake-up, yet no dial_done");
        }
    }
}

void engine_contract::finish(const core::dial_engine& engine) {
    if (finished_) {
        return;
    }
    finished_ = true;
    if (engine.done() != done()) {
        violation(std::string("engine.done() is ") + (engine.done() ? "true" : "false") +
                  ", but dial_done was " + (done() ? "seen" : "not seen"));
    }
    if (!done()) {
        return;
    }
    const auto& tr = engine.trace();
    if (tr.started != t0_) {
        violation("trace: started " + ms(tr.started - t0_) + " after the start event");
    }
    if (tr.answers.size() != answers_) {
        violation("trace: " + std::to_string(tr.answers.size()) + " answers, " +
                  std::to_string(answers_) + " were fed");
    }
    if (tr.attempts.size() != attempts_.size()) {
        violation("trace: " + std::to_string(tr.attempts.size()) + " attempts, " +
                  std::to_string(attempts_.size()) + " were started");
        return;
    }
    using core::attempt_outcome;
    for (std::size_t i = 0; i < attempts_.size(); ++i) {
        const auto& at = attempts_[i];
        const auto& rec = tr.attempts[i];
        const std::string who = "trace: attempt " + std::to_string(i) + ": ";
        if (rec.id != i || rec.target != at.target || rec.started != at.started) {
            violation(who + "id, target or start differ from its start_attempt");
        }
        if (at.how == state::running) {
            continue;  // never ended: reported at dial_done
        }
        const attempt_outcome want = at.how == state::connected   ? attempt_outcome::won
                                     : at.how == state::failed    ? attempt_outcome::failed
                                     : at.how == state::timed_out ? attempt_outcome::timed_out
                                                                  : attempt_outcome::cancelled;
        if (!rec.ended || *rec.ended != at.ended) {
            violation(who + "its end differs from when it ended (" + ms(at.ended - t0_) + ")");
        }
        if (rec.outcome != want || rec.error != at.error) {
            violation(who + core::to_string(rec.outcome) + " (" + text(rec.error) + "), expected " +
                      core::to_string(want) + " (" + text(at.error) + ")");
        }
    }
}

}  // namespace happy_dial::testing
