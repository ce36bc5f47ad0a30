// DNS messages without I/O (RFC 1035 §4.1): a bounded parser for responses and a builder for
// the tests, the fuzz seeds and the project's test DNS server. Malformed input is an error_code,
// never an exception, a crash or an unbounded loop.
#pragma once

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace happy_dial::core {

/// Why a DNS message or an SVCB RDATA was rejected; its category is dns_parse_category().
enum class dns_parse_error {
    /// The bytes end inside a field, a name, a record or an SvcParam.
    truncated = 1,
    /// A label of a reserved type (RFC 6891 §5: 0b01, 0b10), or one holding a '.' (it could not
    /// be told apart from a label boundary in the dotted form).
    bad_name,
    /// A name over 255 bytes in wire form (RFC 1035 §3.1).
    name_too_long,
    /// A compression pointer back into the name being read (it would loop), or more pointer
    /// hops than a name can have labels.
    pointer_loop,
    /// A compression pointer to itself or to a later byte: pointers refer to a prior occurrence
    /// (RFC 1035 §4.1.4); allowing only backward ones bounds every name.
    forward_pointer,
    /// A compression pointer where names are written uncompressed (RFC 9460 §2.2 TargetName).
    compressed_name,
    /// More answer records than the parser takes (max_dns_answers).
    too_many_records,
    /// An RDATA over 65535 bytes (RFC 1035 §4.1.3 RDLENGTH).
    rdata_too_long,
    /// SvcParamKeys not in strictly increasing order, duplicates included (RFC 9460 §2.2).
    keys_not_ascending,
    /// More SvcParams than the parser takes (max_service_params).
    too_many_params,
    /// "mandatory" lists a key the record does not have (RFC 9460 §8).
    mandatory_missing_key,
    /// "mandatory" is empty, not a list of 2-byte keys, not strictly increasing, or lists
    /// "mandatory" itself (RFC 9460 §8).
    bad_mandatory,
    /// "alpn" is empty, holds an empty id, or its ids do not fill its value (RFC 9460 §7.1.1).
    bad_alpn,
    /// "no-default-alpn" has a value, or the record has no "alpn" (RFC 9460 §7.1.1).
    bad_no_default_alpn,
    /// "port" is not 2 bytes (RFC 9460 §7.2).
    bad_port,
    /// "ipv4hint" is not a non-empty multiple of 4 bytes (RFC 9460 §7.3).
    bad_ipv4hint,
    /// "ech" is empty: its value is a TLS ECHConfigList (RFC 9460 §14.3.2 points to the ECH
    /// specification), which is never empty. The value is not otherwise interpreted.
    bad_ech,
    /// "ipv6hint" is not a non-empty multiple of 16 bytes (RFC 9460 §7.3).
    bad_ipv6hint,
};

/// The category of dns_parse_error; its name is "happy_dial.dns".
const boost::system::error_category& dns_parse_category() noexcept;

/// Makes an error_code of dns_parse_category().
inline boost::system::error_code make_error_code(dns_parse_error e) noexcept {
    return {static_cast<int>(e), dns_parse_category()};
}

/// Resource record types the project reads (RFC 1035 §3.2.2, RFC 3596, RFC 9460 §14.1).
constexpr std::uint16_t dns_type_a = 1;
constexpr std::uint16_t dns_type_cname = 5;       ///< RFC 1035 §3.3.1
constexpr std::uint16_t dns_type_aaaa = 28;       ///< RFC 3596 §2.1
constexpr std::uint16_t dns_type_svcb = 64;       ///< RFC 9460 §14.1
constexpr std::uint16_t dns_type_https = 65;      ///< RFC 9460 §14.1
constexpr std::uint16_t dns_class_in = 1;         ///< RFC 1035 §3.2.4
constexpr std::size_t max_dns_answers = 256;      ///< the most answer records parsed
constexpr std::size_t max_dns_name_length = 255;  ///< wire form, RFC 1035 §3.1

/// One resource record of the answer section (RFC 1035 §4.1.3).
struct dns_record {
    std::string name;          ///< owner name, lower case, no trailing dot ("" for the root)
    std::uint16_t type = 0;    ///< TYPE
    std::uint16_t rclass = 0;  ///< CLASS
    /// TTL in seconds; one with the top bit set counts as 0 (RFC 2181 §8).
    std::uint32_t ttl = 0;
    /// The RDATA, pointing into the parsed buffer (the caller keeps it alive).
    std::span<const std::uint8_t> rdata;
    /// For a CNAME record only: its canonical name, decompressed, in the form of `name`. Its
    /// RDATA may point elsewhere in the message, so it is read while the message is at hand.
    std::string canonical_name;
};

/// A parsed response: what a client needs of it.
struct dns_message {
    std::uint16_t id = 0;    ///< ID
    bool response = false;   ///< QR bit
    std::uint8_t rcode = 0;  ///< RCODE (the header's 4 bits)
    bool truncated = false;  ///< TC bit
    /// The first question's name (in the form of dns_record::name) and type, to match the
    /// response to its query (RFC 5452 §9.1); "" and 0 when QDCOUNT is 0.
    std::string question_name;
    std::uint16_t question_type = 0;  ///< the first question's QTYPE
    std::vector<dns_record> answers;  ///< the answer section only, in order
};

/// Parses a whole message (RFC 1035 §4.1): the header, the question section (the first
/// question kept, the rest skipped) and the answer section; the authority and additional
/// sections are not read. Bounded: names of 255 bytes at most, compression pointers only
/// backwards and never into the name being read, at most max_dns_answers answers. On error
/// `out` is left unchanged. The answers' rdata points into `bytes`.
boost::system::error_code parse_dns_message(std::span<const std::uint8_t> bytes, dns_message& out);

/// Reads the domain name at `offset` of `message` (RFC 1035 §3.1, §4.1.4) into `out`: lower
/// case (ASCII), labels joined by '.', no trailing dot, "" for the root. `offset` moves past
/// the name's bytes at `offset` (up to its first pointer). With `allow_pointers` false a
/// compression pointer is dns_parse_error::compressed_name (names inside RDATA such as the
/// SVCB TargetName, RFC 9460 §2.2).
boost::system::error_code read_dns_name(std::span<const std::uint8_t> message,
                                        std::size_t& offset,
                                        std::string& out,
                                        bool allow_pointers = true);

/// Appends `name` ("a.example", "a.example." or "" / "." for the root) in wire form,
/// uncompressed. Returns false, appending nothing, for an empty label, one over 63 bytes, or
/// a name over 255 bytes in wire form.
bool append_dns_name(std::vector<std::uint8_t>& out, std::string_view name);

/// One answer record for build_dns_response (class IN).
struct dns_answer_spec {
    std::string name;                 ///< owner name
    std::uint16_t type = 0;           ///< TYPE
    std::uint32_t ttl = 0;            ///< TTL in seconds
    std::vector<std::uint8_t> rdata;  ///< RDATA, written as given
};

/// Builds a response: the header (`id`, QR, RD and RA set, `rcode`), one question (`qname`,
/// `qtype`, class IN) and `answers`, names uncompressed. Throws std::invalid_argument for a name
/// append_dns_name rejects, an RDATA over 65535 bytes or more than 65535 answers: those are the
/// caller's mistakes, not input.
std::vector<std::uint8_t> build_dns_response(std::uint16_t id,
                                             std::string_view qname,
                                             std::uint16_t qtype,
                                             std::uint8_t rcode,
                                             std::span<const dns_answer_spec> answers);

}  // namespace happy_dial::core

namespace boost::system {
/// dns_parse_error converts to an error_code.
template <>
struct is_error_code_enum<happy_dial::core::dns_parse_error> : std::true_type {};
}  // namespace boost::system
