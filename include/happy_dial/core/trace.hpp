// What happened during one dial: every resolution answer and every connection attempt.
#pragma once

#include <happy_dial/core/types.hpp>

#include <chrono>
#include <cstdint>
#include <optional>

namespace happy_dial::core {

enum class attempt_outcome {
    pending,    ///< still running
    won,        ///< connected and was handed to the caller
    failed,     ///< the connect (or setup) reported an error
    timed_out,  ///< exceeded the per-attempt timeout
    cancelled,  ///< stopped by the engine: another attempt won, the deadline expired or the
                ///< caller cancelled
};

const char* to_string(attempt_outcome o) noexcept;

/// Where the delay before the next attempt came from.
enum class delay_source {
    configured,  ///< the Connection Attempt Delay of the options (RFC 8305 §5)
    history,     ///< the address's measured RTT (dial_history)
    deadline,    ///< shortened so every address is tried before the overall deadline
    floor,       ///< the deadline's share was below RFC 8305 §5's 10 ms minimum: raised to it
};

/// What became of one endpoint of an answer (issue 17: every endpoint's fate is reported).
enum class endpoint_fate {
    queued,       ///< accepted, waiting for its turn (while the dial runs)
    attempted,    ///< a connection attempt was made to it
    never_tried,  ///< accepted, but the dial ended before its turn
    duplicate,    ///< already known from this or an earlier answer (RFC 8305 §4)
    invalid,      ///< not dialable: unspecified, multicast, broadcast or port 0
    excluded,     ///< its family is excluded by the family policy (ipv4_only / ipv6_only)
    filtered,     ///< refused by the endpoint_filter hook (or the hook threw)
    /// A provisional address (an HTTPS record's hint) that the A/AAAA answer did not hold:
    /// withdrawn before its turn (draft-ietf-happy-happyeyeballs-v3 §4).
    withdrawn,
};

const char* to_string(endpoint_fate f) noexcept;

const char* to_string(delay_source s) noexcept;

/// One connection attempt, as the engine saw it.
struct attempt_record {
    attempt_id id = 0;                                   ///< dense, in start order
    endpoint target;                                     ///< the address attempted
    time_point started;                                  ///< when start_attempt was issued
    std::optional<time_point> ended;                     ///< when it ended, as the engine saw it
    attempt_outcome outcome = attempt_outcome::pending;  ///< how it ended
    error_code error;  ///< the attempt's own error (empty when it won or is pending)
    /// The delay planned, when this attempt started, before the next one (a failure may start
    /// the next one earlier), and where it came from.
    duration delay{};
    delay_source delay_from = delay_source::configured;  ///< why `delay` has its value
    /// When its transport connected, for an attempt with a stage (on_attempt_connected).
    std::optional<time_point> connected{};
};

/// One resolution answer, as the engine saw it.
struct answer_record {
    /// The query this answer completes; empty for endpoints given directly (ranges, literals).
    std::optional<address_family> family;
    time_point at;                 ///< when it arrived
    std::size_t addresses = 0;     ///< addresses in the answer
    std::size_t accepted = 0;      ///< of those, new, valid, allowed by family policy and filter
    error_code error;              ///< the lookup's error, if any
    std::chrono::seconds ttl{-1};  ///< the answer's smallest TTL; negative: unknown
};

/// One endpoint of one answer, in the order the engine considered them (RFC 6724 order when
/// the dial has history hints). `queued` entries are resolved to attempted / never_tried when
/// the dial ends.
struct endpoint_record {
    endpoint target;                             ///< the address and port
    std::uint32_t answer = 0;                    ///< index into dial_trace::answers
    endpoint_fate fate = endpoint_fate::queued;  ///< what became of it
};

/// The whole story of a dial.
struct dial_trace {
    time_point started;                          ///< when the dial started
    small_vector<answer_record, 2> answers;      ///< in arrival order
    small_vector<attempt_record, 2> attempts;    ///< indexed by attempt_id
    small_vector<endpoint_record, 2> endpoints;  ///< every answer's endpoints, by arrival
};

}  // namespace happy_dial::core
