// The allocator of a dial's intermediate operations: the caller's, behind a non-template core.
#pragma once

#include <cstddef>

namespace happy_dial::detail {

class dial_core;

/// Allocates through the dial's handler's associated allocator (dial_core::allocate, which the
/// operation template implements), so the connects and timer waits of a dial use the caller's
/// allocator without the core being a template. Asio frees an operation's memory while the
/// handler that owns the dial is still alive, so the core always outlives these calls.
void* core_allocate(dial_core& core, std::size_t size, std::size_t align);
/// Returns memory obtained from core_allocate().
void core_deallocate(dial_core& core, void* p, std::size_t size, std::size_t align) noexcept;

template <class T>
class core_allocator {
  public:
    using value_type = T;

    explicit core_allocator(dial_core& core) noexcept : core_(&core) {}
    template <class U>
    core_allocator(const core_allocator<U>& other) noexcept : core_(other.core_) {}

    T* allocate(std::size_t n) {
        return static_cast<T*>(core_allocate(*core_, n * sizeof(T), alignof(T)));
    }
    void deallocate(T* p, std::size_t n) noexcept {
        core_deallocate(*core_, p, n * sizeof(T), alignof(T));
    }

    template <class U>
    bool operator==(const core_allocator<U>& other) const noexcept {
        return core_ == other.core_;
    }

  private:
    template <class U>
    friend class core_allocator;
    dial_core* core_;
};

}  // namespace happy_dial::detail
