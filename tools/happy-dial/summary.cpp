#include "json_report.hpp"
#include "summary.hpp"
#include "timeline.hpp"

#include <algorithm>

namespace happy_dial::cli {

void run_summary::add(const dial_report& report, int exit_code) {
    elapsed_ms_.push_back(to_ms(report.elapsed));
    last_exit_code_ = exit_code;
    if (report.error || !report.winner) {
        return;
    }
    ++connected_;
    ++(report.attempts[*report.winner].endpoint.address().is_v6() ? ipv6_wins_ : ipv4_wins_);
}

double run_summary::median_ms() const {
    if (elapsed_ms_.empty()) {
        return 0;
    }
    auto sorted = elapsed_ms_;
    std::sort(sorted.begin(), sorted.end());
    const auto mid = sorted.size() / 2;
    return sorted.size() % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

void run_summary::write_text(std::ostream& os) const {
    const auto [min, max] = std::minmax_element(elapsed_ms_.begin(), elapsed_ms_.end());
    os << "summary: " << dials() << " dials, " << connected_ << " connected, "
       << dials() - connected_ << " failed\n";
    if (!elapsed_ms_.empty()) {
        os << "elapsed: min " << format_ms(*min) << " ms, median " << format_ms(median_ms())
           << " ms, max " << format_ms(*max) << " ms\n";
    }
    os << "winners: " << ipv6_wins_ << " IPv6, " << ipv4_wins_ << " IPv4\n";
}

void run_summary::write_json(std::ostream& os) const {
    const auto [min, max] = std::minmax_element(elapsed_ms_.begin(), elapsed_ms_.end());
    const bool any = !elapsed_ms_.empty();
    os << "{\n";
    os << "  \"schema_version\": " << json_schema_version << ",\n";
    os << "  \"type\": \"summary\",\n";
    os << "  \"dials\": " << dials() << ",\n";
    os << "  \"connected\": " << connected_ << ",\n";
    os << "  \"failed\": " << dials() - connected_ << ",\n";
    os << "  \"exit_code\": " << last_exit_code_ << ",\n";
    os << "  \"elapsed_ms\": {\"min\": " << json_ms(any ? *min : 0)
       << ", \"median\": " << json_ms(median_ms()) << ", \"max\": " << json_ms(any ? *max : 0)
       << "},\n";
    os << "  \"winners\": {\"ipv6\": " << ipv6_wins_ << ", \"ipv4\": " << ipv4_wins_ << "}\n";
    os << "}\n";
}

}  // namespace happy_dial::cli
