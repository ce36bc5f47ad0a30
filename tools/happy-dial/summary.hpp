// The summary of a multi-dial run (--count N, N > 1): outcomes, times and winning families.
#pragma once

#include <happy_dial/dial_report.hpp>

#include <ostream>
#include <vector>

namespace happy_dial::cli {

/// Collects each dial's outcome and prints the totals in words or as a JSON document.
class run_summary {
  public:
    /// Records one dial and the exit code it gave.
    void add(const dial_report& report, int exit_code);

    std::size_t dials() const { return elapsed_ms_.size(); }

    /// "summary: 3 dials, 2 connected, 1 failed" and the elapsed and winner lines.
    void write_text(std::ostream& os) const;

    /// The same as a pretty JSON document of type "summary" (docs/cli-report.schema.json).
    void write_json(std::ostream& os) const;

  private:
    double median_ms() const;

    std::vector<double> elapsed_ms_;  // every dial's, connected or not
    std::size_t connected_ = 0;
    std::size_t ipv6_wins_ = 0;
    std::size_t ipv4_wins_ = 0;
    int last_exit_code_ = 0;  // what the process returns
};

}  // namespace happy_dial::cli
