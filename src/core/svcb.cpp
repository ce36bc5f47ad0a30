// SVCB and HTTPS RDATA, RFC 9460: wire format §2.2, AliasMode §2.4.2, keys §7, "mandatory" §8,
// HTTPS query names §9.1.
#include <happy_dial/core/svcb.hpp>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

namespace happy_dial::core {

namespace {
namespace svcb_wire {  // named: the unity build joins sources

constexpr std::size_t max_cname_hops = 16;

std::uint16_t read16(std::span<const std::uint8_t> b, std::size_t at) {
    return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

void put16(std::vector<std::uint8_t>& out, std::size_t value) {
    out.push_back(static_cast<std::uint8_t>((value >> 8) & 0xFF));
    out.push_back(static_cast<std::uint8_t>(value & 0xFF));
}

// §7.1.1: a non-empty list of non-empty length-prefixed ids filling the value exactly.
boost::system::error_code read_alpn(std::span<const std::uint8_t> value,
                                    std::vector<std::string>& out) {
    if (value.empty()) {
        return dns_parse_error::bad_alpn;
    }
    std::size_t pos = 0;
    while (pos < value.size()) {
        const std::size_t length = value[pos];
        if (length == 0 || value.size() - pos - 1 < length) {
            return dns_parse_error::bad_alpn;
        }
        out.emplace_back(value.begin() + static_cast<std::ptrdiff_t>(pos + 1),
                         value.begin() + static_cast<std::ptrdiff_t>(pos + 1 + length));
        pos += 1 + length;
    }
    return {};
}

// §8: a non-empty list of 2-byte keys, strictly increasing, without "mandatory" itself.
boost::system::error_code read_mandatory(std::span<const std::uint8_t> value,
                                         std::vector<std::uint16_t>& out) {
    if (value.empty() || value.size() % 2 != 0) {
        return dns_parse_error::bad_mandatory;
    }
    for (std::size_t pos = 0; pos < value.size(); pos += 2) {
        const auto key = read16(value, pos);
        if (key == static_cast<std::uint16_t>(svc_param_key::mandatory) ||
            (!out.empty() && key <= out.back())) {
            return dns_parse_error::bad_mandatory;
        }
        out.push_back(key);
    }
    return {};
}

// One SvcParam into `r`; `key` is already known to be in order.
// ipv4hint and ipv6hint (RFC 9460 §7.3): a non-empty run of whole addresses.
template <class Address>
boost::system::error_code read_hints(std::span<const std::uint8_t> value,
                                     std::vector<Address>& out,
                                     dns_parse_error malformed) {
    typename Address::bytes_type b;
    if (value.empty() || value.size() % b.size() != 0) {
        return malformed;
    }
    for (std::size_t pos = 0; pos < value.size(); pos += b.size()) {
        std::copy_n(value.begin() + static_cast<std::ptrdiff_t>(pos), b.size(), b.begin());
        out.emplace_back(b);
    }
    return {};
}

boost::system::error_code read_param(std::uint16_t key,
                                     std::span<const std::uint8_t> value,
                                     service_record& r) {
    switch (static_cast<svc_param_key>(key)) {
        case svc_param_key::mandatory:
            return read_mandatory(value, r.mandatory);
        case svc_param_key::alpn:
            return read_alpn(value, r.alpn);
        case svc_param_key::no_default_alpn:
            if (!value.empty()) {
                return dns_parse_error::bad_no_default_alpn;
            }
            r.no_default_alpn = true;
            return {};
        case svc_param_key::port:
            if (value.size() != 2) {
                return dns_parse_error::bad_port;
            }
            r.port = read16(value, 0);
            return {};
        case svc_param_key::ipv4hint:
            return read_hints(value, r.ipv4hint, dns_parse_error::bad_ipv4hint);
        case svc_param_key::ech:
            if (value.empty()) {
                return dns_parse_error::bad_ech;
            }
            r.ech.assign(value.begin(), value.end());
            return {};
        case svc_param_key::ipv6hint:
            return read_hints(value, r.ipv6hint, dns_parse_error::bad_ipv6hint);
    }
    r.other_params.push_back({key, std::vector<std::uint8_t>(value.begin(), value.end())});
    return {};
}

// `name` as read_dns_name writes names: lower case, no trailing dot.
std::string canonical(std::string_view name) {
    if (!name.empty() && name.back() == '.') {
        name.remove_suffix(1);
    }
    std::string out(name);
    for (auto& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

void append_param(std::vector<std::uint8_t>& out,
                  std::uint16_t key,
                  std::span<const std::uint8_t> value) {
    if (value.size() > 0xFFFF) {
        throw std::invalid_argument("encode_service_record: SvcParamValue over 65535 bytes");
    }
    put16(out, key);
    put16(out, value.size());
    out.insert(out.end(), value.begin(), value.end());
}

}  // namespace svcb_wire
}  // namespace

std::vector<std::string> service_record::alpn_set() const {
    auto ids = alpn;
    if (!no_default_alpn && std::find(ids.begin(), ids.end(), "http/1.1") == ids.end()) {
        ids.emplace_back("http/1.1");
    }
    return ids;
}

boost::system::error_code parse_service_record(std::span<const std::uint8_t> rdata,
                                               service_record& out) {
    if (rdata.size() > 0xFFFF) {
        return dns_parse_error::rdata_too_long;
    }
    if (rdata.size() < 2) {
        return dns_parse_error::truncated;
    }
    service_record r;
    r.priority = svcb_wire::read16(rdata, 0);
    std::size_t pos = 2;
    if (auto ec = read_dns_name(rdata, pos, r.target, false)) {
        return ec;
    }
    if (r.alias_mode()) {
        out = std::move(r);  // §2.4.2: the params of an AliasMode record are ignored
        return {};
    }
    std::array<std::uint16_t, max_service_params> keys{};
    std::size_t count = 0;
    while (pos < rdata.size()) {
        if (rdata.size() - pos < 4) {
            return dns_parse_error::truncated;
        }
        const auto key = svcb_wire::read16(rdata, pos);
        const std::size_t length = svcb_wire::read16(rdata, pos + 2);
        pos += 4;
        if (rdata.size() - pos < length) {
            return dns_parse_error::truncated;
        }
        if (count == max_service_params) {
            return dns_parse_error::too_many_params;
        }
        if (count > 0 && key <= keys[count - 1]) {
            return dns_parse_error::keys_not_ascending;
        }
        keys[count++] = key;
        if (auto ec = svcb_wire::read_param(key, rdata.subspan(pos, length), r)) {
            return ec;
        }
        pos += length;
    }
    if (r.no_default_alpn && r.alpn.empty()) {
        return dns_parse_error::bad_no_default_alpn;
    }
    const auto present = std::span(keys.data(), count);
    for (const auto key : r.mandatory) {
        if (!std::binary_search(present.begin(), present.end(), key)) {
            return dns_parse_error::mandatory_missing_key;
        }
    }
    out = std::move(r);
    return {};
}

service_answer service_records_of(const dns_message& message,
                                  std::string_view owner,
                                  std::uint16_t type) {
    service_answer result;
    auto name = svcb_wire::canonical(owner);
    std::uint32_t ttl = 0xFFFFFFFFu;
    // RFC 1034 §3.6.2: the answer section may hold the CNAME chain from the query name to the
    // name that owns the records; follow it within the message, a bounded number of hops.
    for (std::size_t hop = 0; type != dns_type_cname && hop < svcb_wire::max_cname_hops; ++hop) {
        const auto cname =
            std::find_if(message.answers.begin(), message.answers.end(), [&](const dns_record& rr) {
                return rr.type == dns_type_cname && rr.rclass == dns_class_in && rr.name == name;
            });
        if (cname == message.answers.end()) {
            break;
        }
        ttl = std::min(ttl, cname->ttl);
        name = cname->canonical_name;
    }
    for (const auto& rr : message.answers) {
        if (rr.type != type || rr.rclass != dns_class_in || rr.name != name) {
            continue;
        }
        service_record record;
        if (parse_service_record(rr.rdata, record)) {
            ++result.malformed;
            continue;
        }
        ttl = std::min(ttl, rr.ttl);
        result.records.push_back(std::move(record));
    }
    result.min_ttl = result.records.empty() ? 0 : ttl;
    return result;
}

std::string https_query_name(std::string_view host, std::uint16_t port) {
    if (port == 443) {
        return std::string(host);
    }
    std::string name = "_";
    name += std::to_string(port);
    name += "._https.";
    name += host;
    return name;
}

std::vector<std::uint8_t> encode_service_record(const service_record& r) {
    std::vector<std::uint8_t> out;
    svcb_wire::put16(out, r.priority);
    if (!append_dns_name(out, r.target)) {
        throw std::invalid_argument("encode_service_record: invalid TargetName");
    }
    if (r.alias_mode()) {
        return out;
    }
    for (std::size_t i = 0; i < r.other_params.size(); ++i) {
        const auto key = r.other_params[i].key;
        if (key <= static_cast<std::uint16_t>(svc_param_key::ipv6hint) ||
            (i > 0 && key <= r.other_params[i - 1].key)) {
            throw std::invalid_argument(
                "encode_service_record: other_params keys must be above 6 and increasing");
        }
    }
    // Keys 0 to 6 in order, then the others (all above 6, already in order): §2.2 order.
    std::vector<std::uint8_t> value;
    if (!r.mandatory.empty()) {
        value.clear();
        for (const auto key : r.mandatory) {
            svcb_wire::put16(value, key);
        }
        svcb_wire::append_param(out, 0, value);
    }
    if (!r.alpn.empty()) {
        value.clear();
        for (const auto& id : r.alpn) {
            if (id.size() > 255) {
                throw std::invalid_argument("encode_service_record: alpn id over 255 bytes");
            }
            value.push_back(static_cast<std::uint8_t>(id.size()));
            value.insert(value.end(), id.begin(), id.end());
        }
        svcb_wire::append_param(out, 1, value);
    }
    if (r.no_default_alpn) {
        svcb_wire::append_param(out, 2, {});
    }
    if (r.port) {
        value.clear();
        svcb_wire::put16(value, *r.port);
        svcb_wire::append_param(out, 3, value);
    }
    if (!r.ipv4hint.empty()) {
        value.clear();
        for (const auto& a : r.ipv4hint) {
            const auto b = a.to_bytes();
            value.insert(value.end(), b.begin(), b.end());
        }
        svcb_wire::append_param(out, 4, value);
    }
    if (!r.ech.empty()) {
        svcb_wire::append_param(out, 5, r.ech);
    }
    if (!r.ipv6hint.empty()) {
        value.clear();
        for (const auto& a : r.ipv6hint) {
            const auto b = a.to_bytes();
            value.insert(value.end(), b.begin(), b.end());
        }
        svcb_wire::append_param(out, 6, value);
    }
    for (const auto& param : r.other_params) {
        svcb_wire::append_param(out, param.key, param.value);
    }
    if (out.size() > 0xFFFF) {
        throw std::invalid_argument("encode_service_record: RDATA over 65535 bytes");
    }
    return out;
}

}  // namespace happy_dial::core
