// The error categories of proxy refusals: SOCKS5 reply codes and HTTP proxy statuses.
#include <happy_dial/proxy.hpp>

#include <string>

namespace happy_dial {
namespace {

using boost::system::errc::errc_t;

class socks5_reply_category final : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "happy_dial.socks5"; }

    std::string message(int value) const override {
        switch (static_cast<socks5_reply>(value)) {
            case socks5_reply::general_failure:
                return "SOCKS5 proxy: general server failure";
            case socks5_reply::not_allowed:
                return "SOCKS5 proxy: connection not allowed by ruleset";
            case socks5_reply::network_unreachable:
                return "SOCKS5 proxy: network unreachable";
            case socks5_reply::host_unreachable:
                return "SOCKS5 proxy: host unreachable";
            case socks5_reply::connection_refused:
                return "SOCKS5 proxy: connection refused";
            case socks5_reply::ttl_expired:
                return "SOCKS5 proxy: TTL expired";
            case socks5_reply::command_not_supported:
                return "SOCKS5 proxy: command not supported";
            case socks5_reply::address_not_supported:
                return "SOCKS5 proxy: address type not supported";
        }
        std::string text = "SOCKS5 proxy: reply code ";
        text += std::to_string(value);
        return text;
    }

    boost::system::error_condition default_error_condition(int value) const noexcept override {
        switch (static_cast<socks5_reply>(value)) {
            case socks5_reply::network_unreachable:
                return make_error_condition(errc_t::network_unreachable);
            case socks5_reply::host_unreachable:
                return make_error_condition(errc_t::host_unreachable);
            case socks5_reply::connection_refused:
                return make_error_condition(errc_t::connection_refused);
            case socks5_reply::ttl_expired:
                return make_error_condition(errc_t::timed_out);
            default:
                return {value, *this};
        }
    }
};

class http_status_category final : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "happy_dial.http_proxy"; }

    std::string message(int value) const override {
        std::string text = "HTTP proxy answered ";
        text += std::to_string(value);
        switch (value) {
            case 403:
                return text += " Forbidden";
            case 407:
                return text += " Proxy Authentication Required";
            case 502:
                return text += " Bad Gateway";
            case 503:
                return text += " Service Unavailable";
            case 504:
                return text += " Gateway Timeout";
            default:
                return text;
        }
    }

    boost::system::error_condition default_error_condition(int value) const noexcept override {
        switch (value) {
            case 407:
                return make_error_condition(errc_t::permission_denied);
            case 502:
            case 503:
                return make_error_condition(errc_t::connection_refused);
            case 504:
                return make_error_condition(errc_t::timed_out);
            default:
                return {value, *this};
        }
    }
};

}  // namespace

const boost::system::error_category& socks5_category() noexcept {
    static const socks5_reply_category instance;
    return instance;
}

const boost::system::error_category& http_proxy_category() noexcept {
    static const http_status_category instance;
    return instance;
}

}  // namespace happy_dial
