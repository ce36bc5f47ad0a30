#include <happy_dial/handshake.hpp>

namespace happy_dial {

void handshake_stage::prepare(core::attempt_id, const attempt_service&) {}

void handshake_stage::cancel(core::attempt_id) {}

void handshake_stage::release(core::attempt_id) noexcept {}

std::string_view handshake_stage::name() const noexcept {
    return "custom";
}

}  // namespace happy_dial
