#include <happy_dial/observer.hpp>

namespace happy_dial {

// Empty defaults: an observer overrides only the events it wants.
void dial_observer::lookup_sent(const dial_event&, address_family) {}
void dial_observer::answer_received(const dial_event&, const answer_report&) {}
void dial_observer::attempt_started(const dial_event&, std::size_t, const attempt_report&) {}
void dial_observer::delay_shortened(const dial_event&, std::size_t, const attempt_report&) {}
void dial_observer::stage_done(const dial_event&, std::size_t, attempt_stage) {}
void dial_observer::attempt_ended(const dial_event&, std::size_t, const attempt_report&) {}
void dial_observer::endpoint_never_tried(const dial_event&, const endpoint_report&) {}
void dial_observer::dial_done(const dial_event&, const dial_report&) {}

}  // namespace happy_dial
