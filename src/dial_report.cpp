#include <happy_dial/dial_report.hpp>

#include <algorithm>
#include <utility>

namespace happy_dial {

namespace {

// The attempt made to each endpoint, sorted for lookup (each endpoint is attempted at most once).
std::vector<std::pair<core::endpoint, std::size_t>> attempts_by_endpoint(
    const core::dial_trace& trace) {
    std::vector<std::pair<core::endpoint, std::size_t>> index;
    index.reserve(trace.attempts.size());
    for (std::size_t i = 0; i < trace.attempts.size(); ++i) {
        index.emplace_back(trace.attempts[i].target, i);
    }
    std::sort(index.begin(), index.end());
    return index;
}

}  // namespace

answer_report make_answer_report(const core::answer_record& a, core::time_point dial_started) {
    answer_report r;
    r.family = a.family;
    r.at = a.at - dial_started;
    r.addresses = a.addresses;
    r.accepted = a.accepted;
    r.error = a.error;
    r.ttl = a.ttl.count() >= 0 ? std::optional(a.ttl) : std::nullopt;
    return r;
}

attempt_report make_attempt_report(const core::attempt_record& a, core::time_point dial_started) {
    attempt_report r;
    r.endpoint = a.target;
    r.started = a.started - dial_started;
    if (a.ended) {
        r.ended = *a.ended - dial_started;
    }
    r.outcome = a.outcome;
    r.error = a.error;
    r.delay = a.delay;
    r.delay_from = a.delay_from;
    if (a.connected) {
        r.tcp_connected = *a.connected - dial_started;
    }
    return r;
}

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
        report.answers.push_back(make_answer_report(a, trace.started));
    }
    const auto attempted = attempts_by_endpoint(trace);
    for (const auto& e : trace.endpoints) {
        if (e.answer >= report.answers.size()) {
            continue;
        }
        endpoint_report r{e.target, e.fate, std::nullopt};
        if (e.fate == endpoint_fate::attempted) {
            auto it = std::lower_bound(
                attempted.begin(),
                attempted.end(),
                e.target,
                [](const auto& x, const core::endpoint& t) { return x.first < t; });
            if (it != attempted.end() && it->first == e.target) {
                r.attempt = it->second;
            }
        }
        report.answers[e.answer].endpoints.push_back(r);
    }
    report.attempts.reserve(trace.attempts.size());
    for (const auto& a : trace.attempts) {
        report.attempts.push_back(make_attempt_report(a, trace.started));
    }
    return report;
}

}  // namespace happy_dial
