#include <happy_dial/detail/recycling_state_allocator.hpp>

#include <utility>

namespace happy_dial::detail {
namespace {

struct block_cache {
    void* block = nullptr;
    std::size_t size = 0;  // usable bytes of `block`
    block_cache() = default;
    block_cache(const block_cache&) = delete;
    block_cache& operator=(const block_cache&) = delete;
    ~block_cache() { ::operator delete(block); }
};

thread_local block_cache cache;

}  // namespace

void* allocate_state_block(std::size_t size) {
    if (cache.block && cache.size >= size) {
        return std::exchange(cache.block, nullptr);
    }
    return ::operator new(size);
}

void deallocate_state_block(void* block, std::size_t size) noexcept {
    if (!cache.block) {
        cache.block = block;
        cache.size = size;  // at least this much: a reused block may be larger
        return;
    }
    ::operator delete(block);
}

}  // namespace happy_dial::detail
