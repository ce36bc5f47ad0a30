#include <happy_dial/core/target.hpp>
#include <happy_dial/error.hpp>

#include <algorithm>
#include <cctype>

namespace happy_dial::core {

namespace {

// RFC 1035 §2.3.4 / RFC 1123 §2.1: labels of 1..63 bytes; one trailing dot (a fully qualified
// name) is allowed. Both backends would otherwise disagree: glibc rejects some of these with
// EAI_NONAME, c-ares with ARES_EBADNAME.
bool labels_ok(std::string_view name) {
    if (!name.empty() && name.back() == '.') {
        name.remove_suffix(1);
    }
    while (true) {
        const auto dot = name.find('.');
        const auto label = name.substr(0, dot);
        if (label.empty() || label.size() > 63) {
            return false;
        }
        if (dot == std::string_view::npos) {
            return true;
        }
        name.remove_prefix(dot + 1);
    }
}

}  // namespace

error_code check_host(std::string_view host) {
    if (host.empty()) {
        return error::empty_host;
    }
    if (host.size() > 253) {
        return error::invalid_host;
    }
    for (const char ch : host) {
        const auto c = static_cast<unsigned char>(ch);
        const bool ok = std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == ':' || c == '%';
        if (!ok) {
            return error::invalid_host;  // also every non-ASCII byte: IDNA encoding is the caller's
        }
    }
    // An IPv6 literal (with ':', maybe a "%scope") has no labels.
    if (host.find(':') == std::string_view::npos && !labels_ok(host)) {
        return error::invalid_host;
    }
    return {};
}

error_code check_service(std::string_view service, std::optional<unsigned short>& port) {
    port.reset();
    if (service.empty()) {
        return error::invalid_service;
    }
    const bool numeric = std::all_of(service.begin(), service.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
    });
    if (!numeric) {
        return {};  // a name: the lookup decides (unknown -> invalid_service)
    }
    // Saturating, so leading zeros ("00080" is port 80, as getaddrinfo reads it) and any length
    // are fine: a value past 65535 stays past it (issue #7; a length check rejected "000080").
    unsigned value = 0;
    for (const char c : service) {
        value = std::min(value * 10 + static_cast<unsigned>(c - '0'), 65536u);
    }
    if (value == 0 || value > 65535) {
        return error::invalid_service;
    }
    port = static_cast<unsigned short>(value);
    return {};
}

dial_target parse_target(std::string_view host, std::string_view service) {
    dial_target t;
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    t.error = check_host(host);
    if (!t.error) {
        t.error = check_service(service, t.port);
    }
    if (t.error) {
        t.port.reset();
        return t;
    }
    t.host = std::string(host);
    t.service = std::string(service);
    error_code not_literal;
    const auto literal = boost::asio::ip::make_address(t.host, not_literal);
    if (!not_literal) {
        t.literal = literal;
    }
    return t;
}

}  // namespace happy_dial::core
