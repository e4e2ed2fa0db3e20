// frame_pool.hpp: a recycling allocator for coroutine frames.
//
// Every call of a coroutine allocates its frame. For a coroutine that
// completes at once (read_some when the bytes are there), malloc and free
// cost more than the work. Frames of one coroutine always have the same
// size, so a free list per size class turns the allocation into a pointer
// pop: this is what makes a ready co_await cost a few nanoseconds.
//
// One pool per thread (frames are created and destroyed on the loop's
// thread); blocks go back to the system when the thread ends. Frames larger
// than the biggest class go straight to operator new.
//
// A recycled block is invisible to AddressSanitizer (it never returns to
// malloc), so under ASan a block is poisoned while it sits in a free list:
// a use of a destroyed frame is still reported, as with heap frames.
#pragma once

#include <sanitizer/asan_interface.h>  // the macros below are no-ops without ASan

#include <cstddef>
#include <new>

namespace ch06 {

class FramePool {
public:
    static constexpr std::size_t granularity = 64;
    static constexpr std::size_t classes = 32;  // frames up to 2 KiB are recycled

    void* allocate(std::size_t size) {
        const std::size_t index = class_of(size);
        if (index >= classes) {
            return ::operator new(size);
        }
        if (Block* block = free_[index]) {
            unpoison(block, index);
            free_[index] = block->next;
            return block;
        }
        return allocate_new(index);
    }

    void deallocate(void* pointer, std::size_t size) noexcept {
        const std::size_t index = class_of(size);
        if (index >= classes) {
            ::operator delete(pointer);
            return;
        }
        Block* block = static_cast<Block*>(pointer);
        block->next = free_[index];
        free_[index] = block;
        poison(block, index);
    }

    // Gives every free block back to the system.
    void release_all() noexcept {
        for (Block*& head : free_) {
            const std::size_t index = static_cast<std::size_t>(&head - free_);
            while (head != nullptr) {
                unpoison(head, index);
                Block* next = head->next;
                ::operator delete(head);
                head = next;
            }
        }
    }

    // This thread's pool. It is a constant-initialised thread_local with a
    // trivial destructor, so using it costs no guard check (a frame
    // allocation is a hot path). Its blocks go back to the system at thread
    // exit through a second thread_local, set up on the slow path only.
    static FramePool& local() { return thread_pool_; }

private:
    struct Block {
        Block* next;
    };
    struct ReleaseAtThreadExit {
        ~ReleaseAtThreadExit() { thread_pool_.release_all(); }
    };

    static std::size_t class_of(std::size_t size) { return (size + granularity - 1) / granularity - 1; }
    static void poison(Block* block, std::size_t index) noexcept {
        ASAN_POISON_MEMORY_REGION(block, (index + 1) * granularity);
    }
    static void unpoison(Block* block, std::size_t index) noexcept {
        ASAN_UNPOISON_MEMORY_REGION(block, (index + 1) * granularity);
    }

    [[gnu::noinline]] void* allocate_new(std::size_t index) {
        thread_local ReleaseAtThreadExit release;  // constructed once per thread, here
        (void)release;
        return ::operator new((index + 1) * granularity);
    }

    Block* free_[classes] = {};
    static thread_local FramePool thread_pool_;
};

inline thread_local FramePool FramePool::thread_pool_;

}  // namespace ch06
