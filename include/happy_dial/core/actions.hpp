// What the engine asks its driver to do.
#pragma once

#include <happy_dial/core/types.hpp>

#include <iosfwd>
#include <optional>
#include <variant>

namespace happy_dial::core {

/// Look up the addresses of one family of the dial's target (RFC 8305 §3: AAAA and A are
/// separate queries, all sent at once, AAAA first); report the answer with on_answer().
struct start_lookup {
    address_family family;  ///< ipv6: an AAAA query; ipv4: an A query
    /// Equal when every field is.
    friend bool operator==(const start_lookup&, const start_lookup&) = default;
};

/// Open a socket and connect it to `target`; report the outcome with on_attempt_result(id, ...).
struct start_attempt {
    attempt_id id;    ///< names the attempt in later events and actions
    endpoint target;  ///< where to connect
    /// Equal when every field is.
    friend bool operator==(const start_attempt&, const start_attempt&) = default;
};

/// Abort attempt `id` and close its socket. The engine treats it as ended at once and ignores
/// any later report for it, so the driver need not report it back.
struct cancel_attempt {
    attempt_id id;  ///< the attempt to abort
    /// Equal when every field is.
    friend bool operator==(const cancel_attempt&, const cancel_attempt&) = default;
};

/// Call on_timer() at `at` (replaces any earlier wake-up). A wake-up that fired is spent: the
/// engine asks for a new one when it needs it and sends no cancel_timer for a spent one.
struct set_timer {
    time_point at;  ///< when to call on_timer()
    /// Equal when every field is.
    friend bool operator==(const set_timer&, const set_timer&) = default;
};

/// Drop the pending wake-up.
struct cancel_timer {
    /// Always equal.
    friend bool operator==(const cancel_timer&, const cancel_timer&) = default;
};

/// The dial is over. `winner` holds the connected attempt on success; otherwise `error` says why.
/// No action follows this one.
struct dial_done {
    error_code error;                  ///< empty on success
    std::optional<attempt_id> winner;  ///< the attempt whose socket is the result
    /// Equal when every field is.
    friend bool operator==(const dial_done&, const dial_done&) = default;
};

using action =
    std::variant<start_lookup, start_attempt, cancel_attempt, set_timer, cancel_timer, dial_done>;

std::ostream& operator<<(std::ostream& os, const action& a);

}  // namespace happy_dial::core
