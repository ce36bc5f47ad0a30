#include "address_list.hpp"

#include <charconv>
#include <sstream>

namespace happy_dial::cli {
namespace {

std::optional<unsigned short> parse_port(const std::string& text) {
    unsigned value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end || value < 1 || value > 65535) {
        return std::nullopt;
    }
    return static_cast<unsigned short>(value);
}

std::string trim(const std::string& text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

const char* const forms = " (give ADDR, ADDR:PORT or [IPv6]:PORT; names are not resolved)";

// One entry: "[v6]:port", "[v6]", "v4:port", or a bare address of either family. A bare IPv6
// address has two or more colons, so one colon means "v4:port".
std::optional<boost::asio::ip::tcp::endpoint> parse_entry(const std::string& entry,
                                                          const std::string& default_port,
                                                          std::string& error) {
    std::string address = entry;
    std::optional<std::string> port;
    if (!entry.empty() && entry.front() == '[') {
        const auto close = entry.find(']');
        const auto rest = close == std::string::npos ? std::string() : entry.substr(close + 1);
        if (close == std::string::npos || (!rest.empty() && rest.front() != ':')) {
            error = "--addresses: '" + entry + "' is not an endpoint" + forms;
            return std::nullopt;
        }
        address = entry.substr(1, close - 1);
        if (!rest.empty()) {
            port = rest.substr(1);
        }
    } else if (const auto colon = entry.find(':');
               colon != std::string::npos && entry.find(':', colon + 1) == std::string::npos) {
        address = entry.substr(0, colon);
        port = entry.substr(colon + 1);
    }
    boost::system::error_code ec;
    const auto ip = boost::asio::ip::make_address(address, ec);
    if (ec) {
        error = "--addresses: '" + entry + "' is not an IP address" + forms;
        return std::nullopt;
    }
    if (port) {
        const auto number = parse_port(*port);
        if (!number) {
            error = "--addresses: '" + entry + "' has a bad port (1 to 65535)";
            return std::nullopt;
        }
        return boost::asio::ip::tcp::endpoint(ip, *number);
    }
    const auto number = parse_port(default_port);
    if (!number) {
        error = "--addresses: '" + entry + "' has no port, and PORT " +
                (default_port.empty() ? std::string("is not given")
                                      : "'" + default_port + "' is not a number from 1 to 65535");
        return std::nullopt;
    }
    return boost::asio::ip::tcp::endpoint(ip, *number);
}

}  // namespace

std::optional<std::vector<boost::asio::ip::tcp::endpoint>> parse_address_list(
    const std::string& list, const std::string& default_port, std::string& error) {
    std::vector<boost::asio::ip::tcp::endpoint> out;
    std::size_t start = 0;
    // Each pass consumes one entry and its comma, so the loop ends within list.size() + 1 passes.
    while (start <= list.size()) {
        const auto comma = std::min(list.find(',', start), list.size());
        const std::string entry = trim(list.substr(start, comma - start));
        if (entry.empty()) {
            error = "--addresses: empty entry in '" + list + "'";
            return std::nullopt;
        }
        if (out.size() == max_address_entries) {
            error =
                "--addresses takes at most " + std::to_string(max_address_entries) + " endpoints";
            return std::nullopt;
        }
        auto endpoint = parse_entry(entry, default_port, error);
        if (!endpoint) {
            return std::nullopt;
        }
        out.push_back(*endpoint);
        start = comma + 1;
    }
    return out;
}

std::string format_address_list(const std::vector<boost::asio::ip::tcp::endpoint>& endpoints) {
    std::ostringstream os;
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
        os << (i ? "," : "") << endpoints[i];
    }
    return os.str();
}

}  // namespace happy_dial::cli
