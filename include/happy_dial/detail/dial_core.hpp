// The non-template part of a dial's Asio layer: carries the engine's actions out as I/O and
// feeds I/O completions back to it. Compiled once, in src/; the operation template around it
// (detail/dial_op.hpp) owns only the caller's handler, its work and its completion.
#pragma once

#include <happy_dial/core/dial_engine.hpp>
#include <happy_dial/core/https_plan.hpp>
#include <happy_dial/core/target.hpp>
#include <happy_dial/detail/attempt_sockets.hpp>
#include <happy_dial/detail/lookup_gate.hpp>
#include <happy_dial/dial_options.hpp>
#include <happy_dial/dial_report.hpp>
#include <happy_dial/handshake.hpp>
#include <happy_dial/transport.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace happy_dial::detail {

struct lookup_ticket;

/// What to dial: a host and service to resolve, or a list of endpoints.
struct dial_request {
    std::string host;                                                 ///< unparsed
    std::string service;                                              ///< unparsed
    core::small_vector<boost::asio::ip::tcp::endpoint, 2> endpoints;  ///< when !resolve
    bool resolve = true;  ///< host and service (true) or endpoints (false)
};

/// The outcome handed to the operation template when the dial is over.
struct dial_result {
    boost::system::error_code error;                     ///< empty on success
    boost::asio::ip::tcp::endpoint endpoint;             ///< the winner's remote endpoint
    std::optional<boost::asio::ip::tcp::socket> socket;  ///< the winner's socket
    /// The winner's attempt (a handshake stage that took its socket holds its stream).
    std::optional<core::attempt_id> winner;
};

/// One dial in flight.
///
/// Concurrency: every entry point (start, I/O completions, lookup answers, the cancellation
/// signal) runs the engine under the dial's one mutex, on whatever thread it arrives; nothing is
/// posted but lookup answers (from the lookup threads to the I/O executor) and a completion that
/// would otherwise happen inside the initiating function or the cancellation signal. The hooks
/// (socket_setup, endpoint_filter) run under that mutex. A cancellation signal emitted from
/// inside a hook is applied right after the hook returns.
///
/// Lifetime: owned by shared_ptr; every pending child handler holds one. complete() runs once,
/// after the dial ended and no child handler is pending (outstanding_ == 0).
class dial_core : public std::enable_shared_from_this<dial_core> {
  public:
    dial_core(boost::asio::any_io_executor io_executor, const dial_options& options);
    dial_core(const dial_core&) = delete;
    dial_core& operator=(const dial_core&) = delete;
    virtual ~dial_core();

    /// Starts the dial. Called by the initiating function; never completes inside it.
    void start(dial_request&& request);

    /// The caller's cancellation slot fired, on the emitting thread.
    void on_cancellation_signal(boost::asio::cancellation_type type);

    /// A connect reported its outcome (connect_completion). `self` is the completion's
    /// reference, released before the caller's handler runs.
    void on_connect(std::shared_ptr<dial_core> self,
                    core::attempt_id id,
                    boost::system::error_code ec);

    /// An attempt's handshake stage reported its outcome (stage_completion).
    void on_stage_done(std::shared_ptr<dial_core> self,
                       core::attempt_id id,
                       boost::system::error_code ec);

    /// A lookup answer arrived on the I/O executor.
    void on_answer(std::shared_ptr<dial_core> self, core::resolution_answer answer);

    /// The AAAA answer for ipv4only.arpa (NAT64 prefix discovery) arrived on the I/O executor.
    void on_nat64_answer(std::shared_ptr<dial_core> self, core::resolution_answer answer);

    /// The A or AAAA answer for an HTTPS service's target name `name` arrived on the I/O
    /// executor.
    void on_target_answer(std::shared_ptr<dial_core> self,
                          const std::string& name,
                          core::resolution_answer answer);

    /// Which of the dial's timers a wait was on.
    enum class timer_kind : std::uint8_t {
        attempt,     ///< the engine's wake-up
        keepalive,   ///< keeps the context busy while lookups run elsewhere
        https_hold,  ///< address answers waiting for the HTTPS records give up
    };

    /// A wait on one of the dial's timers ended.
    void on_timer(std::shared_ptr<dial_core> self,
                  unsigned generation,
                  timer_kind kind,
                  boost::system::error_code ec);

    /// The HTTPS query's answer (a DNS message) arrived on the I/O executor.
    void on_https_answer(std::shared_ptr<dial_core> self,
                         boost::system::error_code ec,
                         std::vector<std::uint8_t> message);

    /// Memory for intermediate operations, from the caller's handler's allocator.
    virtual void* allocate(std::size_t size, std::size_t align) = 0;
    /// Returns memory from allocate().
    virtual void deallocate(void* p, std::size_t size, std::size_t align) noexcept = 0;

    /// The dial's I/O executor (attempt sockets and timers live on it).
    const boost::asio::any_io_executor& io_executor() const noexcept { return io_executor_; }

  protected:
    /// The dial is over and nothing of it is pending: hand `result` to the caller. Called once,
    /// without the mutex held; `inline_allowed` is false when the call comes from the
    /// initiating function or a cancellation signal (the handler must then be posted). The
    /// implementation releases `self`, the last reference, before the upcall.
    virtual void complete(std::shared_ptr<dial_core> self,
                          dial_result result,
                          bool inline_allowed) = 0;

  private:
    using lock_type = std::unique_lock<std::mutex>;
    using self_ptr = std::shared_ptr<dial_core>;
    void apply_cancel(boost::asio::cancellation_type type);
    void run_actions();
    void execute(const core::start_lookup& a);
    void send_lookup(lookup_query query, lookup_purpose purpose = lookup_purpose::origin);
    void execute(const core::start_attempt& a);
    void execute(const core::cancel_attempt& a);
    void execute(const core::set_timer& a);
    void execute(const core::cancel_timer& a);
    void execute(const core::dial_done& a);
    void arm_timer(core::time_point at, unsigned generation);
    void keep_alive_during_lookups();
    void finish(boost::system::error_code ec, std::optional<core::attempt_id> winner);
    void release_lookups();
    void leave(self_ptr self, lock_type& lock, bool inline_allowed);
    dial_report make_dial_report() const;
    bool fell_back() const;
    void observe();
    void observe_ends(std::size_t from, std::size_t to);
    attempt_report attempt_report_of(core::attempt_id i) const;
    // Calls the observer; what it throws is swallowed (it must not break the dial).
    template <class F>
    void notify_observer(F&& call) noexcept {
        try {
            call(*options_.observer);
        } catch (...) {
        }
    }
    void observe_end(const dial_report& report);
    boost::system::error_code add_proxy_stage(dial_request& request);
    void start_stage(core::attempt_id id);
    void prepare_stage(handshake_stage& stage, core::attempt_id id);
    void run_stage(core::attempt_id id, std::size_t index);
    void release_stages(core::attempt_id id) noexcept;
    bool in_stage(core::attempt_id id) const noexcept {
        return id < stage_of_.size() && stage_of_[id] != 0;
    }
    void add_stages(core::attempt_id id, attempt_report& r) const;
    void note_local_endpoint(core::attempt_id id, const boost::asio::ip::tcp::socket& socket);
    void consult_history(core::time_point now, const dial_request& request);
    void note_answer();
    void offer_answer(core::resolution_answer answer);
    void start_https_query(const std::string& name);
    bool hold_for_https(core::resolution_answer& answer);
    void use_https_records(core::time_point now);
    void release_held_answers();
    void shape_for_https(core::resolution_answer& answer);
    void tag_https(dial_report& report) const;
    bool ipv4_unroutable(const core::resolution_answer& answer);
    void synthesize_into(core::resolution_answer& answer);
    void start_nat64_discovery();
    void start_target_lookups();
    std::optional<std::uint64_t> network_epoch() const;
    std::optional<boost::asio::ip::address_v4> nat64_origin(
        const boost::asio::ip::tcp::endpoint& ep) const;
    void tag_nat64(dial_report& report) const;
    void probe_sources(std::span<const boost::asio::ip::tcp::endpoint> endpoints);

    boost::asio::any_io_executor io_executor_;
    std::mutex mutex_;
    dial_options options_;
    dial_transport* transport_;  // options_.transport or system_network
    boost::system::error_code config_error_;
    core::dial_engine engine_;
    core::dial_target target_;
    // Created on first use: a dial whose first attempt connects at once needs neither.
    std::optional<boost::asio::steady_timer> timer_;
    std::optional<boost::asio::steady_timer> keepalive_;
    attempt_sockets sockets_;
    std::vector<std::shared_ptr<lookup_ticket>> tickets_;
    // NAT64 (options_.nat64, docs/hev3.md): answers held while the prefixes are discovered,
    // and the prefixes in use (they also say what a synthesized address stands for).
    std::vector<core::resolution_answer> nat64_held_;
    std::optional<std::vector<core::nat64_prefix>> nat64_prefixes_;
    std::optional<bool> ipv4_unroutable_;  // probed once per dial
    bool nat64_discovering_ = false;
    // HTTPS records (options_.https_records, docs/hev3.md): the plan, the query out (a name of
    // the AliasMode chain), the address answers held for it and until when, every record
    // received (for the report), and the answers made of hints.
    std::optional<core::https_plan> https_;
    std::string https_name_;
    unsigned https_depth_ = 0;
    bool https_pending_ = false;
    bool https_released_ = false;  // address answers go to the engine unheld from now on
    boost::asio::cancellation_signal https_cancel_;
    std::vector<core::resolution_answer> https_held_;
    std::optional<boost::asio::steady_timer> https_hold_timer_;
    std::vector<core::service_record> https_records_;
    std::vector<std::size_t> hint_answers_;    // indices into the trace's answers
    std::optional<resolver_choice> resolver_;  // decided at the first lookup
    // With options_.history: the destination's key, what the history gave, what was probed.
    std::string history_host_;
    unsigned short history_port_ = 0;
    std::optional<history_use> history_use_;
    std::vector<core::address_hint> probed_;
    std::size_t answers_ = 0;
    int outstanding_ = 0;  // child handlers not yet run
    unsigned timer_generation_ = 0;
    bool done_ = false;
    bool completed_ = false;
    std::optional<boost::asio::cancellation_type> deferred_cancel_;  // emitted inside a hook
    core::time_point started_at_{};
    core::time_point finished_at_{};
    dial_result result_;
    std::optional<core::attempt_id> winner_;
    // What runs after each attempt's TCP connect, in order: the proxy's handshake
    // (options_.proxy), then options_.handshake.
    core::small_vector<std::shared_ptr<handshake_stage>, 2> stages_;
    // By attempt id: 1 + the index in stages_ of its running stage, 0 = none.
    core::small_vector<std::uint8_t, 2> stage_of_;
    // With a report or an observer: each stage's end, in the order they came.
    struct stage_end {
        core::attempt_id attempt;
        std::uint8_t stage;
        core::time_point at;
        boost::system::error_code error;
    };
    std::vector<stage_end> stage_ends_;
    std::optional<core::attempt_id> just_settled_;  // started in this step, outcome queued
    struct deferred_timer {
        core::time_point at;
        unsigned generation;
        core::attempt_id attempt;  // armed when this attempt's completion arrives
    };
    std::optional<deferred_timer> deferred_timer_;
    // With a report or an observer: each attempt's local endpoint, by attempt id.
    core::small_vector<std::optional<boost::asio::ip::tcp::endpoint>, 2> locals_;
    // With an observer: what it was told so far, and the attempts this step may have ended.
    std::size_t observed_answers_ = 0;
    std::size_t observed_endpoints_ = 0;
    std::size_t observed_attempts_ = 0;
    core::small_vector<core::attempt_id, 2> touched_;
    core::small_vector<bool, 2> observed_ended_;
    core::delay_source observed_delay_ = core::delay_source::configured;  // of the last attempt
    core::duration observed_delay_value_{};
};

}  // namespace happy_dial::detail
