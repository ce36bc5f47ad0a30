// The JSON form of a dial (happy-dial --json).
#pragma once

#include <happy_dial/dial_report.hpp>

#include <ostream>
#include <string>

namespace happy_dial::cli {

/// Writes one JSON document describing the dial of host:port and its report.
void write_json(std::ostream& os,
                const std::string& host,
                const std::string& port,
                const dial_report& report,
                int exit_code);

/// `text` as a JSON string literal (quoted and escaped).
std::string json_string(const std::string& text);

}  // namespace happy_dial::cli
