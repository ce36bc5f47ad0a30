#include <happy_dial/core/actions.hpp>
#include <happy_dial/core/trace.hpp>

#include <ostream>

namespace happy_dial::core {
namespace {

struct printer {
    std::ostream& os;
    void operator()(const start_lookup& a) const {
        os << "start_lookup{" << to_string(a.family) << "}";
    }
    void operator()(const start_attempt& a) const {
        os << "start_attempt{" << a.id << ", " << a.target << "}";
    }
    void operator()(const cancel_attempt& a) const { os << "cancel_attempt{" << a.id << "}"; }
    void operator()(const set_timer& a) const {
        os << "set_timer{"
           << std::chrono::duration_cast<std::chrono::microseconds>(a.at.time_since_epoch()).count()
           << "us}";
    }
    void operator()(const cancel_timer&) const { os << "cancel_timer{}"; }
    void operator()(const dial_done& a) const {
        os << "dial_done{" << a.error.message();
        if (a.winner) {
            os << ", winner " << *a.winner;
        }
        os << "}";
    }
};

}  // namespace

std::ostream& operator<<(std::ostream& os, const action& a) {
    std::visit(printer{os}, a);
    return os;
}

const char* to_string(attempt_outcome o) noexcept {
    switch (o) {
        case attempt_outcome::pending:
            return "pending";
        case attempt_outcome::won:
            return "won";
        case attempt_outcome::failed:
            return "failed";
        case attempt_outcome::timed_out:
            return "timed out";
        case attempt_outcome::cancelled:
            return "cancelled";
    }
    return "unknown";
}

}  // namespace happy_dial::core

namespace happy_dial::core {

const char* to_string(delay_source s) noexcept {
    switch (s) {
        case delay_source::configured:
            return "configured";
        case delay_source::history:
            return "history";
        case delay_source::floor:
            return "floor";
        case delay_source::deadline:
            return "deadline";
    }
    return "unknown";
}

}  // namespace happy_dial::core

namespace happy_dial::core {

const char* to_string(endpoint_fate f) noexcept {
    switch (f) {
        case endpoint_fate::queued:
            return "queued";
        case endpoint_fate::attempted:
            return "attempted";
        case endpoint_fate::never_tried:
            return "never tried";
        case endpoint_fate::duplicate:
            return "duplicate";
        case endpoint_fate::invalid:
            return "invalid";
        case endpoint_fate::excluded:
            return "excluded by family policy";
        case endpoint_fate::filtered:
            return "filtered";
        case endpoint_fate::withdrawn:
            return "withdrawn";
    }
    return "unknown";
}

}  // namespace happy_dial::core
