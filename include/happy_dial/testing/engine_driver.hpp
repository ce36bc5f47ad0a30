// A deterministic fake-clock driver for core::dial_engine: scripted lookups and endpoints, events
// fed in time order, every action carried out, and the engine's contract checked throughout.
#pragma once

#include <happy_dial/core/dial_engine.hpp>
#include <happy_dial/testing/engine_contract.hpp>

#include <boost/asio/error.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>
#include <vector>

namespace happy_dial::testing {

/// What a connection attempt to one endpoint does once the engine starts it.
struct attempt_script {
    /// The attempt's fate.
    enum class kind {
        connects,  ///< reports success `after` the start
        fails,     ///< reports `error` `after` the start
        never,     ///< never reports (a black hole): only a cancel_attempt ends it
    };
    kind outcome = kind::never;  ///< what happens
    core::duration after{};      ///< when, counted from start_attempt
    core::error_code error;      ///< the error of kind::fails
};

/// An attempt that connects `after` it starts.
attempt_script connects_after(core::duration after);
/// An attempt that fails with `error` (a refusal by default) `after` it starts.
attempt_script fails_after(core::duration after,
                           core::error_code error = boost::asio::error::connection_refused);
/// An attempt that never answers (a black-holed address).
attempt_script never_answers();

/// One line of a driven dial's timeline: an event fed to the engine, or an action it asked for.
struct timeline_entry {
    core::time_point at;                            ///< the fake time
    std::variant<engine_event, core::action> what;  ///< the event, or the action
};

/// One event fed and the engine's reply, as an observer (engine_driver::observe) sees it.
struct driver_step {
    core::time_point at;                       ///< the fake time
    const engine_event& event;                 ///< the event fed
    const std::vector<core::action>& actions;  ///< the actions the engine queued, in order
};

/// How a driven dial ended.
struct dial_result {
    bool done = false;                    ///< the engine issued dial_done
    core::dial_done outcome;              ///< dial_done's error and winner (when done)
    core::duration elapsed{};             ///< from the start to dial_done (or to the last event)
    core::dial_trace trace;               ///< the engine's trace
    std::vector<std::string> violations;  ///< what the contract checker found; empty: none

    /// The winner's address, when the dial succeeded.
    std::optional<core::endpoint> winner() const;
    /// When attempt `id` started, counted from the start of the dial.
    core::duration started(core::attempt_id id) const;
};

/// Drives one core::dial_engine through a scripted network with a fake clock, deterministically:
/// @code
/// engine_driver d;                                    // default engine_config, RFC 8305 delays
/// d.answer(address_family::ipv6, {v6});               // AAAA at once
/// d.answer(address_family::ipv4, {v4}, 20ms);         // A after 20 ms
/// d.endpoint(v6, never_answers());                    // IPv6 black-holed
/// d.endpoint(v4, connects_after(30ms));
/// const dial_result r = d.dial("example.test", "443");
/// // r.winner() == v4, r.elapsed == 280ms (IPv4 starts at 250 ms), r.violations.empty()
/// @endcode
/// It carries out every action: start_lookup schedules the scripted answer, start_attempt the
/// endpoint's scripted result, set_timer / cancel_timer the wake-up (on_timer at exactly that
/// time), cancel_attempt drops the pending result. Events are fed in time order; simultaneous
/// ones in the order they were scheduled, unless a tie_breaker() says otherwise. Every event and
/// action goes into the timeline() and through one engine_contract, whose violations the result
/// carries. An unscripted lookup fails at once with host_not_found, an unscripted endpoint is
/// unreachable at once (as with mock_network), unless said otherwise. Not thread-safe.
class engine_driver {
  public:
    /// The fake time a driver starts at unless told: one hour after the clock's epoch.
    static core::time_point default_start() noexcept;

    /// A driver for an engine built with `config`, which must pass validate() (else throws
    /// boost::system::system_error); its clock starts at `start`.
    explicit engine_driver(core::engine_config config = {},
                           core::time_point start = default_start());

    /// Scripts the answer to start_lookup{family}: `addresses` (none: NODATA) `after` the lookup
    /// starts, or `error` when set.
    engine_driver& answer(core::address_family family,
                          std::vector<core::endpoint> addresses,
                          core::duration after = {},
                          core::error_code error = {});
    /// The lookup of `family` never gets an answer.
    engine_driver& never_answer(core::address_family family);
    /// Scripts what an attempt to `target` does.
    engine_driver& endpoint(const core::endpoint& target, attempt_script how);
    /// What an attempt to an endpoint without a script does (default: unreachable at once).
    engine_driver& unscripted_endpoints(attempt_script how);

    /// Feeds `answer` `at` that long after the driver's start, asked for or not (an answer to
    /// a query the caller sent itself, a late second answer, a list with no family).
    engine_driver& answer_at(core::duration at, core::resolution_answer answer);
    /// The caller cancels the dial `at` that long after the driver's start.
    engine_driver& cancel_at(core::duration at,
                             core::cancel_kind kind = core::cancel_kind::terminal);
    /// A spurious on_timer `at` that long after the driver's start.
    engine_driver& wake_at(core::duration at);
    /// An extra on_attempt_result(id, error) `at` that long after the driver's start (a
    /// duplicate, a stale report, an id never handed out).
    engine_driver& report_at(core::duration at, core::attempt_id id, core::error_code error);

    /// Decides, for each attempt the engine cancels while its scripted result is pending,
    /// whether that result is reported anyway (a stale report, which the engine must ignore).
    /// By default it is dropped.
    engine_driver& report_cancelled(std::function<bool(core::attempt_id)> deliver);
    /// Orders simultaneous events by the keys `key` returns (one per scheduled event), e.g.
    /// random numbers; by default they keep the order they were scheduled in.
    engine_driver& tie_breaker(std::function<std::uint64_t()> key);
    /// With `manual` true the wake-ups are not fed by themselves: feed timer_event{} (on time,
    /// early or late) by hand; contract().armed() tells when one is due.
    engine_driver& manual_timers(bool manual = true);
    /// Stops a run after `n` events with a violation (a livelock); default 100,000.
    engine_driver& max_events(std::size_t n);
    /// Calls `observer` after each event fed, with the engine's reply (already carried out).
    engine_driver& observe(std::function<void(const driver_step&)> observer);

    /// Dials `host`:`service` (parse_target, then start(target)), runs to the end, finish().
    dial_result dial(std::string_view host, std::string_view service);
    /// start(now, expected), then runs to the end: answers come only from answer_at().
    dial_result dial_expecting(std::vector<core::address_family> expected);
    /// start_with_endpoints(now, endpoints), then runs to the end.
    dial_result dial_endpoints(std::vector<core::endpoint> endpoints);

    /// Feeds `e` now and carries out the engine's reply.
    void feed(const engine_event& e);
    /// Feeds the next scheduled event, moving the clock to its time. False when none is left.
    bool step();
    /// Feeds scheduled events until none is left, or max_events() is reached.
    void run();
    /// Feeds the events scheduled up to `t`, then moves the clock to `t` (if later than now).
    void run_until(core::time_point t);
    /// run_until(now() + d).
    void advance(core::duration d) { run_until(now_ + d); }
    /// Ends the checks (engine_contract::finish) and returns the result; the dial may go on.
    dial_result finish();

    /// The fake time now.
    core::time_point now() const noexcept { return now_; }
    /// The time the driver's clock started at (the origin of the *_at() times).
    core::time_point start_time() const noexcept { return start_; }
    /// The engine driven.
    const core::dial_engine& engine() const noexcept { return engine_; }
    /// The contract checker every event and action goes through.
    const engine_contract& contract() const noexcept { return contract_; }
    /// Every event fed and action taken so far, in order.
    const std::vector<timeline_entry>& timeline() const noexcept { return timeline_; }
    /// The timeline and the violations, one per line, with times since the start.
    std::string describe() const;

  private:
    struct lookup {
        std::vector<core::endpoint> addresses;
        core::duration after{};
        core::error_code error;
        bool never = false;
    };
    enum class source { script, timer, result };
    struct queued {
        engine_event event;
        source from = source::script;
        std::uint64_t tag = 0;  // timer: generation; result: attempt id
    };
    using order = std::tuple<core::time_point, std::uint64_t, std::uint64_t>;

    void schedule(core::time_point at,
                  engine_event e,
                  source from = source::script,
                  std::uint64_t tag = 0);
    void carry_out(const core::action& a);
    bool next_due();
    dial_result run_dial(start_event start);

    core::time_point start_;
    core::time_point now_;
    core::dial_engine engine_;
    engine_contract contract_;
    std::optional<lookup> lookups_[2];
    std::map<core::endpoint, attempt_script> scripts_;
    attempt_script unscripted_;
    std::map<order, queued> queue_;
    std::uint64_t seq_ = 0;
    std::function<std::uint64_t()> tie_breaker_;
    std::function<bool(core::attempt_id)> report_cancelled_;
    std::function<void(const driver_step&)> observer_;
    bool manual_timers_ = false;
    std::size_t max_events_ = 100000;
    std::size_t events_ = 0;
    std::uint64_t timer_generation_ = 0;
    std::optional<core::time_point> armed_;
    std::map<core::attempt_id, bool> pending_;  // scripted results to come: true = report it
    std::vector<timeline_entry> timeline_;
};

}  // namespace happy_dial::testing
