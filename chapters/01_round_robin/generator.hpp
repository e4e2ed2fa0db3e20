// generator.hpp: ch01::Generator<T>, a function that can pause and hand out a
// value each time it pauses (Python's generator, C++20's co_yield).
//
// The whole protocol of one coroutine type is on this page: the promise (what
// the compiler calls at each suspension point), the iterator (how a consumer
// resumes it) and the Generator object that owns the frame.
//
// The rules it keeps:
//   - lazy: calling a generator function runs nothing; the body starts at the
//     first begin() or next();
//   - one owner: Generator is move-only and destroys the frame in its
//     destructor, which runs the destructors of the body's locals even when
//     the body is paused in the middle;
//   - no allocation per step: the promise keeps a pointer to the yielded
//     value, so a step is one resume() and one done() check;
//   - an exception thrown by the body comes out of the begin(), ++ or next()
//     that resumed it.
//
// It deliberately does not: let the body co_await (a generator only yields;
// waiting is what chapters 03 to 05 build), nest generators (chapter 05's
// `yield from`) or support reference types as T.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <iterator>
#include <memory>
#include <type_traits>
#include <utility>

namespace ch01 {

template <typename T>
class [[nodiscard]] Generator {
    static_assert(std::is_object_v<T> && !std::is_const_v<T>,
                  "Generator<T> yields values: T must be a non-const object type");

public:
    class promise_type;
    class iterator;
    using Handle = std::coroutine_handle<promise_type>;

    // The promise lives inside the coroutine frame. The compiler turns the
    // body into calls on it: initial_suspend() before the first statement,
    // yield_value() at each co_yield, final_suspend() after the last one.
    class promise_type {
    public:
        Generator get_return_object() noexcept { return Generator{Handle::from_promise(*this)}; }

        // Lazy: stop before the first statement of the body. Nothing runs
        // until the consumer asks for the first value.
        std::suspend_always initial_suspend() const noexcept { return {}; }

        // Stop after the body has ended instead of freeing the frame: the
        // Generator still points at it, checks done() and destroys it.
        std::suspend_always final_suspend() const noexcept { return {}; }

        // `co_yield expression` with a temporary (a prvalue, std::move(x) or a
        // converted value): the temporary lives until the body resumes, so
        // pointing at it is enough. No copy, no allocation.
        std::suspend_always yield_value(T&& value) noexcept {
            value_ = std::addressof(value);
            return {};
        }

        // `co_yield local`: the consumer receives a T& it may move from, so it
        // gets a copy and the body's local stays untouched. The copy lives in
        // the awaiter, which (like any temporary of the co_yield expression)
        // is kept in the frame until the body resumes.
        auto yield_value(const T& value) noexcept(std::is_nothrow_copy_constructible_v<T>) {
            return CopyAwaiter{value, this};
        }

        void return_void() const noexcept {}

        // An exception escaping the body ends it (the frame is now at its
        // final suspend point). Keep it for the consumer.
        void unhandled_exception() noexcept { exception_ = std::current_exception(); }

        // A generator only yields: `co_await` inside its body does not compile.
        template <typename Awaitable>
        std::suspend_never await_transform(Awaitable&&) = delete;

        T& value() const noexcept { return *value_; }

        void rethrow_if_failed() {
            if (exception_) {
                std::rethrow_exception(std::exchange(exception_, nullptr));
            }
        }

    private:
        struct CopyAwaiter {
            T copy;
            promise_type* promise;

            bool await_ready() const noexcept { return false; }
            void await_suspend(Handle) noexcept { promise->value_ = std::addressof(copy); }
            void await_resume() const noexcept {}
        };

        T* value_ = nullptr;
        std::exception_ptr exception_;
    };

    // An input iterator: each ++ resumes the body until its next co_yield.
    // Comparing with end() asks whether the body has finished.
    class iterator {
    public:
        using iterator_concept = std::input_iterator_tag;
        using value_type = T;
        using difference_type = std::ptrdiff_t;

        iterator() = default;

        T& operator*() const noexcept { return handle_.promise().value(); }
        T* operator->() const noexcept { return std::addressof(handle_.promise().value()); }

        iterator& operator++() {
            resume(handle_);
            return *this;
        }
        void operator++(int) { ++*this; }

        friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept {
            return !it.handle_ || it.handle_.done();
        }

    private:
        friend class Generator;
        explicit iterator(Handle handle) noexcept : handle_(handle) {}

        Handle handle_;
    };

    Generator() noexcept = default;
    Generator(Generator&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    Generator& operator=(Generator&& other) noexcept {
        if (this != &other) {
            destroy();
            handle_ = std::exchange(other.handle_, {});
        }
        return *this;
    }
    Generator(const Generator&) = delete;
    Generator& operator=(const Generator&) = delete;
    ~Generator() { destroy(); }

    // Runs the body to its first co_yield. A generator is a single pass:
    // call begin() once (or use next(), not both).
    iterator begin() {
        if (handle_ && !handle_.done()) {
            resume(handle_);
        }
        return iterator{handle_};
    }
    std::default_sentinel_t end() const noexcept { return {}; }

    // Python's next(): runs the body to its next co_yield and returns true,
    // or returns false once the body has finished. value() is then the
    // yielded value.
    bool next() {
        if (!handle_ || handle_.done()) {
            return false;
        }
        resume(handle_);
        return !handle_.done();
    }
    // The value of the latest co_yield; valid only after next() returned true.
    T& value() const noexcept { return handle_.promise().value(); }

    // False for a moved-from or default-constructed Generator.
    bool owns_frame() const noexcept { return static_cast<bool>(handle_); }

private:
    explicit Generator(Handle handle) noexcept : handle_(handle) {}

    // One step: resume the body, and if it ended by throwing, rethrow here,
    // in the consumer. The check for an exception happens only once the body
    // is done, so the common step costs a resume and one test.
    static void resume(Handle handle) {
        handle.resume();
        if (handle.done()) [[unlikely]] {
            handle.promise().rethrow_if_failed();
        }
    }

    // Destroying the frame of a paused body runs the destructors of every
    // local in scope at its suspension point, then of its parameter copies.
    void destroy() noexcept {
        if (handle_) {
            handle_.destroy();
            handle_ = {};
        }
    }

    Handle handle_;
};

}  // namespace ch01
