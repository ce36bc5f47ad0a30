// Where a dial's state lives when the handler brings no allocator of its own.
#pragma once

#include <cstddef>
#include <new>

namespace happy_dial::detail {

/// One cached block per thread: a dial's state is freed before its handler runs, so the next
/// dial started from that handler (or from that thread) reuses the block instead of going to
/// malloc. Asio's own recycling allocator does the same for operations, but only for blocks
/// up to about 1 KB, and a dial's state is larger.
void* allocate_state_block(std::size_t size);
void deallocate_state_block(void* block, std::size_t size) noexcept;

template <class T>
struct recycling_state_allocator {
    static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
    using value_type = T;

    recycling_state_allocator() noexcept = default;
    template <class U>
    recycling_state_allocator(const recycling_state_allocator<U>&) noexcept {}

    T* allocate(std::size_t n) { return static_cast<T*>(allocate_state_block(n * sizeof(T))); }
    void deallocate(T* p, std::size_t n) noexcept { deallocate_state_block(p, n * sizeof(T)); }

    template <class U>
    bool operator==(const recycling_state_allocator<U>&) const noexcept {
        return true;
    }
};

}  // namespace happy_dial::detail
