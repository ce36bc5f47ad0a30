// The dial engine's contract, checked: one checker fed every event a driver gives
// core::dial_engine and every action the engine answers with.
#pragma once

#include <happy_dial/core/dial_engine.hpp>

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace happy_dial::testing {

/// The start of a dial: which of dial_engine's start functions is called.
struct start_event {
    /// The start function.
    enum class kind {
        target,     ///< start(now, target): the engine asks for the lookups (start_lookup)
        expected,   ///< start(now, expected): the caller sends the queries of `expected` itself
        endpoints,  ///< start_with_endpoints(now, endpoints)
    };
    kind how = kind::endpoints;                  ///< which start function
    core::dial_target target;                    ///< the target of kind::target
    std::vector<core::address_family> expected;  ///< the families of kind::expected
    std::vector<core::endpoint> endpoints;       ///< the list of kind::endpoints
};

/// on_answer(now, answer).
struct answer_event {
    core::resolution_answer answer;  ///< the answer fed
};

/// on_attempt_result(now, id, error).
struct result_event {
    core::attempt_id id = 0;  ///< the attempt reported on
    core::error_code error;   ///< empty: connected
};

/// on_timer(now).
struct timer_event {};

/// cancel(now, kind).
struct cancel_event {
    core::cancel_kind kind = core::cancel_kind::terminal;  ///< terminal or partial
};

/// One input of the engine.
using engine_event =
    std::variant<start_event, answer_event, result_event, timer_event, cancel_event>;

/// Prints `e` on one line, e.g. `on_attempt_result{1, connected}`.
std::ostream& operator<<(std::ostream& os, const engine_event& e);

/// Calls the member function of `engine` that `e` stands for, at `now`.
void feed(core::dial_engine& engine, core::time_point now, const engine_event& e);

/// Checks one dial's events and actions against the engine's contract (core/actions.hpp,
/// core/dial_engine.hpp, docs/design.md) and collects every violation. Feed it each event with
/// the actions the engine queued in reply (check()), in time order, then call finish() with the
/// engine once the dial is over. It checks:
///
///  * events: fed in time order; an event before the start, after dial_done, a second start, or
///    a report on an attempt that is not running (stale, duplicate, unknown id) gets no action;
///  * start_lookup: only in reply to start(target), once per family, AAAA first, only the
///    families the policy allows (a literal with a service name: its own family);
///  * start_attempt: ids dense from 0; the target dialable (is_dialable), allowed by the family
///    policy and the endpoint filter, given by an answer or the start, never started twice;
///    never within 10 ms of the previous start (RFC 8305 §5), never at or past the deadline,
///    never after a cancel, never beyond max_concurrent_attempts;
///  * cancel_attempt: only for a running attempt; one that does not end the dial (a win, the
///    deadline, a terminal cancel) is that attempt's per-attempt timeout, exactly when it is due;
///  * set_timer strictly after now (a wake-up at or before now would spin) and not past the
///    deadline; cancel_timer only for an armed wake-up;
///  * dial_done: exactly one, the last action; then no attempt runs and no wake-up is armed; a
///    winner iff no error, and only the attempt whose success the event reported; a terminal
///    cancel ends the dial at once with operation_aborted; a dial with a deadline ends no later
///    than it and error::timed_out comes exactly at it (both provided every wake-up is fed on
///    time); operation_aborted only after a cancel; any other failure only once every expected
///    answer is in and every usable address was tried, with the error of the first attempt
///    (spec F.29: possibly operation_aborted) or, with none, the reason no address was left;
///  * progress, after every event: a dial still running with no wake-up armed has no address
///    waiting (unless at the cap) and an attempt running or an expected answer outstanding;
///    after a partial cancel it ends once no attempt runs; an event at or past the deadline
///    (other than an ignored report) ends it;
///  * the trace (finish()): done() agrees, every answer and attempt recorded as seen (target,
///    start, end, outcome, error).
///
/// Scenario-specific rules (RFC 8305 timing and order: when the first attempt starts, the §4
/// interleaving, the stagger) are not contract and stay with the tests. The checker calls
/// `config.endpoint_filter` once per distinct endpoint it sees, so the filter must be pure.
class engine_contract {
  public:
    /// A checker for a dial whose engine was built with `config` (it is normalized here).
    explicit engine_contract(core::engine_config config);

    /// `event` was fed at `now` and the engine queued `actions` in reply (drained in order).
    void check(core::time_point now,
               const engine_event& event,
               std::span<const core::action> actions);

    /// The end-of-dial checks against `engine`'s trace. Call it once, after the last event;
    /// a dial still running (no dial_done) is compared only for done().
    void finish(const core::dial_engine& engine);

    /// Records a finding of the driver itself (e.g. a livelock), in the same list.
    void flag(core::time_point now, const std::string& what);

    /// Every violation so far, in the order found, each as "t=<ms since the start>ms: <rule>".
    const std::vector<std::string>& violations() const noexcept { return violations_; }
    /// True while no violation was found.
    bool ok() const noexcept { return violations_.empty(); }

    /// Whether dial_done was seen.
    bool done() const noexcept { return result_.has_value(); }
    /// The dial_done seen, if any.
    const std::optional<core::dial_done>& result() const noexcept { return result_; }
    /// When dial_done was seen (meaningful once done()).
    core::time_point done_at() const noexcept { return done_at_; }
    /// The wake-up the engine asked for and that is neither cancelled nor spent.
    std::optional<core::time_point> armed() const noexcept { return armed_; }
    /// The attempts started and not yet reported on or cancelled, in id order.
    std::vector<core::attempt_id> running() const;
    /// Whether the engine waits for the answer of query `f`.
    bool awaiting(core::address_family f) const noexcept;
    /// The usable addresses given and not started yet (none after a partial cancel).
    std::size_t untried() const;

  private:
    enum class state { running, connected, failed, cancelled, timed_out };
    struct attempt {
        core::endpoint target;
        core::time_point started;
        core::time_point ended;
        state how = state::running;
        core::error_code error;
    };
    // What one event should do, and what its reply did.
    struct batch {
        bool ignored = false;       // the engine must not answer
        bool lookup_start = false;  // start(target) that needs lookups
        std::optional<core::address_family> literal_family;
        core::error_code target_error;  // start(target) with a bad target
        bool terminal = false;          // a terminal cancel of a running dial
        std::optional<core::attempt_id> success;
        std::vector<core::attempt_id> cancels;  // cancel_attempt in this reply, not classified yet
        bool lookups[2] = {false, false};
    };

    void violation(const std::string& what);
    void event(const engine_event& e, batch& b);
    void action(const core::action& a, batch& b);
    void attempt_started(const core::start_attempt& s);
    void timed_out(core::attempt_id id);
    void dial_done(const core::dial_done& d, batch& b);
    void settle(const batch& b);
    void learn(const core::endpoint& ep);
    core::error_code failure_reason() const;
    bool allowed(core::address_family f) const noexcept;

    core::engine_config config_;
    bool fed_ = false;
    core::time_point now_{};
    core::time_point t0_{};
    bool started_ = false;
    std::optional<core::time_point> deadline_;
    bool expected_[2] = {false, false};
    bool answered_[2] = {false, false};
    core::error_code answer_error_[2];
    std::size_t answers_ = 0;
    std::set<core::endpoint> seen_;     // every endpoint given
    std::set<core::endpoint> usable_;   // of those, accepted: dialable, policy, filter
    std::set<core::endpoint> refused_;  // refused by the filter
    std::set<core::endpoint> tried_;
    std::size_t rejected_invalid_ = 0, rejected_family_ = 0, rejected_filter_ = 0;
    std::vector<attempt> attempts_;
    std::size_t running_ = 0;
    std::optional<core::time_point> armed_;
    std::optional<core::time_point> last_start_;
    bool cancelled_ = false;
    bool partial_ = false;
    bool late_ = false;  // an event came after a due wake-up: lateness is the driver's
    std::optional<core::dial_done> result_;
    core::time_point done_at_{};
    bool finished_ = false;
    std::vector<std::string> violations_;
};

}  // namespace happy_dial::testing
