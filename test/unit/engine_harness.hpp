// Helpers for driving the dial engine with a fake clock.
#pragma once

#include <happy_dial/core/dial_engine.hpp>

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

namespace happy_dial::test {

using namespace std::chrono_literals;
using core::action;

/// Fake time: t(250) is 250 ms after an arbitrary epoch.
inline core::time_point t(long long ms) {
    return core::time_point{} + std::chrono::hours(1) + std::chrono::milliseconds(ms);
}

inline core::endpoint ep(const std::string& address, unsigned short port = 443) {
    return {boost::asio::ip::make_address(address), port};
}

/// All actions the engine queued, in order.
inline std::vector<action> drain(core::dial_engine& e) {
    std::vector<action> out;
    while (auto a = e.next_action()) {
        out.push_back(std::move(*a));
    }
    return out;
}

inline core::resolution_answer aaaa(std::vector<core::endpoint> eps) {
    return {core::address_family::ipv6, std::move(eps), {}};
}
inline core::resolution_answer a(std::vector<core::endpoint> eps) {
    return {core::address_family::ipv4, std::move(eps), {}};
}

}  // namespace happy_dial::test

namespace happy_dial::core {
// Catch2 prints vectors of actions through this.
inline std::ostream& operator<<(std::ostream& os, const std::vector<action>& v) {
    os << "[";
    for (std::size_t i = 0; i < v.size(); ++i) {
        os << (i ? ", " : "") << v[i];
    }
    return os << "]";
}
}  // namespace happy_dial::core
