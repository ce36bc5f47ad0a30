// Proxy URLs as curl and the proxy environment variables spell them: socks5://, socks5h://,
// http://, with optional percent-encoded user:password@ (RFC 3986 §3.2).
#include <happy_dial/error.hpp>
#include <happy_dial/proxy.hpp>

#include <optional>

namespace happy_dial {

namespace {
namespace proxy_url_parts {  // named: the unity build joins sources

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// RFC 3986 §2.1 percent-decoding; empty on a malformed escape.
std::optional<std::string> percent_decode(std::string_view in) {
    std::string out;
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out += in[i];
            continue;
        }
        if (i + 2 >= in.size()) {
            return std::nullopt;
        }
        const int hi = hex_value(in[i + 1]);
        const int lo = hex_value(in[i + 2]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

bool is_port(std::string_view port) {
    if (port.empty() || port.size() > 5) {
        return false;
    }
    unsigned value = 0;
    for (const char c : port) {
        if (c < '0' || c > '9') {
            return false;
        }
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    return value >= 1 && value <= 65535;
}

}  // namespace proxy_url_parts
}  // namespace

boost::system::error_code parse_proxy_url(std::string_view url, proxy_config& out) {
    proxy_config config;
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) {
        return error::invalid_proxy;
    }
    const auto scheme = url.substr(0, scheme_end);
    if (scheme == "socks5") {
        config.protocol = proxy_protocol::socks5;
        config.remote_dns = false;
    } else if (scheme == "socks5h") {
        config.protocol = proxy_protocol::socks5;
        config.remote_dns = true;
    } else if (scheme == "http") {
        config.protocol = proxy_protocol::http_connect;
    } else {
        return error::invalid_proxy;
    }
    auto rest = url.substr(scheme_end + 3);
    if (!rest.empty() && rest.back() == '/') {
        rest.remove_suffix(1);  // "http://proxy:3128/"
    }
    if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
        const auto userinfo = rest.substr(0, at);
        const auto colon = userinfo.find(':');
        auto user = proxy_url_parts::percent_decode(userinfo.substr(0, colon));
        auto password = proxy_url_parts::percent_decode(
            colon == std::string_view::npos ? std::string_view{} : userinfo.substr(colon + 1));
        if (!user || !password || user->empty() || user->size() > 255 || password->size() > 255) {
            return error::invalid_proxy;
        }
        config.username = std::move(*user);
        config.password = std::move(*password);
        rest = rest.substr(at + 1);
    }
    std::string_view host;
    std::string_view port;
    if (!rest.empty() && rest.front() == '[') {  // [IPv6]:port
        const auto close = rest.find(']');
        if (close == std::string_view::npos || rest.substr(close + 1, 1) != ":") {
            return error::invalid_proxy;
        }
        host = rest.substr(1, close - 1);
        port = rest.substr(close + 2);
    } else {
        const auto colon = rest.rfind(':');
        if (colon == std::string_view::npos) {
            return error::invalid_proxy;
        }
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) {
            return error::invalid_proxy;  // an IPv6 literal needs its brackets
        }
    }
    if (host.empty() || host.find_first_of("/?#@[]") != std::string_view::npos ||
        !proxy_url_parts::is_port(port)) {
        return error::invalid_proxy;
    }
    config.host = std::string(host);
    config.port = std::string(port);
    out = std::move(config);
    return {};
}

}  // namespace happy_dial
