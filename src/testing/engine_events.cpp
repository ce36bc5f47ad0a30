// The events of core::dial_engine: printed, and fed.
#include "contract_text.hpp"

#include <happy_dial/testing/engine_contract.hpp>

#include <ostream>
#include <string>
#include <type_traits>

namespace happy_dial::testing {

std::ostream& operator<<(std::ostream& os, const engine_event& e) {
    auto list = [&os](const std::vector<core::endpoint>& eps) {
        for (const auto& ep : eps) {
            os << " " << ep;
        }
    };
    if (const auto* s = std::get_if<start_event>(&e)) {
        if (s->how == start_event::kind::target) {
            os << "start{" << s->target.host << ":" << s->target.service;
        } else if (s->how == start_event::kind::expected) {
            os << "start{expecting";
            for (auto f : s->expected) {
                os << " " << core::to_string(f);
            }
        } else {
            os << "start_with_endpoints{";
            list(s->endpoints);
        }
        return os << "}";
    }
    if (const auto* a = std::get_if<answer_event>(&e)) {
        const auto& f = a->answer.family;
        os << "on_answer{" << (f ? core::to_string(*f) : "list");
        list(a->answer.endpoints);
        if (a->answer.error) {
            os << ", " << detail::text(a->answer.error);
        }
        return os << "}";
    }
    if (const auto* r = std::get_if<result_event>(&e)) {
        return os << "on_attempt_result{" << r->id << ", "
                  << (r->error ? detail::text(r->error) : "connected") << "}";
    }
    if (const auto* c = std::get_if<cancel_event>(&e)) {
        return os << "cancel{" << (c->kind == core::cancel_kind::terminal ? "terminal" : "partial")
                  << "}";
    }
    return os << "on_timer{}";
}

void feed(core::dial_engine& engine, core::time_point now, const engine_event& e) {
    std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, start_event>) {
                if (x.how == start_event::kind::target) {
                    engine.start(now, x.target);
                } else if (x.how == start_event::kind::expected) {
                    engine.start(now, x.expected);
                } else {
                    engine.start_with_endpoints(now, x.endpoints);
                }
            } else if constexpr (std::is_same_v<T, answer_event>) {
                engine.on_answer(now, x.answer);
            } else if constexpr (std::is_same_v<T, result_event>) {
                engine.on_attempt_result(now, x.id, x.error);
            } else if constexpr (std::is_same_v<T, timer_event>) {
                engine.on_timer(now);
            } else {
                engine.cancel(now, x.kind);
            }
        },
        e);
}

// What one event should do, and what its reply did.

}  // namespace happy_dial::testing
