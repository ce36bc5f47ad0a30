// SOCKS5, RFC 1928 (greeting §3, request §4, reply §6) and RFC 1929 (username/password §2).
#include <happy_dial/core/proxy_client.hpp>
#include <happy_dial/error.hpp>
#include <happy_dial/proxy.hpp>

#include <boost/asio/ip/address.hpp>

namespace happy_dial::core {

namespace {
namespace socks5_wire {  // named: the unity build joins sources

constexpr std::uint8_t version = 5;
constexpr std::uint8_t no_auth = 0x00;
constexpr std::uint8_t username_password = 0x02;
constexpr std::uint8_t no_acceptable = 0xFF;
constexpr std::uint8_t connect_command = 1;
constexpr std::uint8_t atyp_ipv4 = 1;
constexpr std::uint8_t atyp_domain = 3;
constexpr std::uint8_t atyp_ipv6 = 4;

void append(std::vector<std::uint8_t>& out, std::string_view s) {
    out.insert(out.end(), s.begin(), s.end());
}

}  // namespace socks5_wire
}  // namespace

socks5_client::socks5_client(std::string_view host,
                             std::uint16_t port,
                             std::string_view username,
                             std::string_view password) {
    if (host.empty() || host.size() > 255 || username.size() > 255 || password.size() > 255 ||
        (!username.empty() && password.empty())) {
        fail(error::invalid_proxy);
        return;
    }
    // §4: VER CMD RSV ATYP DST.ADDR DST.PORT.
    request_ = {socks5_wire::version, socks5_wire::connect_command, 0};
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(std::string(host), ec);
    if (!ec && address.is_v4()) {
        request_.push_back(socks5_wire::atyp_ipv4);
        const auto b = address.to_v4().to_bytes();
        request_.insert(request_.end(), b.begin(), b.end());
    } else if (!ec) {
        request_.push_back(socks5_wire::atyp_ipv6);
        const auto b = address.to_v6().to_bytes();
        request_.insert(request_.end(), b.begin(), b.end());
    } else {
        request_.push_back(socks5_wire::atyp_domain);
        request_.push_back(static_cast<std::uint8_t>(host.size()));
        socks5_wire::append(request_, host);
    }
    request_.push_back(static_cast<std::uint8_t>(port >> 8));
    request_.push_back(static_cast<std::uint8_t>(port & 0xFF));
    // §3: VER NMETHODS METHODS; offer username/password only when there are credentials.
    if (username.empty()) {
        send({socks5_wire::version, 1, socks5_wire::no_auth});
    } else {
        auth_ = {1, static_cast<std::uint8_t>(username.size())};
        socks5_wire::append(auth_, username);
        auth_.push_back(static_cast<std::uint8_t>(password.size()));
        socks5_wire::append(auth_, password);
        send({socks5_wire::version, 2, socks5_wire::no_auth, socks5_wire::username_password});
    }
}

void socks5_client::on_written() {
    switch (state_) {
        case state::greeting:
            state_ = state::method;
            break;
        case state::auth:
            state_ = state::auth_reply;
            break;
        case state::request:
            state_ = state::reply;
            break;
        default:
            return;
    }
    in_.clear();
    step_ = proxy_step::read;
}

// How many bytes the message being read has in all, as far as its read part tells.
std::size_t socks5_client::wanted() const noexcept {
    if (state_ != state::reply) {
        return 2;  // method selection (VER METHOD), RFC 1929 status (VER STATUS)
    }
    // §6: VER REP RSV ATYP BND.ADDR BND.PORT; a domain BND.ADDR starts with its length.
    if (in_.size() < 5) {
        return 5;
    }
    switch (in_[3]) {
        case socks5_wire::atyp_ipv4:
            return 4 + 4 + 2;
        case socks5_wire::atyp_ipv6:
            return 4 + 16 + 2;
        default:
            return 4 + 1 + std::size_t{in_[4]} + 2;
    }
}

std::size_t socks5_client::on_input(std::span<const std::uint8_t> bytes) {
    std::size_t taken = 0;
    while (step_ == proxy_step::read && taken < bytes.size()) {
        const auto need = wanted() - in_.size();
        const auto n = std::min(need, bytes.size() - taken);
        in_.insert(in_.end(),
                   bytes.begin() + static_cast<std::ptrdiff_t>(taken),
                   bytes.begin() + static_cast<std::ptrdiff_t>(taken + n));
        taken += n;
        // Check the reply's head as soon as it is there: garbage fails before its end.
        if (state_ == state::reply && in_.size() == 4 && in_[3] != socks5_wire::atyp_ipv4 &&
            in_[3] != socks5_wire::atyp_ipv6 && in_[3] != socks5_wire::atyp_domain) {
            fail(error::proxy_protocol_error);
        } else if (in_.size() == wanted()) {
            on_message();
        }
    }
    return taken;
}

void socks5_client::on_message() {
    switch (state_) {
        case state::method:
            if (in_[0] != socks5_wire::version) {
                fail(error::proxy_protocol_error);
            } else if (in_[1] == socks5_wire::no_acceptable) {
                fail(error::proxy_no_acceptable_auth);
            } else if (in_[1] == socks5_wire::no_auth) {
                state_ = state::request;
                send(request_);
            } else if (in_[1] == socks5_wire::username_password && !auth_.empty()) {
                state_ = state::auth;
                send(auth_);
            } else {
                fail(error::proxy_protocol_error);  // a method that was not offered
            }
            break;
        case state::auth_reply:
            // RFC 1929 §2: VER (1) STATUS; any non-zero status is a failure.
            if (in_[0] != 1) {
                fail(error::proxy_protocol_error);
            } else if (in_[1] != 0) {
                fail(error::proxy_auth_rejected);
            } else {
                state_ = state::request;
                send(request_);
            }
            break;
        case state::reply:
            if (in_[0] != socks5_wire::version || in_[2] != 0) {
                fail(error::proxy_protocol_error);
            } else if (in_[1] != 0) {
                fail({in_[1], socks5_category()});
            } else {
                step_ = proxy_step::done;
            }
            break;
        default:
            break;
    }
}

}  // namespace happy_dial::core
