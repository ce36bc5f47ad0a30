#include <happy_dial/core/address_queue.hpp>

#include <algorithm>
#include <functional>

namespace happy_dial::core {

namespace {
constexpr std::uint32_t family_bit = 0x80000000u;
constexpr std::size_t min_slots = 16;
constexpr std::size_t linear_limit = 8;

std::size_t slot_of(const endpoint& ep, std::size_t mask) noexcept {
    return std::hash<endpoint>{}(ep)&mask;
}
}  // namespace

address_queue::address_queue(address_family preferred, unsigned first_family_count)
    : preferred_(preferred),
      other_(preferred == address_family::ipv6 ? address_family::ipv4 : address_family::ipv6),
      first_family_count_(first_family_count == 0 ? 1 : first_family_count) {}

const endpoint& address_queue::at(std::uint32_t ref) const noexcept {
    return lists_[(ref & family_bit) != 0 ? std::size_t{1} : std::size_t{0}]
        .items[ref & ~family_bit];
}

void address_queue::rehash(std::size_t slots) {
    std::vector<std::uint32_t> table(slots, 0);
    const std::size_t mask = slots - 1;
    for (std::size_t f = 0; f < lists_.size(); ++f) {
        const auto& items = lists_[f].items;
        for (std::size_t k = 0; k < items.size(); ++k) {
            std::size_t i = slot_of(items[k], mask);
            while (table[i] != 0) {
                i = (i + 1) & mask;
            }
            table[i] = (static_cast<std::uint32_t>(k) | (f != 0 ? family_bit : 0u)) + 1u;
        }
    }
    slots_.swap(table);
}

void address_queue::ensure_slots(std::size_t addresses) {
    std::size_t slots = slots_.empty() ? min_slots : slots_.size();
    while (slots < 2 * addresses) {
        slots *= 2;
    }
    if (slots != slots_.size()) {
        rehash(slots);
    }
}

void address_queue::reserve(std::size_t ipv6, std::size_t ipv4) {
    if (ipv6 + ipv4 == 0) {
        return;
    }
    auto& l6 = list(address_family::ipv6).items;
    auto& l4 = list(address_family::ipv4).items;
    l6.reserve(l6.size() + ipv6);
    l4.reserve(l4.size() + ipv4);
    if (added_ + ipv6 + ipv4 > linear_limit) {
        ensure_slots(added_ + ipv6 + ipv4);
    }
}

bool address_queue::add(const endpoint& ep, std::uint16_t group) {
    if (slots_.empty() && added_ < linear_limit) {
        const auto& items = list(family_of(ep)).items;
        if (std::find(items.begin(), items.end(), ep) != items.end()) {
            return false;
        }
        append(ep, group, 0);
        return true;
    }
    ensure_slots(added_ + 1);
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = slot_of(ep, mask);
    for (; slots_[i] != 0; i = (i + 1) & mask) {  // bounded: the table is at most half full
        if (at(slots_[i] - 1u) == ep) {
            return false;
        }
    }
    append(ep, group, i);
    return true;
}

// Adds a new address to its family's list and, when the table is in use, to slot `slot`.
void address_queue::append(const endpoint& ep, std::uint16_t group, std::size_t slot) {
    const address_family f = family_of(ep);
    auto& l = list(f);
    auto& items = l.items;
    if (group != 0 || !l.groups.empty()) {
        l.groups.resize(items.size(), 0);
        // Behind every untried address of a group not above `group` (the untried part is
        // sorted by group); handed-out addresses stay where they are.
        const auto first = l.groups.begin() + static_cast<std::ptrdiff_t>(l.next);
        const auto at = std::upper_bound(first, l.groups.end(), group);
        const auto index = at - l.groups.begin();
        if (at != l.groups.end()) {
            l.groups.insert(at, group);
            items.insert(items.begin() + index, ep);
            ++added_;
            if (!slots_.empty()) {
                rehash(slots_.size());  // the items behind it moved: rare (late answers)
            }
            return;
        }
        l.groups.push_back(group);
    }
    if (!slots_.empty()) {
        slots_[slot] = (static_cast<std::uint32_t>(items.size()) |
                        (static_cast<int>(f) != 0 ? family_bit : 0u)) +
                       1u;
    }
    items.push_back(ep);
    ++added_;
}

std::size_t address_queue::untried(address_family f) const noexcept {
    const auto& l = list(f);
    return l.items.size() - l.next;
}

// §4: "the first address family count" addresses of the preferred family, then one of the
// other family, then alternate. Position in that ideal sequence follows from how many of each
// family were handed out so far.
address_family address_queue::desired_family() const noexcept {
    const std::size_t preferred_used = list(preferred_).next;
    const std::size_t other_used = list(other_).next;
    if (preferred_used < first_family_count_) {
        return preferred_;
    }
    return other_used < preferred_used - first_family_count_ + 1 ? other_ : preferred_;
}

bool address_queue::has_next(bool allow_other) const noexcept {
    return untried(preferred_) > 0 || (allow_other && untried(other_) > 0);
}

std::optional<endpoint> address_queue::pop(bool allow_other) {
    address_family f = desired_family();
    if (f == other_ && !allow_other) {
        f = preferred_;
    }
    const address_family g = f == preferred_ ? other_ : preferred_;
    if (untried(f) == 0) {
        f = g;
        if (f == other_ && !allow_other) {
            return std::nullopt;
        }
    } else if ((g == preferred_ || allow_other) && untried(g) > 0 &&
               list(g).next_group() < list(f).next_group()) {
        f = g;  // v3 §4: a group's addresses of both families before the next group's
    }
    auto& l = list(f);
    if (l.next == l.items.size()) {
        return std::nullopt;
    }
    return l.items[l.next++];
}

void address_queue::set_preferred(address_family f) noexcept {
    preferred_ = f;
    other_ = f == address_family::ipv6 ? address_family::ipv4 : address_family::ipv6;
}

const endpoint* address_queue::peek(address_family f) const noexcept {
    const auto& l = list(f);
    return l.next == l.items.size() ? nullptr : &l.items[l.next];
}

void address_queue::clear() noexcept {
    for (auto& l : lists_) {
        l.next = l.items.size();
    }
}

}  // namespace happy_dial::core
