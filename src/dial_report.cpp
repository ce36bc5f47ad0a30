#include <happy_dial/dial_report.hpp>

namespace happy_dial {

dial_report make_report(const core::dial_trace& trace,
                        core::time_point finished,
                        boost::system::error_code error,
                        std::optional<std::size_t> winner) {
    dial_report report;
    report.error = error;
    report.winner = winner;
    report.elapsed = finished - trace.started;
    report.answers.reserve(trace.answers.size());
    for (const auto& a : trace.answers) {
        report.answers.push_back({a.family,
                                  a.at - trace.started,
                                  a.addresses,
                                  a.accepted,
                                  a.error,
                                  a.ttl.count() >= 0 ? std::optional(a.ttl) : std::nullopt});
    }
    report.attempts.reserve(trace.attempts.size());
    for (const auto& a : trace.attempts) {
        attempt_report r{a.target,
                         a.started - trace.started,
                         std::nullopt,
                         a.outcome,
                         a.error,
                         a.delay,
                         a.delay_from};
        if (a.ended) {
            r.ended = *a.ended - trace.started;
        }
        report.attempts.push_back(r);
    }
    return report;
}

}  // namespace happy_dial
