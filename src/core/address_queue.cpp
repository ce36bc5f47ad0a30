#include <happy_dial/core/address_queue.hpp>

namespace happy_dial::core {

address_queue::address_queue(address_family preferred, unsigned first_family_count)
    : preferred_(preferred),
      other_(preferred == address_family::ipv6 ? address_family::ipv4 : address_family::ipv6),
      first_family_count_(first_family_count == 0 ? 1 : first_family_count) {}

bool address_queue::add(const endpoint& ep) {
    if (!seen_.insert(ep).second) {
        return false;
    }
    list(family_of(ep)).items.push_back(ep);
    return true;
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
    if (untried(f) == 0) {
        f = f == preferred_ ? other_ : preferred_;
        if (f == other_ && !allow_other) {
            return std::nullopt;
        }
    }
    auto& l = list(f);
    if (l.next == l.items.size()) {
        return std::nullopt;
    }
    return l.items[l.next++];
}

void address_queue::clear() noexcept {
    for (auto& l : lists_) {
        l.next = l.items.size();
    }
}

}  // namespace happy_dial::core
