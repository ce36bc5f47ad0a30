#include <happy_dial/core/engine_config.hpp>
#include <happy_dial/error.hpp>

#include <algorithm>

namespace happy_dial::core {
namespace {

bool timeout_ok(const std::optional<duration>& t) {
    return !t || (*t > duration::zero() && *t <= limits::absurd);
}

}  // namespace

error_code validate(const engine_config& config) {
    if (config.resolution_delay < duration::zero() || config.resolution_delay > limits::absurd) {
        return error::invalid_delay;
    }
    if (config.connection_attempt_delay <= duration::zero() ||
        config.connection_attempt_delay > limits::absurd) {
        return error::invalid_delay;
    }
    if (!timeout_ok(config.overall_timeout) || !timeout_ok(config.attempt_timeout) ||
        !timeout_ok(config.handshake_timeout)) {
        return error::invalid_timeout;
    }
    if (config.handshake_grace &&
        (*config.handshake_grace < duration::zero() || *config.handshake_grace > limits::absurd)) {
        return error::invalid_delay;
    }
    if (config.first_address_family_count == 0) {
        return error::invalid_family_count;
    }
    return {};
}

engine_config normalize(engine_config config) {
    // §5: 10 ms hard floor, 2 s maximum.
    config.connection_attempt_delay = std::clamp(
        config.connection_attempt_delay, limits::min_attempt_delay, limits::max_attempt_delay);
    config.resolution_delay = std::min(config.resolution_delay, limits::max_resolution_delay);
    if (config.handshake_grace) {
        config.handshake_grace = std::min(*config.handshake_grace, limits::max_attempt_delay);
    }
    return config;
}

bool is_dialable(const endpoint& ep) noexcept {
    if (ep.port() == 0) {
        return false;
    }
    const auto addr = ep.address();
    if (addr.is_unspecified() || addr.is_multicast()) {
        return false;
    }
    if (addr.is_v4() && addr.to_v4() == boost::asio::ip::address_v4::broadcast()) {
        return false;
    }
    return true;
}

}  // namespace happy_dial::core
