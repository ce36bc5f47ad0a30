// resolver_backend names and Go's rule for choosing a backend (net/conf.go).
#include <happy_dial/resolver.hpp>

#include <cctype>
#include <sstream>
#include <string>
#include <vector>

namespace happy_dial {
namespace {

std::vector<std::string> words(std::string_view line) {
    std::istringstream in{std::string(line)};
    std::vector<std::string> out;
    for (std::string w; in >> w;) {
        out.push_back(w);
    }
    return out;
}

// The lines of `text` without comments (# or ;) and surrounding blanks.
std::vector<std::string> lines(std::string_view text) {
    std::vector<std::string> out;
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        if (const auto hash = line.find_first_of("#;"); hash != std::string::npos) {
            line.erase(hash);
        }
        if (!words(line).empty()) {
            out.push_back(line);
        }
    }
    return out;
}

// Options of resolv.conf that leave the answers as glibc's stub gives them: c-ares reads ndots,
// timeout, attempts and rotate itself; the others change only how glibc talks to the server.
bool harmless_option(const std::string& option) {
    for (const char* prefix : {"ndots:", "timeout:", "attempts:"}) {
        if (option.rfind(prefix, 0) == 0) {
            return true;
        }
    }
    for (const char* name : {"rotate",
                             "edns0",
                             "trust-ad",
                             "single-request",
                             "single-request-reopen",
                             "no-reload",
                             "debug"}) {
        if (option == name) {
            return true;
        }
    }
    return false;  // e.g. use-vc, inet6, no-aaaa, no-tld-query: glibc would answer differently
}

}  // namespace

const char* to_string(resolver_backend backend) noexcept {
    switch (backend) {
        case resolver_backend::automatic:
            return "automatic";
        case resolver_backend::system:
            return "system";
        case resolver_backend::c_ares:
            return "c-ares";
    }
    return "?";
}

bool c_ares_available() noexcept {
#if defined(HAPPY_DIAL_HAS_CARES)
    return true;
#else
    return false;
#endif
}

resolver_choice choose_resolver(std::string_view nsswitch_conf,
                                std::string_view resolv_conf,
                                bool c_ares_built) {
    using enum resolver_backend;
    if (!c_ares_built) {
        return {system, "c-ares is not built into this library"};
    }
    std::vector<std::string> hosts;
    for (const auto& line : lines(nsswitch_conf)) {
        auto w = words(line);
        if (!w.empty() && w.front() == "hosts:") {
            hosts.assign(w.begin() + 1, w.end());
        }
    }
    if (hosts.empty()) {
        return {system, "nsswitch.conf has no hosts: line"};
    }
    for (const auto& source : hosts) {
        if (source != "files" && source != "dns") {
            return {system,
                    "nsswitch.conf hosts: names " + source +
                        " (only files and dns are "
                        "read by c-ares)"};
        }
    }
    for (const auto& line : lines(resolv_conf)) {
        const auto w = words(line);
        if (w.front() != "options") {
            continue;
        }
        for (auto it = w.begin() + 1; it != w.end(); ++it) {
            if (!harmless_option(*it)) {
                return {system, "resolv.conf option " + *it + " is not honoured by c-ares"};
            }
        }
    }
    return {c_ares, "nsswitch.conf hosts: files and dns only, resolv.conf options c-ares honours"};
}

}  // namespace happy_dial
