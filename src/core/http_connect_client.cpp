// HTTP CONNECT, RFC 9110 §9.3.6: the request, and the reply's status line (RFC 9112 §4) read up
// to the empty line that ends its head.
#include <happy_dial/core/proxy_client.hpp>
#include <happy_dial/error.hpp>
#include <happy_dial/proxy.hpp>

#include <algorithm>
#include <string>

namespace happy_dial::core {

namespace {
namespace http_wire {  // named: the unity build joins sources

constexpr std::string_view end_of_head = "\r\n\r\n";
constexpr std::string_view http_name = "HTTP/";

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

}  // namespace http_wire
}  // namespace

http_connect_client::http_connect_client(std::string_view host,
                                         std::uint16_t port,
                                         std::string_view username,
                                         std::string_view password,
                                         std::size_t max_reply_bytes)
    : max_reply_bytes_(std::max<std::size_t>(max_reply_bytes, 64)) {
    const bool bad_byte = std::any_of(host.begin(), host.end(), [](char c) {
        return c == '\r' || c == '\n' || c == ' ' || c == '\0';
    });
    if (host.empty() || host.size() > 255 || bad_byte) {
        fail(error::invalid_proxy);
        return;
    }
    // The authority form (RFC 9110 §7.1); an IPv6 literal is bracketed (RFC 3986 §3.2.2).
    std::string authority = host.find(':') != std::string_view::npos ? "[" + std::string(host) + "]"
                                                                     : std::string(host);
    authority += ':';
    authority += std::to_string(port);
    std::string request = "CONNECT ";
    request += authority;
    request += " HTTP/1.1\r\nHost: ";
    request += authority;
    request += "\r\n";
    if (!username.empty()) {
        std::string credentials(username);
        credentials += ':';
        credentials += password;
        request += "Proxy-Authorization: Basic ";
        request += base64(credentials);
        request += "\r\n";
    }
    request += "\r\n";
    send(std::vector<std::uint8_t>(request.begin(), request.end()));
}

void http_connect_client::on_written() {
    step_ = proxy_step::read;
}

std::size_t http_connect_client::on_input(std::span<const std::uint8_t> bytes) {
    // Take bytes up to the end of the head and no further: what follows is the tunnel's.
    std::size_t taken = 0;
    while (taken < bytes.size()) {
        head_ += static_cast<char>(bytes[taken++]);
        if (head_.size() <= http_wire::http_name.size() &&
            head_.back() != http_wire::http_name[head_.size() - 1]) {
            fail(error::proxy_protocol_error);  // not HTTP at all: no need to wait for more
            return taken;
        }
        if (head_.size() >= http_wire::end_of_head.size() &&
            std::string_view(head_).substr(head_.size() - http_wire::end_of_head.size()) ==
                http_wire::end_of_head) {
            on_head();
            return taken;
        }
        if (head_.size() >= max_reply_bytes_) {
            fail(error::proxy_reply_too_long);
            return taken;
        }
    }
    return taken;
}

// "HTTP/1.1 200 Connection established": HTTP-version SP 3DIGIT SP reason-phrase.
void http_connect_client::on_head() {
    const std::string_view head = head_;
    const bool well_formed = head.size() >= 13 && http_wire::is_digit(head[5]) && head[6] == '.' &&
                             http_wire::is_digit(head[7]) && head[8] == ' ' &&
                             http_wire::is_digit(head[9]) && http_wire::is_digit(head[10]) &&
                             http_wire::is_digit(head[11]) && (head[12] == ' ' || head[12] == '\r');
    if (!well_formed) {
        fail(error::proxy_protocol_error);
        return;
    }
    const int status = (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
    // RFC 9110 §15: status codes are 100..599. "000" would make an error_code of value 0,
    // which reads as success, so anything outside the range is a protocol error.
    if (status < 100 || status > 599) {
        fail(error::proxy_protocol_error);
        return;
    }
    status_ = status;
    if (status_ >= 200 && status_ < 300) {
        step_ = proxy_step::done;
    } else {
        fail(make_http_proxy_error(status_));
    }
}

}  // namespace happy_dial::core
