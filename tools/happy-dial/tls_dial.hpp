// happy-dial --tls: the one source that includes <happy_dial/tls.hpp> (and asio::ssl).
#pragma once

#include "cli_options.hpp"

#include <happy_dial/dial_options.hpp>

#include <boost/asio/io_context.hpp>

#include <functional>
#include <string>

namespace happy_dial::cli {

/// Starts one dial on the io_context it was made for, with the options given (each dial of a
/// --count run has its own report); the winner's connection is closed when the dial completes.
using dial_starter = std::function<void(const dial_options&)>;

/// A dial_starter for `cmd` with --tls: async_dial_tls to HOST PORT (or the --addresses
/// endpoints) with one TLS client context for every dial, which verifies the peer against the
/// system's default CA paths and tls_server_name(cmd), or nothing with --insecure. Empty, with
/// the reason in `error`, when the context cannot be made.
dial_starter make_tls_starter(boost::asio::io_context& ctx, const command& cmd, std::string& error);

}  // namespace happy_dial::cli
