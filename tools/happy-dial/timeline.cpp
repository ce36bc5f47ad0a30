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

std::string describe_stage(const stage_report& stage) {
    std::string text = stage.name;
    if (!stage.error) {
        text += " done";
    } else if (stage.error == boost::asio::error::operation_aborted) {
        text += " cancelled";
    } else {
        text += " failed: ";
        text += stage.error.message();
    }
    return text;
}

const stage_report* failed_stage(const attempt_report& attempt) {
    if (attempt.outcome != attempt_outcome::failed || attempt.stages.empty() ||
        !attempt.stages.back().error) {
        return nullptr;
    }
    return &attempt.stages.back();
}

namespace {

// The row label of an answer: the query it completes, or "endpoints" for a given list.
std::string answer_label(const answer_report& answer) {
    return !answer.family                           ? "endpoints"
           : *answer.family == address_family::ipv6 ? "DNS AAAA"
                                                    : "DNS A";
}

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& ep) {
    std::ostringstream os;
    os << ep;
    return os.str();
}

// What became of one endpoint, in words: "attempt 2 from 127.0.0.1:40312", "never tried", ...
std::string describe_endpoint(const dial_report& report, const endpoint_report& e) {
    if (e.fate != endpoint_fate::attempted || !e.attempt) {
        return core::to_string(e.fate);
    }
    std::string text = "attempt " + std::to_string(*e.attempt + 1);
    if (*e.attempt < report.attempts.size() && report.attempts[*e.attempt].local) {
        text += " from " + endpoint_text(*report.attempts[*e.attempt].local);
    }
    return text;
}

}  // namespace

const char* fate_id(endpoint_fate fate) {
    switch (fate) {
        case endpoint_fate::queued:
            return "queued";
        case endpoint_fate::attempted:
            return "attempted";
        case endpoint_fate::never_tried:
            return "never_tried";
        case endpoint_fate::duplicate:
            return "duplicate";
        case endpoint_fate::invalid:
            return "invalid";
        case endpoint_fate::excluded:
            return "excluded";
        case endpoint_fate::filtered:
            return "filtered";
        case endpoint_fate::withdrawn:
            return "withdrawn";
    }
    return "queued";
}

void write_addresses(std::ostream& os, const dial_report& report) {
    // Two columns aligned over every answer: the answer's label (on its first address only)
    // and the address, then its fate.
    std::size_t label_width = 0;
    std::size_t address_width = 0;
    for (const auto& answer : report.answers) {
        if (answer.endpoints.empty()) {
            continue;
        }
        label_width = std::max(label_width, answer_label(answer).size());
        for (const auto& e : answer.endpoints) {
            address_width = std::max(address_width, endpoint_text(e.endpoint).size());
        }
    }
    if (label_width == 0) {
        return;
    }
    os << "addresses:\n";
    for (const auto& answer : report.answers) {
        std::string label = answer_label(answer);
        for (const auto& e : answer.endpoints) {
            const std::string address = endpoint_text(e.endpoint);
            os << "  " << label << std::string(label_width + 2 - label.size(), ' ') << address
               << std::string(address_width + 2 - address.size(), ' ')
               << describe_endpoint(report, e) << "\n";
            label.clear();  // the label heads the answer's first line only
        }
    }
}

std::string describe_fallback(const dial_report& report) {
    if (!report.non_preferred_family_won || !report.winner ||
        *report.winner >= report.attempts.size()) {
        return {};
    }
    const bool v6 = report.attempts[*report.winner].endpoint.address().is_v6();
    return v6 ? "fallback: IPv6 won, IPv4 was preferred" : "fallback: IPv4 won, IPv6 was preferred";
}

std::vector<timeline_row> rows_for(const dial_report& report, bool delays) {
    std::vector<timeline_row> rows;
    for (const auto& answer : report.answers) {
        timeline_row row;
        row.label = answer_label(answer);
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
        // What happened on the connection before it could win, indented under its attempt.
        auto point =
            [&](const std::string& what, std::chrono::nanoseconds at, std::string outcome) {
                timeline_row r;
                r.label = "  ";
                r.label += what;
                r.start_ms = to_ms(at);
                r.end_ms = r.start_ms;
                r.point = true;
                r.outcome = std::move(outcome);
                rows.push_back(std::move(r));
            };
        if (attempt.tcp_connected) {
            point("tcp", *attempt.tcp_connected, "tcp connected");
        }
        for (const auto& stage : attempt.stages) {
            point(stage.name, stage.finished, describe_stage(stage));
        }
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
