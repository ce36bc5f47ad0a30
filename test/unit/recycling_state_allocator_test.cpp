// The per-thread block cache behind a dial's state when the handler has no allocator.
#include "catch.hpp"

#include <happy_dial/detail/recycling_state_allocator.hpp>

#include <cstring>
#include <thread>

using namespace happy_dial::detail;

TEST_CASE("recycling_state_allocator: a freed block is reused for a request it can hold",
          "[alloc]") {
    void* a = allocate_state_block(2000);
    std::memset(a, 0xAB, 2000);  // usable for the whole size (ASan checks the bounds)
    deallocate_state_block(a, 2000);
    void* b = allocate_state_block(1500);  // fits: the cached block comes back
    CHECK(b == a);
    void* c = allocate_state_block(1500);  // the cache is empty now: a fresh block
    CHECK(c != a);
    deallocate_state_block(b, 1500);
    deallocate_state_block(c, 1500);       // the cache holds one block: this one is freed
    void* d = allocate_state_block(4000);  // too large for the cached block
    CHECK(d != b);
    std::memset(d, 0xCD, 4000);
    deallocate_state_block(d, 4000);
}

TEST_CASE("recycling_state_allocator: each thread has its own block, freed at thread exit",
          "[alloc]") {
    void* mine = allocate_state_block(1024);
    deallocate_state_block(mine, 1024);
    void* theirs = nullptr;
    std::thread([&] {
        theirs = allocate_state_block(1024);
        deallocate_state_block(theirs, 1024);  // cached by that thread, freed when it exits
    }).join();
    CHECK(theirs != mine);  // the other thread could not take this thread's block
    void* again = allocate_state_block(1024);
    CHECK(again == mine);
    deallocate_state_block(again, 1024);
}
