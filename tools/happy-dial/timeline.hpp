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
};

/// How an attempt ended, in words: won, refused, unreachable, timed out, cancelled, ...
std::string describe_attempt(const attempt_report& attempt);

/// The rows for a dial: its answers, then its attempts.
std::vector<timeline_row> rows_for(const dial_report& report);

/// Draws rows on a shared millisecond axis from 0 to `total_ms`, `width` columns wide.
void draw_timeline(std::ostream& os,
                   const std::vector<timeline_row>& rows,
                   double total_ms,
                   std::size_t width = 50);

/// Milliseconds as a short decimal string ("250.3").
std::string format_ms(double ms);

double to_ms(std::chrono::nanoseconds d);

}  // namespace happy_dial::cli
