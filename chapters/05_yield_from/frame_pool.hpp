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
#pragma once

#include <array>
#include <cstddef>
#include <new>

namespace ch05 {

class FramePool {
public:
    static constexpr std::size_t granularity = 64;
    static constexpr std::size_t classes = 32;  // frames up to 2 KiB are recycled

    ~FramePool() {
        for (Block*& head : free_) {
            while (head != nullptr) {
                Block* next = head->next;
                ::operator delete(head);
                head = next;
            }
        }
    }

    void* allocate(std::size_t size) {
        const std::size_t index = class_of(size);
        if (index >= classes) {
            return ::operator new(size);
        }
        if (Block* block = free_[index]) {
            free_[index] = block->next;
            return block;
        }
        return ::operator new((index + 1) * granularity);
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
    }

    static FramePool& local() {
        thread_local FramePool pool;
        return pool;
    }

private:
    struct Block {
        Block* next;
    };
    static std::size_t class_of(std::size_t size) { return (size + granularity - 1) / granularity - 1; }

    std::array<Block*, classes> free_{};
};

}  // namespace ch05
