#include "timeline.hpp"

#include <happy_dial/error.hpp>

#include <boost/asio/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>

namespace happy_dial::cli {

double to_ms(std::chrono::nanoseconds d) {
    return static_cast<double>(d.count()) / 1e6;
}

std::string format_ms(double ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, ms < 10 ? "%.2f" : "%.1f", ms);
    return buf;
}

std::string format_delay_ms(std::chrono::nanoseconds d) {
    if (d.count() % 1'000'000 == 0) {
        return std::to_string(d.count() / 1'000'000);
    }
    return format_ms(to_ms(d));
}

std::string describe_delay(const attempt_report& attempt) {
    return "next attempt after " + format_delay_ms(attempt.delay) + " ms (" +
           to_string(attempt.delay_from) + ")";
}

std::string describe_history(const history_use& use) {
    std::string text;
    if (use.explored) {
        text = "explored (ignored this time)";
    } else if (use.hints == 0) {
        text = "nothing known yet";
    } else {
        text = std::to_string(use.hints) + (use.hints == 1 ? " address" : " addresses") + " known";
        if (use.penalised > 0) {
            text += ", " + std::to_string(use.penalised) + " penalised";
        }
    }
    if (use.first_family) {
        text += std::string(", first family ") +
                (*use.first_family == address_family::ipv6 ? "ipv6" : "ipv4");
    }
    if (!use.ipv6_routable) {
        text += ", no IPv6 route, AAAA not asked";
    }
    return text + ", " + std::to_string(use.updated) + " updated";
}

std::string describe_attempt(const attempt_report& attempt) {
    namespace ae = boost::asio::error;
    switch (attempt.outcome) {
        case attempt_outcome::won:
            return "won";
        case attempt_outcome::pending:
            return "still waiting";
        case attempt_outcome::cancelled:
            return "cancelled";
        case attempt_outcome::timed_out:
            return "timed out";
        case attempt_outcome::failed:
            break;
    }
    const auto& ec = attempt.error;
    if (ec == ae::connection_refused) {
        return "refused";
    }
    if (ec == ae::host_unreachable || ec == ae::network_unreachable) {
        return "unreachable";
    }
    if (ec == ae::timed_out || ec == error::attempt_timed_out) {
        return "timed out";
    }
    return "failed: " + ec.message();
}

std::vector<timeline_row> rows_for(const dial_report& report, bool delays) {
    std::vector<timeline_row> rows;
    for (const auto& answer : report.answers) {
        timeline_row row;
        row.label = !answer.family                           ? "endpoints"
                    : *answer.family == address_family::ipv6 ? "DNS AAAA"
                                                             : "DNS A";
        row.start_ms = to_ms(answer.at);
        row.end_ms = row.start_ms;
        row.point = true;
        const char* type = answer.family == address_family::ipv6 ? "AAAA" : "A";
        if (answer.error == boost::asio::error::host_not_found) {
            row.outcome = "host not found (NXDOMAIN)";
        } else if (answer.error) {
            row.outcome = answer.error.message();
        } else if (answer.addresses == 0 && answer.family) {
            row.outcome = std::string("no ") + type + " records";  // NODATA: the name exists
        } else {
            row.outcome = std::to_string(answer.addresses) +
                          (answer.addresses == 1 ? " address" : " addresses");
        }
        rows.push_back(row);
    }
    for (const auto& attempt : report.attempts) {
        timeline_row row;
        std::ostringstream label;
        label << attempt.endpoint;
        row.label = label.str();
        row.start_ms = to_ms(attempt.started);
        if (attempt.ended) {
            row.end_ms = to_ms(*attempt.ended);
        }
        row.outcome = describe_attempt(attempt);
        if (delays) {
            row.note = describe_delay(attempt);
        }
        rows.push_back(row);
    }
    return rows;
}

void draw_timeline(std::ostream& os,
                   const std::vector<timeline_row>& rows,
                   double total_ms,
                   std::size_t width) {
    total_ms = std::max(total_ms, 1.0);
    std::size_t label_width = 8;
    for (const auto& r : rows) {
        label_width = std::max(label_width, r.label.size());
    }
    auto column = [&](double ms) {
        const double c = std::round(ms / total_ms * static_cast<double>(width));
        return static_cast<std::size_t>(std::clamp(c, 0.0, static_cast<double>(width)));
    };
    // Axis: 0, the quarters, and the total.
    std::string scale(width + 1, ' ');
    std::string ruler(width + 1, '-');
    for (int q = 0; q <= 4; ++q) {
        ruler[static_cast<std::size_t>(q) * width / 4] = '+';
    }
    os << std::string(label_width + 2, ' ') << "0 ms";
    const std::string end_label = format_ms(total_ms) + " ms";
    const std::size_t gap = width + 1 > 4 + end_label.size() ? width + 1 - 4 - end_label.size() : 1;
    os << std::string(gap, ' ') << end_label << "\n";
    os << std::string(label_width + 2, ' ') << ruler << "\n";
    for (const auto& r : rows) {
        std::string line(width + 1, ' ');
        const std::size_t from = column(std::max(r.start_ms, 0.0));
        if (r.start_ms < 0) {
            // never started: no mark at all
        } else if (r.point) {
            line[from] = '*';
        } else {
            const std::size_t to = r.end_ms ? column(*r.end_ms) : width;
            for (std::size_t c = from; c <= to; ++c) {
                line[c] = '=';
            }
            line[from] = '|';
            if (!r.end_ms) {
                line[width] = '>';
            } else {
                line[to] = r.outcome == "won" ? 'O' : 'x';
            }
        }
        os << r.label << std::string(label_width + 2 - r.label.size(), ' ') << line << "  "
           << r.outcome;
        if (r.start_ms >= 0) {
            os << "  (" << format_ms(r.start_ms);
            if (!r.point) {
                os << " -> " << (r.end_ms ? format_ms(*r.end_ms) : std::string("..."));
            }
            os << " ms)";
        }
        if (!r.note.empty()) {
            os << "  " << r.note;
        }
        os << "\n";
    }
}

}  // namespace happy_dial::cli
