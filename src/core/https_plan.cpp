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

void https_plan::set_records(std::span<const service_record> records) {
    answered_ = true;
    usable_.clear();
    for (const auto& r : records) {
        if (usable(r)) {
            usable_.push_back(r);
        }
    }
    // RFC 9460 §2.4.1: lower SvcPriority first, equal ones in random order (seeded, so tests
    // and fuzzers can replay it).
    std::mt19937_64 random(seed_);
    std::shuffle(usable_.begin(), usable_.end(), random);
    std::stable_sort(usable_.begin(), usable_.end(), [](const auto& a, const auto& b) {
        return a.priority < b.priority;
    });
}

bool https_plan::serves_origin(const service_record& r) const noexcept {
    return r.target.empty() || r.target == origin_;
}

std::vector<endpoint> https_plan::endpoints_of(std::span<const endpoint> addresses) const {
    std::vector<endpoint> out;
    for (const auto& r : usable_) {
        if (!serves_origin(r)) {
            continue;
        }
        for (const auto& a : addresses) {
            out.emplace_back(a.address(), r.port.value_or(port_));
        }
    }
    if (out.empty()) {
        for (const auto& a : addresses) {
            out.emplace_back(a.address(), port_);
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

}  // namespace https_plan_detail
}  // namespace

std::vector<endpoint> https_plan::endpoints(address_family f,
                                            const std::vector<endpoint>* origin) const {
    std::vector<endpoint> out;
    bool origin_served = false;
    for (const auto& r : usable_) {
        const auto port = r.port.value_or(port_);
        if (serves_origin(r) && origin) {
            origin_served = true;
            for (const auto& a : *origin) {
                out.emplace_back(a.address(), port);
            }
        } else {
            https_plan_detail::append_hints(out, r, f, port);
        }
    }
    if (origin && !origin_served) {
        for (const auto& a : *origin) {
            out.emplace_back(a.address(), port_);
        }
    }
    return out;
}

std::vector<endpoint> https_plan::unconfirmed_hints(address_family f,
                                                    std::span<const endpoint> addresses) const {
    std::vector<endpoint> origin_hints;
    for (const auto& r : usable_) {
        if (serves_origin(r)) {
            https_plan_detail::append_hints(origin_hints, r, f, r.port.value_or(port_));
        }
    }
    std::erase_if(origin_hints, [&](const endpoint& hint) {
        return std::any_of(addresses.begin(), addresses.end(), [&](const endpoint& a) {
            return a.address() == hint.address();
        });
    });
    return origin_hints;
}

}  // namespace happy_dial::core
