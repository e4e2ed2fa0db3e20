// coro.hpp: ch06::Coro<T>, chapter 05's composable coroutine, on this loop.
//
// Lazy (the body starts when awaited or when a task starts it), awaitable
// (`T value = co_await child();`), and when it finishes it resumes whoever
// awaited it by symmetric transfer: final_suspend's awaiter *returns* the
// awaiting coroutine's handle, so a chain of coroutines that complete at
// once runs in constant stack space. A root coroutine (run by a Task) has no
// awaiter; it tells its task instead.
//
// Frames come from the thread's FramePool (frame_pool.hpp): no malloc per
// call once the pool is warm.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

#include "chapters/06_timers/frame_pool.hpp"

namespace ch06 {

class RootObserver {  // what a Task is to its root coroutine
public:
    virtual void root_finished() noexcept = 0;

protected:
    ~RootObserver() = default;
};

namespace detail {

struct PromiseBase {
    std::coroutine_handle<> continuation;  // who awaits us; null for a root
    RootObserver* root = nullptr;          // set for a root
    std::exception_ptr exception;

    static void* operator new(std::size_t size) { return FramePool::local().allocate(size); }
    static void operator delete(void* pointer, std::size_t size) noexcept {
        FramePool::local().deallocate(pointer, size);
    }

    std::suspend_always initial_suspend() const noexcept { return {}; }

    struct FinalAwaiter {
        bool await_ready() const noexcept { return false; }
        template <typename Promise>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) const noexcept {
            PromiseBase& promise = self.promise();
            if (promise.continuation) {
                return promise.continuation;  // symmetric transfer: no stack growth
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

template <typename T>
struct Promise : PromiseBase {
    std::optional<T> value;
    void return_value(T v) { value = std::move(v); }
    T take() {
        if (exception) {
            std::rethrow_exception(exception);
        }
        return std::move(*value);
    }
};

template <>
struct Promise<void> : PromiseBase {
    void return_void() noexcept {}
    void take() const {
        if (exception) {
            std::rethrow_exception(exception);
        }
    }
};

}  // namespace detail

template <typename T = void>
class [[nodiscard]] Coro {
public:
    struct promise_type : detail::Promise<T> {
        Coro get_return_object() { return Coro{Handle::from_promise(*this)}; }
    };
    using Handle = std::coroutine_handle<promise_type>;

    Coro() = default;
    Coro(Coro&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    Coro& operator=(Coro&& other) noexcept {
        if (this != &other) {
            reset();
            handle_ = std::exchange(other.handle_, {});
        }
        return *this;
    }
    Coro(const Coro&) = delete;
    Coro& operator=(const Coro&) = delete;
    ~Coro() { reset(); }

    // `co_await child()`: start the child now, resume us when it finishes.
    auto operator co_await() && noexcept {
        struct Awaiter {
            Handle child;
            bool await_ready() const noexcept { return false; }
            std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) const noexcept {
                child.promise().continuation = awaiting;
                return child;  // symmetric transfer into the child
            }
            T await_resume() const { return child.promise().take(); }
        };
        return Awaiter{handle_};
    }

    [[nodiscard]] Handle handle() const noexcept { return handle_; }
    [[nodiscard]] bool done() const noexcept { return !handle_ || handle_.done(); }
    void reset() noexcept {
        if (handle_) {
            handle_.destroy();  // destroys a suspended child chain too: the frames own their children
            handle_ = {};
        }
    }

private:
    explicit Coro(Handle handle) : handle_(handle) {}
    Handle handle_;
};

}  // namespace ch06
