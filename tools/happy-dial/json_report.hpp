// The JSON form of a dial (happy-dial --json).
#pragma once

#include <happy_dial/dial_report.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace happy_dial::cli {

/// The version of the documents --json and --json-lines print (docs/cli-report.schema.json).
/// Fields may be added without a change; removing, renaming or redefining one bumps it.
inline constexpr int json_schema_version = 1;

/// Writes one JSON document describing the dial of host:port and its report. An empty host or
/// port is written as null (--addresses without operands); `addresses` are the --addresses
/// endpoints, null when empty (the host was resolved).
void write_json(std::ostream& os,
                const std::string& host,
                const std::string& port,
                const dial_report& report,
                int exit_code,
                const std::vector<boost::asio::ip::tcp::endpoint>& addresses = {});

/// `json` without whitespace outside strings: a pretty document as one --json-lines line.
std::string compact_json(const std::string& json);

/// Milliseconds as a JSON number with three decimals ("0.250").
std::string json_ms(double ms);

/// `text` as a JSON string literal (quoted and escaped).
std::string json_string(const std::string& text);

}  // namespace happy_dial::cli
