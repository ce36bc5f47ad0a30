// The sans-I/O Happy Eyeballs v2 (RFC 8305) decision engine.
#pragma once

#include <happy_dial/core/actions.hpp>
#include <happy_dial/core/address_queue.hpp>
#include <happy_dial/core/engine_config.hpp>
#include <happy_dial/core/hints.hpp>
#include <happy_dial/core/target.hpp>
#include <happy_dial/core/trace.hpp>
#include <happy_dial/core/types.hpp>

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <span>
#include <vector>

namespace happy_dial::core {

/// One resolution answer: the addresses of one query (or of a caller-given list), or its error.
/// An empty `endpoints` with no error is a negative answer (NODATA).
struct resolution_answer {
    /// The query this answer completes; empty for addresses not tied to a query (ranges,
    /// literals, hints), which the engine merges without waiting on anything.
    std::optional<address_family> family;
    std::vector<endpoint> endpoints;  ///< the addresses, in the resolver's order
    error_code error;                 ///< the lookup's error; empty for positive and NODATA
    /// The smallest TTL of the answer's records, for callers that cache; negative when the
    /// resolver does not know it (getaddrinfo). A plain value, not an optional: GCC 12 flags an
    /// optional here as maybe-uninitialized inside the test kit's variants.
    std::chrono::seconds ttl{-1};
    /// Per endpoint, its service group (HTTPS records, draft-ietf-happy-happyeyeballs-v3 §4):
    /// every address of a lower group is tried before any of a higher one, the families
    /// interleaved within a group. Empty: every endpoint is in group 0.
    std::vector<std::uint16_t> groups{};
};

/// Decides which address to try when, what to cancel, when to stop and which error to report.
///
/// Feed it events, each with the current time; after each, drain next_action() until it returns
/// nothing and carry the actions out. It never reads a clock and never touches a socket, so
/// tests can drive it with a fake clock. Reports for attempts the engine already ended, timers
/// that fire early or late, and every event after dial_done are ignored, so a driver need not
/// filter stale completions. An event fed while actions are still queued is fine: its actions
/// are appended behind them.
class dial_engine {
  public:
    /// `config` must pass validate(); it is normalized here.
    explicit dial_engine(engine_config config);

    /// Gives the dial what a history knows (call before start). With `hints.sort`, addresses
    /// are ordered by RFC 6724 and the history rules (destination_order.hpp) and the first
    /// family follows from that order; each attempt's delay comes from its address's hint.
    void set_hints(dial_hints hints);

    /// Adds or completes the hint of one address (a source found by a probe once its answer
    /// arrived); takes effect for addresses accepted afterwards.
    void add_hint(const address_hint& hint);

    /// The hints in force, sorted by address.
    const dial_hints& hints() const noexcept { return hints_; }
    /// The hint of address `a`, or null when the hints say nothing about it (a binary search).
    const address_hint* hint_of(const boost::asio::ip::address& a) const noexcept;

    /// Starts a dial to `target` (see parse_target). A target with an error ends the dial at
    /// once with that error; an IP literal with a numeric port is dialled without a lookup;
    /// otherwise the engine asks for one start_lookup per family the policy allows, AAAA first
    /// (RFC 8305 §3), only the literal's own family for a literal with a service name.
    void start(time_point now, const dial_target& target);

    /// Starts a dial that waits for answers to the queries of `expected` families, which the
    /// caller sends itself (no start_lookup is issued). An empty
    /// list with no later answer fails with error::no_endpoints.
    void start(time_point now, std::initializer_list<address_family> expected);
    /// As above, with the expected families in a vector.
    void start(time_point now, const std::vector<address_family>& expected);

    /// Starts a dial over a known list of endpoints (no resolution, no Resolution Delay).
    void start_with_endpoints(time_point now, std::span<const endpoint> endpoints);
    /// The same for a braced list.
    void start_with_endpoints(time_point now, std::initializer_list<endpoint> endpoints) {
        start_with_endpoints(now, std::span<const endpoint>(endpoints.begin(), endpoints.size()));
    }

    /// A resolution answer arrived (§3); later answers for a family are merged (§6).
    void on_answer(time_point now, resolution_answer answer);

    /// Addresses from one more source are due, beyond the expected A and AAAA answers (an HTTPS
    /// service's target name being looked up, RFC 9460 §3 and v3 draft §4): until it is
    /// settled the dial does not give up for lack of addresses. Its addresses come through
    /// on_answer as answers without a family.
    void expect_source() noexcept { ++pending_sources_; }
    /// A source announced by expect_source() is settled (its addresses, if any, were given to
    /// on_answer already).
    void settle_source(time_point now);

    /// Withdraws provisional addresses not attempted yet (an HTTPS record's hints that the
    /// A/AAAA answer did not hold, draft-ietf-happy-happyeyeballs-v3 §4): they are skipped when
    /// their turn comes and the trace names them withdrawn. Attempted ones are not affected.
    void withdraw(time_point now, std::span<const endpoint> endpoints);

    /// Attempt `id` connected (`ec` empty) or failed. With a stage after the transport (a TLS
    /// handshake), "connected" means the stage succeeded: the attempt wins.
    void on_attempt_result(time_point now, attempt_id id, error_code ec);

    /// Attempt `id`'s transport connected and its stage started; the attempt keeps running
    /// until on_attempt_result. From now on handshake_timeout applies to it instead of
    /// attempt_timeout, and the next attempt waits handshake_grace from now.
    void on_attempt_connected(time_point now, attempt_id id);

    /// The wake-up requested with set_timer fired (early, late or spurious calls are harmless).
    void on_timer(time_point now);

    /// The caller cancelled the dial.
    void cancel(time_point now, cancel_kind kind);

    /// The next action to carry out, or nothing when the engine waits for an event.
    std::optional<action> next_action();

    /// Whether dial_done was issued.
    bool done() const noexcept { return finished_; }
    /// Every answer and attempt so far.
    const dial_trace& trace() const noexcept { return trace_; }
    /// The family tried first (after hints; once attempts began, the one that went first).
    address_family first_family() const noexcept { return queue_.preferred(); }
    /// The normalized configuration in force.
    const engine_config& config() const noexcept { return config_; }

  private:
    void begin(time_point now);
    void accept(time_point now,
                std::optional<address_family> family,
                std::span<const endpoint> endpoints,
                error_code error,
                std::chrono::seconds ttl = std::chrono::seconds(-1),
                std::span<const std::uint16_t> groups = {});
    void step(time_point now);
    void start_due_attempts(time_point now);
    void expire_attempts(time_point now);
    void expire_handshakes(time_point now);
    bool other_family_allowed(time_point now) const noexcept;
    bool resolution_complete() const noexcept;
    bool expects(address_family f) const noexcept;
    duration stagger_delay(time_point start,
                           const endpoint& target,
                           delay_source* why = nullptr) const noexcept;
    bool before(const endpoint& a, const endpoint& b) const noexcept;
    void choose_first_family();
    void settle_endpoint_fates();
    void replan_next_start();
    std::optional<time_point> next_wakeup(time_point now) const noexcept;
    void arm(std::optional<time_point> at);
    void end_attempt(time_point now, attempt_id id, attempt_outcome outcome, error_code ec);
    void cancel_running(time_point now);
    void finish(time_point now, error_code ec, std::optional<attempt_id> winner);
    error_code failure_reason() const;

    engine_config config_;
    address_family preferred_;
    address_queue queue_;
    dial_hints hints_;
    std::optional<address_family> explicit_first_;  // prefer_ipv4 outranks RFC 6724 rule 6
    dial_trace trace_;
    // A FIFO: next_action() reads at actions_head_; drained, it is cleared and reused.
    small_vector<action, 4> actions_;
    std::size_t actions_head_ = 0;

    bool started_ = false;
    bool finished_ = false;
    bool partially_cancelled_ = false;
    std::optional<time_point> deadline_;

    // Resolution (§3): which queries are awaited and which answered.
    bool expected_[2] = {false, false};
    bool answered_[2] = {false, false};
    unsigned pending_sources_ = 0;  // expect_source() minus settle_source()
    error_code answer_error_[2];
    std::optional<time_point> resolution_delay_until_;

    // Attempts (§5).
    small_vector<attempt_id, 2> running_;  // in start order
    std::size_t connected_running_ = 0;    // of running_, those in their stage
    std::optional<time_point> last_start_;
    std::optional<time_point> next_start_at_;
    std::optional<time_point> armed_;

    // Why addresses were turned away, to name the error when none is left.
    std::size_t rejected_invalid_ = 0;
    std::size_t rejected_family_ = 0;
    std::size_t rejected_filter_ = 0;
    // Addresses withdrawn before their turn (withdraw()); empty for nearly every dial.
    std::vector<endpoint> withdrawn_;
};

}  // namespace happy_dial::core
