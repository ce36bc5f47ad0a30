// How the engine contract names families, durations and values in its messages (private to
// src/testing).
#pragma once

#include <happy_dial/core/types.hpp>

#include <chrono>
#include <cstddef>
#include <sstream>
#include <string>

namespace happy_dial::testing::detail {

inline std::size_t index(core::address_family f) noexcept {
    return static_cast<std::size_t>(f);
}

inline std::string ms(core::duration d) {
    std::ostringstream os;
    os << std::chrono::duration<double, std::milli>(d).count() << "ms";
    return os.str();
}

template <class T>
std::string text(const T& x) {
    std::ostringstream os;
    os << x;
    return os.str();
}

// Appends rather than concatenating literals: GCC 12 at -O2 warns falsely (-Wrestrict) on
// "'" + std::string.
inline std::string text(const core::error_code& ec) {
    if (!ec) {
        return "no error";
    }
    std::string quoted(1, '\'');
    quoted.append(ec.message()).push_back('\'');
    return quoted;
}

}  // namespace happy_dial::testing::detail
