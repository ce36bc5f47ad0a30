// An allocator that counts what goes through it, so tests can see a handler's associated
// allocator used for a dial's state and everything released before (or after) the upcall.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

namespace happy_dial::test {

struct allocation_counters {
    std::atomic<long> allocations{0};  ///< ever made
    std::atomic<long> live{0};         ///< made and not yet freed
    std::atomic<long> bytes{0};        ///< ever requested
};

template <class T>
struct counting_allocator {
    using value_type = T;
    allocation_counters* counters;

    explicit counting_allocator(allocation_counters* c) noexcept : counters(c) {}
    template <class U>
    counting_allocator(const counting_allocator<U>& o) noexcept : counters(o.counters) {}

    T* allocate(std::size_t n) {
        ++counters->allocations;
        ++counters->live;
        counters->bytes += static_cast<long>(n * sizeof(T));
        return std::allocator<T>{}.allocate(n);
    }
    void deallocate(T* p, std::size_t n) noexcept {
        --counters->live;
        std::allocator<T>{}.deallocate(p, n);
    }
    template <class U>
    bool operator==(const counting_allocator<U>& o) const noexcept {
        return counters == o.counters;
    }
};

}  // namespace happy_dial::test
