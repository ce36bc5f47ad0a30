// Command-line parsing for happy-dial.
#pragma once

#include <happy_dial/dial_options.hpp>

#include <optional>
#include <string>
#include <vector>

namespace happy_dial::cli {

/// Everything the command line asks for.
struct command {
    std::string host;
    std::string port;
    dial_options options;
    std::optional<boost::asio::ip::address> bind_v4;  ///< --bind ADDR for IPv4 attempts
    std::optional<boost::asio::ip::address> bind_v6;  ///< --bind ADDR for IPv6 attempts
    bool history = true;  ///< one dial_history shared by the dials (--no-history: none)
    unsigned count = 1;   ///< --count N: dial N times in a row (1..1000)
    bool trace = false;
    bool json = false;
    bool help = false;
    bool version = false;
    bool demo = false;
};

/// Parses argv[1..]; returns the command or puts a message in `error`.
std::optional<command> parse_command_line(const std::vector<std::string>& args, std::string& error);

/// The --help text.
std::string usage();

}  // namespace happy_dial::cli
