// DNS messages, RFC 1035 §4.1 (header §4.1.1, question §4.1.2, resource records §4.1.3, name
// compression §4.1.4). Every loop is bounded by the input's size or a fixed limit.
#include <happy_dial/core/dns_message.hpp>

#include <stdexcept>
#include <string>

namespace happy_dial::core {

namespace {
namespace dns_wire {  // named: the unity build joins sources

constexpr std::size_t header_size = 12;
// A name has at most 127 labels (255 bytes, 2 per label at least): a chain of pointers longer
// than that is no name.
constexpr int max_pointer_hops = 127;
constexpr std::uint8_t pointer_bits = 0xC0;

std::uint16_t read16(std::span<const std::uint8_t> b, std::size_t at) {
    return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

std::uint32_t read32(std::span<const std::uint8_t> b, std::size_t at) {
    return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
           (std::uint32_t{b[at + 2]} << 8) | std::uint32_t{b[at + 3]};
}

void put16(std::vector<std::uint8_t>& out, std::size_t value) {
    out.push_back(static_cast<std::uint8_t>((value >> 8) & 0xFF));
    out.push_back(static_cast<std::uint8_t>(value & 0xFF));
}

void put32(std::vector<std::uint8_t>& out, std::uint32_t value) {
    put16(out, value >> 16);
    put16(out, value & 0xFFFF);
}

char lower(std::uint8_t c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

class category final : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "happy_dial.dns"; }

    std::string message(int value) const override {
        switch (static_cast<dns_parse_error>(value)) {
            case dns_parse_error::truncated:
                return "DNS data truncated";
            case dns_parse_error::bad_name:
                return "DNS name with a reserved label type or a '.' in a label";
            case dns_parse_error::name_too_long:
                return "DNS name over 255 bytes";
            case dns_parse_error::pointer_loop:
                return "DNS name compression pointers loop";
            case dns_parse_error::forward_pointer:
                return "DNS name compression pointer not to a prior byte";
            case dns_parse_error::compressed_name:
                return "compressed DNS name where names are uncompressed";
            case dns_parse_error::too_many_records:
                return "too many DNS answer records";
            case dns_parse_error::rdata_too_long:
                return "RDATA over 65535 bytes";
            case dns_parse_error::keys_not_ascending:
                return "SvcParamKeys not in strictly increasing order";
            case dns_parse_error::too_many_params:
                return "too many SvcParams";
            case dns_parse_error::mandatory_missing_key:
                return "SVCB mandatory key missing from the record";
            case dns_parse_error::bad_mandatory:
                return "malformed SVCB mandatory list";
            case dns_parse_error::bad_alpn:
                return "malformed SVCB alpn";
            case dns_parse_error::bad_no_default_alpn:
                return "SVCB no-default-alpn with a value or without alpn";
            case dns_parse_error::bad_port:
                return "SVCB port not 2 bytes";
            case dns_parse_error::bad_ipv4hint:
                return "malformed SVCB ipv4hint";
            case dns_parse_error::bad_ech:
                return "empty SVCB ech";
            case dns_parse_error::bad_ipv6hint:
                return "malformed SVCB ipv6hint";
        }
        return "DNS parse error " + std::to_string(value);
    }
};

// The answer record at `pos` (RFC 1035 §4.1.3); `pos` moves past it.
boost::system::error_code read_record(std::span<const std::uint8_t> message,
                                      std::size_t& pos,
                                      dns_record& out) {
    if (auto ec = read_dns_name(message, pos, out.name)) {
        return ec;
    }
    if (message.size() - pos < 10) {
        return dns_parse_error::truncated;
    }
    out.type = read16(message, pos);
    out.rclass = read16(message, pos + 2);
    const auto ttl = read32(message, pos + 4);
    out.ttl = ttl > 0x7FFFFFFFu ? 0 : ttl;  // RFC 2181 §8
    const std::size_t length = read16(message, pos + 8);
    pos += 10;
    if (message.size() - pos < length) {
        return dns_parse_error::truncated;
    }
    out.rdata = message.subspan(pos, length);
    if (out.type == dns_type_cname) {
        // RFC 1035 §3.3.1: the name must fill the RDATA (its pointers may lead anywhere before).
        auto at = pos;
        if (auto ec = read_dns_name(message.first(pos + length), at, out.canonical_name)) {
            return ec;
        }
        if (at != pos + length) {
            return dns_parse_error::bad_name;
        }
    }
    pos += length;
    return {};
}

}  // namespace dns_wire
}  // namespace

const boost::system::error_category& dns_parse_category() noexcept {
    static const dns_wire::category instance;
    return instance;
}

boost::system::error_code read_dns_name(std::span<const std::uint8_t> message,
                                        std::size_t& offset,
                                        std::string& out,
                                        bool allow_pointers) {
    std::string name;
    std::size_t pos = offset;
    std::size_t run_start = offset;  // where the labels being read began: pointers go before it
    std::size_t end = 0;             // where the name's bytes at `offset` end
    std::size_t wire_length = 1;     // the root label
    int hops = 0;
    for (;;) {
        if (pos >= message.size()) {
            return dns_parse_error::truncated;
        }
        const std::uint8_t length = message[pos];
        if (length == 0) {
            if (end == 0) {
                end = pos + 1;
            }
            break;
        }
        if ((length & dns_wire::pointer_bits) == dns_wire::pointer_bits) {
            if (!allow_pointers) {
                return dns_parse_error::compressed_name;
            }
            if (message.size() - pos < 2) {
                return dns_parse_error::truncated;
            }
            const std::size_t target = dns_wire::read16(message, pos) & 0x3FFF;
            if (target > pos) {
                return dns_parse_error::forward_pointer;
            }
            // At or after run_start, the pointer leads back into the labels just read, so to
            // itself again: RFC 1035 does not forbid it, but no encoder writes it.
            if (target >= run_start || ++hops > dns_wire::max_pointer_hops) {
                return dns_parse_error::pointer_loop;
            }
            if (end == 0) {
                end = pos + 2;
            }
            pos = run_start = target;
            continue;
        }
        if ((length & dns_wire::pointer_bits) != 0) {
            return dns_parse_error::bad_name;  // RFC 6891 §5: no extended label types
        }
        if (message.size() - pos - 1 < length) {
            return dns_parse_error::truncated;
        }
        wire_length += 1 + std::size_t{length};
        if (wire_length > max_dns_name_length) {
            return dns_parse_error::name_too_long;
        }
        if (!name.empty()) {
            name += '.';
        }
        for (std::size_t i = pos + 1; i <= pos + length; ++i) {
            if (message[i] == '.') {
                return dns_parse_error::bad_name;
            }
            name += dns_wire::lower(message[i]);
        }
        pos += 1 + std::size_t{length};
    }
    offset = end;
    out = std::move(name);
    return {};
}

bool append_dns_name(std::vector<std::uint8_t>& out, std::string_view name) {
    if (!name.empty() && name.back() == '.') {
        name.remove_suffix(1);
    }
    const auto size_before = out.size();
    std::size_t wire_length = 1;
    while (!name.empty()) {
        const auto dot = name.find('.');
        const auto label = name.substr(0, dot);
        wire_length += 1 + label.size();
        if (label.empty() || label.size() > 63 || wire_length > max_dns_name_length) {
            out.resize(size_before);
            return false;
        }
        out.push_back(static_cast<std::uint8_t>(label.size()));
        out.insert(out.end(), label.begin(), label.end());
        if (dot == std::string_view::npos) {
            break;
        }
        name.remove_prefix(dot + 1);
        if (name.empty()) {  // "a..": the last label is empty
            out.resize(size_before);
            return false;
        }
    }
    out.push_back(0);
    return true;
}

boost::system::error_code parse_dns_message(std::span<const std::uint8_t> bytes, dns_message& out) {
    if (bytes.size() < dns_wire::header_size) {
        return dns_parse_error::truncated;
    }
    dns_message message;
    message.id = dns_wire::read16(bytes, 0);
    const auto flags = dns_wire::read16(bytes, 2);
    message.response = (flags & 0x8000) != 0;
    message.truncated = (flags & 0x0200) != 0;
    message.rcode = static_cast<std::uint8_t>(flags & 0x000F);
    const std::size_t questions = dns_wire::read16(bytes, 4);
    const std::size_t answers = dns_wire::read16(bytes, 6);
    if (answers > max_dns_answers) {
        return dns_parse_error::too_many_records;
    }
    std::size_t pos = dns_wire::header_size;
    // Each question takes 5 bytes at least, so the loop ends with the input.
    for (std::size_t i = 0; i < questions; ++i) {
        std::string name;
        if (auto ec = read_dns_name(bytes, pos, name)) {
            return ec;
        }
        if (bytes.size() - pos < 4) {
            return dns_parse_error::truncated;
        }
        if (i == 0) {
            message.question_name = std::move(name);
            message.question_type = dns_wire::read16(bytes, pos);
        }
        pos += 4;
    }
    message.answers.resize(answers);
    for (auto& record : message.answers) {
        if (auto ec = dns_wire::read_record(bytes, pos, record)) {
            return ec;
        }
    }
    out = std::move(message);
    return {};
}

std::vector<std::uint8_t> build_dns_response(std::uint16_t id,
                                             std::string_view qname,
                                             std::uint16_t qtype,
                                             std::uint8_t rcode,
                                             std::span<const dns_answer_spec> answers) {
    if (answers.size() > 0xFFFF) {
        throw std::invalid_argument("build_dns_response: more than 65535 answers");
    }
    std::vector<std::uint8_t> out;
    dns_wire::put16(out, id);
    // QR, opcode QUERY, RD, RA (RFC 1035 §4.1.1).
    dns_wire::put16(out, 0x8000u | 0x0100u | 0x0080u | (rcode & 0x0Fu));
    dns_wire::put16(out, 1);
    dns_wire::put16(out, answers.size());
    dns_wire::put16(out, 0);
    dns_wire::put16(out, 0);
    if (!append_dns_name(out, qname)) {
        throw std::invalid_argument("build_dns_response: invalid query name");
    }
    dns_wire::put16(out, qtype);
    dns_wire::put16(out, dns_class_in);
    for (const auto& answer : answers) {
        if (!append_dns_name(out, answer.name)) {
            throw std::invalid_argument("build_dns_response: invalid owner name");
        }
        if (answer.rdata.size() > 0xFFFF) {
            throw std::invalid_argument("build_dns_response: RDATA over 65535 bytes");
        }
        dns_wire::put16(out, answer.type);
        dns_wire::put16(out, dns_class_in);
        dns_wire::put32(out, answer.ttl);
        dns_wire::put16(out, answer.rdata.size());
        out.insert(out.end(), answer.rdata.begin(), answer.rdata.end());
    }
    return out;
}

}  // namespace happy_dial::core
