// Command-line parsing for happy-dial.
#pragma once

#include <happy_dial/dial_options.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace happy_dial::cli {

/// Everything the command line asks for.
struct command {
    std::string host;  ///< with --addresses: a label only, empty when not given
    std::string port;  ///< with --addresses: the port of entries without one, empty when not given
    /// --addresses LIST: dial these endpoints instead of resolving HOST (empty: resolve)
    std::vector<boost::asio::ip::tcp::endpoint> addresses;
    dial_options options;
    std::optional<boost::asio::ip::address> bind_v4;  ///< --bind ADDR for IPv4 attempts
    std::optional<boost::asio::ip::address> bind_v6;  ///< --bind ADDR for IPv6 attempts
    /// --tls: an attempt wins only once its TLS handshake succeeded (async_dial_tls)
    bool tls = false;
    std::string sni;        ///< --sni NAME: the name for SNI and verification (default: HOST)
    bool insecure = false;  ///< --insecure: no certificate verification (verify_none)
    bool history = true;    ///< one dial_history shared by the dials (--no-history: none)
    unsigned count = 1;     ///< --count N: dial N times in a row (1..1000)
    std::chrono::milliseconds interval{0};  ///< --interval MS: pause between dials (0..60000)
    bool trace = false;
    bool json = false;        ///< --json: one pretty document per dial, then a summary
    bool json_lines = false;  ///< --json-lines: the same documents, one compact line each
    bool help = false;
    bool version = false;
    bool demo = false;
};

/// The name a --tls dial sends as SNI and verifies the certificate against: --sni, else HOST
/// (with --addresses only a label, possibly empty: then neither).
std::string tls_server_name(const command& cmd);

/// The --proxy / --socks5 proxy as a URL without its credentials ("socks5h://127.0.0.1:1080"),
/// for messages; empty without a proxy.
std::string proxy_text(const command& cmd);

/// Parses argv[1..]; returns the command or puts a message in `error`.
std::optional<command> parse_command_line(const std::vector<std::string>& args, std::string& error);

/// The --help text.
std::string usage();

}  // namespace happy_dial::cli
