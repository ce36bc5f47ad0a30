// The untried addresses of one dial, in RFC 8305 §4 order, with late answers merged in.
#pragma once

#include <happy_dial/core/types.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <unordered_set>
#include <vector>

namespace happy_dial::core {

/// Holds one list per family in arrival order (getaddrinfo already sorted each one by RFC 6724)
/// and hands out the next address by the §4 interleaving rule: `first_family_count` addresses of
/// the preferred family, then alternate. The order is computed from how many addresses of each
/// family were already handed out, so an answer that arrives late is merged into the untried
/// part exactly where a complete list would have put it (§6). Each operation is O(1) amortized.
class address_queue {
public:
    address_queue(address_family preferred, unsigned first_family_count);

    /// Adds `ep` unless it was ever added before (duplicates are removed, §4). Returns whether
    /// it was added.
    bool add(const endpoint& ep);

    /// The next address to try, taking it out of the queue. `allow_other` false restricts the
    /// choice to the preferred family (used while the Resolution Delay runs, §3).
    std::optional<endpoint> pop(bool allow_other);

    /// Whether pop(allow_other) would return an address.
    bool has_next(bool allow_other) const noexcept;

    std::size_t untried() const noexcept { return untried(preferred_) + untried(other_); }
    std::size_t untried(address_family f) const noexcept;

    /// Forgets every untried address (after a win or a cancellation).
    void clear() noexcept;

    address_family preferred() const noexcept { return preferred_; }

private:
    struct family_list {
        std::vector<endpoint> items;
        std::size_t next = 0;  // items before `next` were handed out
    };

    family_list& list(address_family f) noexcept { return lists_[static_cast<int>(f)]; }
    const family_list& list(address_family f) const noexcept {
        return lists_[static_cast<int>(f)];
    }
    address_family desired_family() const noexcept;

    address_family preferred_;
    address_family other_;
    unsigned first_family_count_;
    std::array<family_list, 2> lists_;
    std::unordered_set<endpoint> seen_;
};

}  // namespace happy_dial::core
