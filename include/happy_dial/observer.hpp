// A live view of a dial as it happens (issue 17): lookups, answers, each endpoint's fate,
// attempts, the dial's end. For tracing, metrics (examples/metrics_observer.cpp) and debugging.
#pragma once

#include <happy_dial/dial_report.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace happy_dial {

/// Which dial an event belongs to, and when it happened.
struct dial_event {
    /// Names the dial among those sharing the observer: unique among dials in flight (the
    /// address of the dial's state), so it may be reused after the dial ended.
    std::uintptr_t dial = 0;
    /// Time since the dial started (the same clock as dial_report's offsets).
    std::chrono::nanoseconds at{};
};

/// The stage of an attempt that finished.
enum class attempt_stage {
    tcp_connect,  ///< the TCP handshake completed
    handshake,    ///< the handshake stage (dial_options::handshake) completed: the attempt won
};

/// Receives a dial's events as they happen. Every function has an empty default, so an
/// observer overrides only what it needs.
///
/// Where it runs: synchronously inside the dial's own processing, under the dial's lock, on
/// the thread that delivered the event: the initiating thread for the first events
/// (lookup_sent, and the first attempt of a dial given endpoints), the thread running the
/// dial's I/O executor for answers, connects and timers, and the emitting thread for a
/// cancellation. Calls for one dial never overlap and come in the order the events happened;
/// calls for different dials may run at the same time on different threads, so an observer
/// shared by dials on several threads must be thread-safe. An observer must not block and must
/// not start or wait for the dial it observes; an exception it throws is swallowed.
///
/// Cost: none when dial_options::observer is empty (no allocation, no call). With an
/// observer, each attempt costs one getsockname() (the local endpoint) and the answer and
/// report objects handed over are built for it.
class dial_observer {
  public:
    virtual ~dial_observer() = default;

    /// A DNS query for one family was sent (AAAA for ipv6, A for ipv4).
    virtual void lookup_sent(const dial_event& event, address_family family);
    /// An answer arrived (or endpoints were given directly, with an empty family).
    /// `answer.endpoints` holds each endpoint's fate at arrival: queued, duplicate, invalid,
    /// excluded or filtered.
    virtual void answer_received(const dial_event& event, const answer_report& answer);
    /// An attempt started; `attempt.local` is the socket's own address when known.
    virtual void attempt_started(const dial_event& event,
                                 std::size_t index,
                                 const attempt_report& attempt);
    /// The attempt's planned delay before the next start was shortened by the deadline
    /// (delay_from is deadline or floor).
    virtual void delay_shortened(const dial_event& event,
                                 std::size_t index,
                                 const attempt_report& attempt);
    /// A stage of an attempt finished successfully.
    virtual void stage_done(const dial_event& event, std::size_t index, attempt_stage stage);
    /// An attempt ended: won, failed, timed out or cancelled.
    virtual void attempt_ended(const dial_event& event,
                               std::size_t index,
                               const attempt_report& attempt);
    /// A queued endpoint was never reached because the dial ended first (reported once the
    /// dial is over, before dial_done).
    virtual void endpoint_never_tried(const dial_event& event, const endpoint_report& endpoint);
    /// The dial is over; `report` is complete. Runs before the caller's handler is invoked.
    virtual void dial_done(const dial_event& event, const dial_report& report);
};

}  // namespace happy_dial
