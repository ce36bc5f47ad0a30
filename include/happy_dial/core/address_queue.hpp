// The untried addresses of one dial, in RFC 8305 §4 order, with late answers merged in.
#pragma once

#include <happy_dial/core/types.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace happy_dial::core {

/// Holds one list per family in arrival order (getaddrinfo already sorted each one by RFC 6724)
/// and hands out the next address by the §4 interleaving rule: `first_family_count` addresses of
/// the preferred family, then alternate. The order is computed from how many addresses of each
/// family were already handed out, so an answer that arrives late is merged into the untried
/// part exactly where a complete list would have put it (§6). Each operation is O(1) amortized.
///
/// Addresses may carry a group (an HTTPS record's service group, RFC 9460 and
/// draft-ietf-happy-happyeyeballs-v3 §4: lower groups first): each family's untried part stays
/// ordered by group, and pop() takes the other family out of its interleaving turn when that
/// family's next address is in an earlier group, so a whole group is tried before the next one.
/// Addresses without a group are group 0; until a non-zero group arrives, groups cost nothing.
class address_queue {
  public:
    /// An empty queue that tries `preferred` first and interleaves after `first_family_count`.
    address_queue(address_family preferred, unsigned first_family_count);

    /// Adds `ep` in `group` unless it was ever added before (duplicates are removed, §4).
    /// Returns whether it was added. It goes behind the untried addresses of its family with a
    /// group not above its own.
    bool add(const endpoint& ep, std::uint16_t group = 0);

    /// Makes room for `ipv6` and `ipv4` more addresses, so that adding them allocates nothing
    /// (one answer costs a constant number of allocations, however long it is).
    void reserve(std::size_t ipv6, std::size_t ipv4);

    /// The next address to try, taking it out of the queue. `allow_other` false restricts the
    /// choice to the preferred family (used while the Resolution Delay runs, §3).
    std::optional<endpoint> pop(bool allow_other);

    /// Whether pop(allow_other) would return an address.
    bool has_next(bool allow_other) const noexcept;

    /// Addresses not handed out yet, of both families.
    std::size_t untried() const noexcept { return untried(preferred_) + untried(other_); }
    /// Addresses of family `f` not handed out yet.
    std::size_t untried(address_family f) const noexcept;

    /// Forgets every untried address (after a win or a cancellation).
    void clear() noexcept;

    /// The family tried first.
    address_family preferred() const noexcept { return preferred_; }

    /// Makes `f` the family tried first. Only meaningful before the first pop(): the
    /// interleaving position is counted from the start.
    void set_preferred(address_family f) noexcept;

    /// The address pop() would hand out next for family `f`, or null.
    const endpoint* peek(address_family f) const noexcept;

  private:
    struct family_list {
        small_vector<endpoint, 2> items;
        std::vector<std::uint16_t> groups;  // per item; empty while every group is 0
        std::size_t next = 0;               // items before `next` were handed out
        std::uint16_t next_group() const noexcept { return groups.empty() ? 0 : groups[next]; }
    };

    family_list& list(address_family f) noexcept { return lists_[static_cast<std::size_t>(f)]; }
    const family_list& list(address_family f) const noexcept {
        return lists_[static_cast<std::size_t>(f)];
    }
    address_family desired_family() const noexcept;
    const endpoint& at(std::uint32_t ref) const noexcept;
    void rehash(std::size_t slots);
    void ensure_slots(std::size_t addresses);
    void append(const endpoint& ep, std::uint16_t group, std::size_t slot);

    address_family preferred_;
    address_family other_;
    unsigned first_family_count_;
    std::array<family_list, 2> lists_;
    // Every address ever added (duplicate detection, §4). Up to linear_limit addresses a scan
    // of the family's list is cheaper than hashing and needs no table. Beyond, an
    // open-addressing table of references into lists_ (family in the top bit, index below;
    // 0 = empty slot, else ref + 1), kept at most half full; it grows by doubling, or once per
    // answer through reserve(). Once it exists it holds every address.
    std::vector<std::uint32_t> slots_;
    std::size_t added_ = 0;
};

}  // namespace happy_dial::core
