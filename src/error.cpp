#include <happy_dial/error.hpp>

#include <string>

namespace happy_dial {
namespace {

class category final : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "happy_dial"; }

    std::string message(int value) const override {
        switch (static_cast<error>(value)) {
            case error::no_endpoints:
                return "no address to connect to";
            case error::all_endpoints_filtered:
                return "every address was refused by the endpoint filter";
            case error::family_excluded:
                return "the address family policy excludes every address";
            case error::invalid_endpoint:
                return "endpoint is not a unicast IP address with a non-zero port";
            case error::timed_out:
                return "dial timed out";
            case error::attempt_timed_out:
                return "connection attempt timed out";
            case error::invalid_delay:
                return "delay option out of range";
            case error::invalid_timeout:
                return "timeout option out of range";
            case error::invalid_family_count:
                return "first address family count must be at least 1";
            case error::empty_host:
                return "host name is empty";
            case error::invalid_host:
                return "host name is too long, has an empty or over-long label, or holds invalid "
                       "characters";
            case error::invalid_service:
                return "service is not a known name or a port in 1..65535";
            case error::setup_hook_threw:
                return "socket setup hook threw an exception";
            case error::dns_timed_out:
                return "DNS query timed out";
            case error::dns_server_failure:
                return "DNS server failure (SERVFAIL)";
            case error::dns_refused:
                return "DNS server refused the query";
            case error::dns_bad_response:
                return "malformed DNS response";
            case error::resolver_unavailable:
                return "resolver backend not built into this library";
            case error::invalid_history_settings:
                return "invalid dial_history settings";
            case error::handshake_timed_out:
                return "handshake of a connection attempt timed out";
            case error::invalid_proxy:
                return "invalid proxy configuration";
            case error::proxy_protocol_error:
                return "the proxy's reply broke its protocol";
            case error::proxy_closed:
                return "the proxy closed the connection during its handshake";
            case error::proxy_reply_too_long:
                return "the proxy's reply is too long";
            case error::proxy_no_acceptable_auth:
                return "the SOCKS5 proxy accepts none of the offered authentication methods";
            case error::proxy_auth_rejected:
                return "the SOCKS5 proxy rejected the username and password";
        }
        return "unknown happy_dial error";
    }
};

}  // namespace

const boost::system::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

}  // namespace happy_dial
