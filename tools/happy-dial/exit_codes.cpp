#include "exit_codes.hpp"

#include <happy_dial/error.hpp>

namespace happy_dial::cli {

exit_code exit_code_for(const boost::system::error_code& ec, std::size_t attempts) {
    if (!ec) {
        return connected;
    }
    if (ec == error::timed_out) {
        return timed_out;
    }
    if (ec == error::invalid_delay || ec == error::invalid_timeout ||
        ec == error::invalid_family_count || ec == error::empty_host || ec == error::invalid_host ||
        ec == error::invalid_service || ec == error::invalid_proxy) {
        return usage_error;
    }
    // A failed proxy handshake or TLS handshake ends its attempt like a refused connect.
    if (attempts == 0) {
        return resolution_failed;
    }
    return attempts_failed;
}

}  // namespace happy_dial::cli
