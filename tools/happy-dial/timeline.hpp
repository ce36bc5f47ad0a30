// Draws a dial as a terminal timeline, and describes outcomes in words.
#pragma once

#include <happy_dial/dial_report.hpp>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace happy_dial::cli {

/// One row of a timeline: a DNS answer (a point) or an attempt (a bar).
struct timeline_row {
    std::string label;
    double start_ms = 0;           ///< negative: never started (drawn without a bar)
    std::optional<double> end_ms;  ///< empty: still running when the timeline ends
    std::string outcome;           ///< "won", "refused", "2 addresses", ...
    bool point = false;            ///< an instant (DNS answer) rather than a span
    std::string note;              ///< printed after the times ("next attempt after ...")
};

/// How an attempt ended, in words: won, refused, unreachable, timed out, cancelled, ...
std::string describe_attempt(const attempt_report& attempt);

/// How a stage ended, in words: "socks5 done", "tls failed: <message>", "tls cancelled" (the
/// dial gave up on its attempt: another won, or the deadline passed).
std::string describe_stage(const stage_report& stage);

/// The stage whose error ended `attempt` (a refused proxy CONNECT, a TLS alert), or null when it
/// did not fail in a stage.
const stage_report* failed_stage(const attempt_report& attempt);

/// The rows for a dial: its answers, then its attempts, each followed (with a proxy or --tls)
/// by a point row for its TCP connect ("tcp connected") and one per stage that ended
/// (describe_stage). With `delays`, each attempt's row notes the delay planned before the next
/// attempt and why ("next attempt after 250 ms (configured)").
std::vector<timeline_row> rows_for(const dial_report& report, bool delays = false);

/// "next attempt after 250 ms (configured)": the delay planned when `attempt` started.
std::string describe_delay(const attempt_report& attempt);

/// What a dial's history did, in words: "1 address known, 1 penalised, first family ipv4,
/// 1 updated", "explored (ignored this time), ...", "..., no IPv6 route, AAAA not asked".
std::string describe_history(const history_use& use);

/// The addresses of every answer with their fate, one line each, under an "addresses:" heading
/// (nothing when no answer had an address): an attempted one names its attempt (1-based, as
/// "attempt 2 of 2" does) and the attempt's local address when known, e.g.
/// "  endpoints  [::1]:8080      attempt 1 from [::1]:43318" or "  DNS A  192.0.2.1:443 duplicate".
void write_addresses(std::ostream& os, const dial_report& report);

/// "fallback: IPv4 won, IPv6 was preferred" when the report says the non-preferred family won
/// (dial_report::non_preferred_family_won), empty otherwise.
std::string describe_fallback(const dial_report& report);

/// An endpoint's fate as a JSON identifier: attempted, never_tried, duplicate, invalid,
/// excluded, filtered, queued.
const char* fate_id(endpoint_fate fate);

/// Draws rows on a shared millisecond axis from 0 to `total_ms`, `width` columns wide.
void draw_timeline(std::ostream& os,
                   const std::vector<timeline_row>& rows,
                   double total_ms,
                   std::size_t width = 50);

/// Milliseconds as a short decimal string ("250.3").
std::string format_ms(double ms);

/// A delay in milliseconds: whole ones without decimals ("250"), others as format_ms does.
std::string format_delay_ms(std::chrono::nanoseconds d);

double to_ms(std::chrono::nanoseconds d);

}  // namespace happy_dial::cli
