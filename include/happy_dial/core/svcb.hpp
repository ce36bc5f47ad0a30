// SVCB and HTTPS records (RFC 9460) without I/O: the RDATA parser and its inverse, and the
// choice of the records of one name in a parsed response. Which record a dial then uses
// (priorities, alpn, hints) is the caller's policy, not this file's.
#pragma once

#include <happy_dial/core/dns_message.hpp>

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace happy_dial::core {

/// The SvcParamKeys of RFC 9460 §14.3.2 that service_record has fields for.
enum class svc_param_key : std::uint16_t {
    mandatory = 0,        ///< §8
    alpn = 1,             ///< §7.1
    no_default_alpn = 2,  ///< §7.1
    port = 3,             ///< §7.2
    ipv4hint = 4,         ///< §7.3
    ech = 5,              ///< §14.3.2, the TLS ECH specification
    ipv6hint = 6,         ///< §7.3
};

/// An SvcParam whose key service_record has no field for, kept as given (RFC 9460 §2.2:
/// unknown keys are allowed, and "mandatory" may list them).
struct service_param {
    std::uint16_t key = 0;                                  ///< SvcParamKey, above 6
    std::vector<std::uint8_t> value;                        ///< SvcParamValue, as given
    bool operator==(const service_param&) const = default;  ///< same key and value
};

/// One SVCB/HTTPS record's RDATA (RFC 9460 §2.2), keys as §7 defines them.
struct service_record {
    std::uint16_t priority = 0;  ///< SvcPriority; 0 = AliasMode
    /// TargetName, lower case, no trailing dot; "" for "." (the owner in ServiceMode, "no
    /// service" in AliasMode, §2.5).
    std::string target;
    std::vector<std::string> alpn;                      ///< key 1, in order
    bool no_default_alpn = false;                       ///< key 2
    std::optional<std::uint16_t> port;                  ///< key 3
    std::vector<boost::asio::ip::address_v4> ipv4hint;  ///< key 4
    std::vector<std::uint8_t> ech;                      ///< key 5, bytes as given (not interpreted)
    std::vector<boost::asio::ip::address_v6> ipv6hint;  ///< key 6
    /// Key 0, strictly increasing. A client that does not implement one of them must ignore the
    /// record (§8): the parser only checks that the record has them.
    std::vector<std::uint16_t> mandatory;
    /// The other keys (above 6), in increasing key order.
    std::vector<service_param> other_params;

    /// SvcPriority 0 (§2.4.2).
    bool alias_mode() const noexcept { return priority == 0; }
    /// The ALPN ids this record offers: alpn plus "http/1.1" unless no_default_alpn (RFC 9460
    /// §7.1.1, for HTTPS records, §9.1).
    std::vector<std::string> alpn_set() const;
    /// Every field equal.
    bool operator==(const service_record&) const = default;
};

/// The most SvcParams parse_service_record takes in one record.
constexpr std::size_t max_service_params = 64;

/// Parses one RDATA into `out` (left unchanged on error). Rejects (RFC 9460 §2.2, §7, §8):
/// truncation, keys not strictly increasing (duplicates included), a "mandatory" list that is
/// empty, not strictly increasing, lists key 0, or lists a key absent from the record; "alpn"
/// empty or with an empty id; "no-default-alpn" with a value or without "alpn"; "port" not 2
/// bytes; "ipv4hint" not a non-empty multiple of 4 bytes; "ech" empty; "ipv6hint" not a
/// non-empty multiple of 16 bytes; a compressed (§2.2: names in RDATA are uncompressed) or
/// malformed TargetName; more than max_service_params params, an RDATA over 65535 bytes. Keys
/// above 6 are kept in other_params. AliasMode params are not read: §2.4.2 says a client
/// SHOULD ignore them.
boost::system::error_code parse_service_record(std::span<const std::uint8_t> rdata,
                                               service_record& out);

/// The HTTPS (or SVCB) records of a response for one name, parsed.
struct service_answer {
    std::vector<service_record> records;  ///< in the message's order
    std::size_t malformed = 0;            ///< records of the name and type that failed to parse
    /// The smallest TTL of the records returned and of the CNAMEs followed to them; 0 when
    /// there is no record.
    std::uint32_t min_ttl = 0;
};

/// The records of `type` and class IN in `message`'s answers owned by `owner` (any case, a
/// trailing dot allowed), or by the name the CNAME chain in the answers leads `owner` to
/// (RFC 1034 §3.6.2; at most 16 CNAMEs are followed). Malformed ones are skipped and counted.
service_answer service_records_of(const dns_message& message,
                                  std::string_view owner,
                                  std::uint16_t type = dns_type_https);

/// The query name of the HTTPS record of `host` for `port` (RFC 9460 §9.1: port 443 -> host,
/// otherwise "_PORT._https.host").
std::string https_query_name(std::string_view host, std::uint16_t port);

/// Serializes a record to RDATA, the inverse of parse_service_record: the TargetName
/// uncompressed, then the params in increasing key order; an AliasMode record gets no params.
/// Writes the fields as they are, without the checks parse_service_record makes (tests write
/// malformed records this way). Throws std::invalid_argument for a target append_dns_name
/// rejects, an alpn id over 255 bytes, an other_params key below 7 or twice, or a value or
/// RDATA over 65535 bytes.
std::vector<std::uint8_t> encode_service_record(const service_record& r);

}  // namespace happy_dial::core
