// coro.hpp: ch05::Coro<T>, coroutines that await coroutines (Python's `yield from`).
//
// Chapter 04's coroutines could only wait for futures. A Coro<T> can be
// awaited by another coroutine: `T value = co_await child();` starts the
// child, suspends the parent, and resumes the parent with the child's value
// (or its exception) when the child finishes. The whole protocol of one
// coroutine type is on this page:
//
//   - the promise: lazy start (initial_suspend), where the result and the
//     exception are kept, who to resume at the end (continuation);
//   - the awaiter of a Coro (operator co_await): await_ready, await_suspend,
//     await_resume side by side;
//   - final_suspend's awaiter, which *returns* the continuation from
//     await_suspend: symmetric transfer. The compiler jumps to the parent
//     instead of calling it, so a chain of coroutines that complete at once
//     runs in constant stack space.
//
// Ownership: a Coro owns its frame (move-only) and destroys it once. The
// child's Coro is a temporary in the parent's co_await expression, so the
// parent's frame owns the child's, and destroying a suspended root destroys
// the whole chain.
//
// Frames come from a per-thread recycling pool (frame_pool.hpp) unless the
// HeapFrames policy is chosen: the benchmark compares the two.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <new>
#include <optional>
#include <utility>

#include "chapters/05_yield_from/frame_pool.hpp"

namespace ch05 {

struct PooledFrames {
    static void* operator new(std::size_t size) { return FramePool::local().allocate(size); }
    static void operator delete(void* pointer, std::size_t size) noexcept {
        FramePool::local().deallocate(pointer, size);
    }
};

struct HeapFrames {  // the default operator new: one malloc per call
};

class RootObserver {  // what a Task is to the coroutine it runs
public:
    virtual void root_finished() noexcept = 0;

protected:
    ~RootObserver() = default;
};

namespace detail {

template <typename Frames>
struct PromiseBase : Frames {
    std::coroutine_handle<> continuation;  // who awaits us; null for a root
    RootObserver* root = nullptr;          // set when a Task runs us
    std::exception_ptr exception;

    // Lazy: nothing runs until someone awaits us or a Task starts us.
    std::suspend_always initial_suspend() const noexcept { return {}; }

    struct FinalAwaiter {
        bool await_ready() const noexcept { return false; }
        template <typename Promise>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) const noexcept {
            PromiseBase& promise = self.promise();
            if (promise.continuation) {
                return promise.continuation;  // symmetric transfer to whoever awaited us
            }
            if (promise.root != nullptr) {
                promise.root->root_finished();
            }
            return std::noop_coroutine();
        }
        void await_resume() const noexcept {}
    };
    FinalAwaiter final_suspend() const noexcept { return {}; }
    void unhandled_exception() noexcept { exception = std::current_exception(); }
};

template <typename T, typename Frames>
struct Promise : PromiseBase<Frames> {
    std::optional<T> value;
    void return_value(T v) { value = std::move(v); }
    T take() {
        if (this->exception) {
            std::rethrow_exception(this->exception);
        }
        return std::move(*value);
    }
};

template <typename Frames>
struct Promise<void, Frames> : PromiseBase<Frames> {
    void return_void() noexcept {}
    void take() const {
        if (this->exception) {
            std::rethrow_exception(this->exception);
        }
    }
};

}  // namespace detail

template <typename T = void, typename Frames = PooledFrames>
class [[nodiscard]] BasicCoro {
public:
    struct promise_type : detail::Promise<T, Frames> {
        BasicCoro get_return_object() { return BasicCoro{Handle::from_promise(*this)}; }
    };
    using Handle = std::coroutine_handle<promise_type>;
    using value_type = T;
    using frames_type = Frames;

    BasicCoro() = default;
    BasicCoro(BasicCoro&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    BasicCoro& operator=(BasicCoro&& other) noexcept {
        if (this != &other) {
            reset();
            handle_ = std::exchange(other.handle_, {});
        }
        return *this;
    }
    BasicCoro(const BasicCoro&) = delete;
    BasicCoro& operator=(const BasicCoro&) = delete;
    ~BasicCoro() { reset(); }

    // `co_await child()`. The three functions of the awaiter protocol:
    auto operator co_await() && noexcept {
        struct Awaiter {
            Handle child;
            // Never ready: the child has not started (it is lazy).
            bool await_ready() const noexcept { return false; }
            // Remember who to resume, then transfer control into the child.
            // Returning a handle (not calling resume()) is what keeps the
            // stack flat: the parent's frame is already suspended.
            std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) const noexcept {
                child.promise().continuation = awaiting;
                return child;
            }
            // The child has finished: its value, or its exception rethrown here.
            T await_resume() const { return child.promise().take(); }
        };
        return Awaiter{handle_};
    }

    [[nodiscard]] Handle handle() const noexcept { return handle_; }
    void reset() noexcept {
        if (handle_) {
            handle_.destroy();
            handle_ = {};
        }
    }

private:
    explicit BasicCoro(Handle handle) : handle_(handle) {}
    Handle handle_;
};

template <typename T = void>
using Coro = BasicCoro<T, PooledFrames>;
template <typename T = void>
using HeapCoro = BasicCoro<T, HeapFrames>;

}  // namespace ch05
