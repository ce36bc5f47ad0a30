#include <happy_dial/core/https_plan.hpp>

#include <algorithm>
#include <random>

namespace happy_dial::core {

namespace {
namespace https_plan_detail {  // named: the unity build joins sources

constexpr std::uint16_t highest_known_key = 6;  // ipv6hint (RFC 9460 §14.3.2)

}  // namespace https_plan_detail
}  // namespace

std::vector<std::string> default_tcp_alpns() {
    return {"h2", "http/1.1"};
}

https_plan::https_plan(std::string origin,
                       std::uint16_t port,
                       std::vector<std::string> alpns,
                       std::uint64_t seed)
    : origin_(std::move(origin)), port_(port), alpns_(std::move(alpns)), seed_(seed) {}

bool https_plan::usable(const service_record& r) const {
    if (r.alias_mode()) {
        return false;
    }
    // RFC 9460 §8: a record with a mandatory key the client does not implement is ignored.
    for (const auto key : r.mandatory) {
        if (key > https_plan_detail::highest_known_key) {
            return false;
        }
    }
    if (alpns_.empty()) {
        return true;
    }
    const auto offered = r.alpn_set();
    return std::any_of(offered.begin(), offered.end(), [&](const std::string& id) {
        return std::find(alpns_.begin(), alpns_.end(), id) != alpns_.end();
    });
}

// The position, in the caller's preference order, of the first id the record offers (0 when
// the caller named none: every record is one protocol group).
std::size_t https_plan::alpn_rank(const service_record& r) const {
    if (alpns_.empty()) {
        return 0;
    }
    const auto offered = r.alpn_set();
    for (std::size_t i = 0; i < alpns_.size(); ++i) {
        if (std::find(offered.begin(), offered.end(), alpns_[i]) != offered.end()) {
            return i;
        }
    }
    return alpns_.size();  // unreachable for a usable record
}

void https_plan::set_records(std::span<const service_record> records) {
    answered_ = true;
    usable_.clear();
    groups_.clear();
    for (const auto& r : records) {
        if (usable(r)) {
            usable_.push_back(r);
        }
    }
    // v3 draft §4: grouped by application protocol (the caller's preference), then by
    // SvcPriority, lower first; RFC 9460 §2.4.1: equal ones in random order (seeded, so tests
    // and fuzzers can replay it).
    // Each record's key once (alpn_rank builds its ALPN set), not once per comparison.
    using key_type = std::pair<std::size_t, std::uint16_t>;
    std::vector<std::pair<key_type, service_record>> keyed;
    keyed.reserve(usable_.size());
    for (auto& r : usable_) {
        keyed.emplace_back(key_type{alpn_rank(r), r.priority}, std::move(r));
    }
    std::mt19937_64 random(seed_);
    std::shuffle(keyed.begin(), keyed.end(), random);
    std::stable_sort(
        keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    usable_.clear();
    std::uint16_t group = 0;
    for (std::size_t i = 0; i < keyed.size(); ++i) {
        if (i > 0 && keyed[i].first != keyed[i - 1].first) {
            ++group;
        }
        groups_.push_back(group);
        usable_.push_back(std::move(keyed[i].second));
    }
}

const service_record* https_plan::record_for(const endpoint& ep) const noexcept {
    const auto& a = ep.address();
    for (const auto& r : usable_) {
        if (r.port.value_or(port_) != ep.port() || serves_origin(r)) {
            continue;
        }
        const bool hinted =
            a.is_v6()
                ? std::find(r.ipv6hint.begin(), r.ipv6hint.end(), a.to_v6()) != r.ipv6hint.end()
                : std::find(r.ipv4hint.begin(), r.ipv4hint.end(), a.to_v4()) != r.ipv4hint.end();
        const bool looked_up =
            std::any_of(target_addresses_.begin(), target_addresses_.end(), [&](const auto& known) {
                return known.first == r.target && known.second == a;
            });
        if (hinted || looked_up) {
            return &r;
        }
    }
    for (const auto& r : usable_) {
        if (r.port.value_or(port_) == ep.port() && serves_origin(r)) {
            return &r;
        }
    }
    return nullptr;
}

std::vector<std::string> https_plan::shared_alpns(const service_record& r) const {
    auto ids = r.alpn_set();
    if (!alpns_.empty()) {
        std::erase_if(ids, [&](const std::string& id) {
            return std::find(alpns_.begin(), alpns_.end(), id) == alpns_.end();
        });
    }
    return ids;
}

bool https_plan::serves_origin(const service_record& r) const noexcept {
    return r.target.empty() || r.target == origin_;
}

service_endpoints https_plan::endpoints_of(std::span<const endpoint> addresses) const {
    service_endpoints out;
    for (std::size_t i = 0; i < usable_.size(); ++i) {
        if (!serves_origin(usable_[i])) {
            continue;
        }
        for (const auto& a : addresses) {
            out.endpoints.emplace_back(a.address(), usable_[i].port.value_or(port_));
            out.groups.push_back(groups_[i]);
        }
    }
    if (out.endpoints.empty()) {
        for (const auto& a : addresses) {
            out.endpoints.emplace_back(a.address(), port_);
            out.groups.push_back(no_service_group());
        }
    }
    return out;
}

namespace {
namespace https_plan_detail {

void append_hints(std::vector<endpoint>& out,
                  const service_record& r,
                  address_family f,
                  std::uint16_t port) {
    if (f == address_family::ipv6) {
        for (const auto& a : r.ipv6hint) {
            out.emplace_back(a, port);
        }
    } else {
        for (const auto& a : r.ipv4hint) {
            out.emplace_back(a, port);
        }
    }
}

void append_group(service_endpoints& out, std::uint16_t group) {
    out.groups.resize(out.endpoints.size(), group);
}

}  // namespace https_plan_detail
}  // namespace

service_endpoints https_plan::endpoints(address_family f,
                                        const std::vector<endpoint>* origin) const {
    service_endpoints out;
    bool origin_served = false;
    for (std::size_t i = 0; i < usable_.size(); ++i) {
        const auto& r = usable_[i];
        const auto port = r.port.value_or(port_);
        if (serves_origin(r) && origin) {
            origin_served = true;
            for (const auto& a : *origin) {
                out.endpoints.emplace_back(a.address(), port);
            }
        } else {
            https_plan_detail::append_hints(out.endpoints, r, f, port);
        }
        https_plan_detail::append_group(out, groups_[i]);
    }
    if (origin && !origin_served) {
        for (const auto& a : *origin) {
            out.endpoints.emplace_back(a.address(), port_);
        }
        https_plan_detail::append_group(out, no_service_group());
    }
    return out;
}

namespace {
namespace https_plan_detail {

void erase_answered(std::vector<endpoint>& hints, std::span<const endpoint> addresses) {
    std::erase_if(hints, [&](const endpoint& hint) {
        return std::any_of(addresses.begin(), addresses.end(), [&](const endpoint& a) {
            return a.address() == hint.address();
        });
    });
}

}  // namespace https_plan_detail
}  // namespace

std::vector<endpoint> https_plan::unconfirmed_hints(address_family f,
                                                    std::span<const endpoint> addresses) const {
    std::vector<endpoint> origin_hints;
    for (const auto& r : usable_) {
        if (serves_origin(r)) {
            https_plan_detail::append_hints(origin_hints, r, f, r.port.value_or(port_));
        }
    }
    https_plan_detail::erase_answered(origin_hints, addresses);
    return origin_hints;
}

std::vector<std::string> https_plan::other_targets() const {
    std::vector<std::string> names;
    for (const auto& r : usable_) {
        if (!serves_origin(r) && names.size() < max_target_lookups &&
            std::find(names.begin(), names.end(), r.target) == names.end()) {
            names.push_back(r.target);
        }
    }
    return names;
}

service_endpoints https_plan::add_target_addresses(std::string_view target,
                                                   std::span<const endpoint> addresses) {
    for (const auto& a : addresses) {
        target_addresses_.emplace_back(std::string(target), a.address());
    }
    service_endpoints out;
    for (std::size_t i = 0; i < usable_.size(); ++i) {
        if (usable_[i].target != target || serves_origin(usable_[i])) {
            continue;
        }
        for (const auto& a : addresses) {
            out.endpoints.emplace_back(a.address(), usable_[i].port.value_or(port_));
        }
        https_plan_detail::append_group(out, groups_[i]);
    }
    return out;
}

std::vector<endpoint> https_plan::unconfirmed_target_hints(
    std::string_view target, address_family f, std::span<const endpoint> addresses) const {
    std::vector<endpoint> hints;
    for (const auto& r : usable_) {
        if (r.target == target && !serves_origin(r)) {
            https_plan_detail::append_hints(hints, r, f, r.port.value_or(port_));
        }
    }
    https_plan_detail::erase_answered(hints, addresses);
    return hints;
}

}  // namespace happy_dial::core
