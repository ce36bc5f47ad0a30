// happy-dial's exit codes, documented in --help and docs/cli.md.
#pragma once

#include <boost/system/error_code.hpp>

namespace happy_dial::cli {

enum exit_code : int {
    connected = 0,          ///< a connection was made
    other_failure = 1,      ///< anything else (e.g. cancelled, internal error)
    usage_error = 2,        ///< bad command line or bad option value
    resolution_failed = 3,  ///< the host had no usable address (or did not resolve)
    attempts_failed = 4,    ///< every connection attempt failed (TCP, proxy or TLS handshake)
    timed_out = 5,          ///< the --timeout deadline expired
};

/// The exit code for a dial that ended with `ec` after `attempts` attempts.
exit_code exit_code_for(const boost::system::error_code& ec, std::size_t attempts);

}  // namespace happy_dial::cli
