// coroutine.hpp: ch01::Coroutine<Yield, Send>, a generator that also receives
// values: Python's `x = yield average` driven by `send()`.
//
// Inside the body, `Send x = co_yield y;` hands `y` to the caller and pauses;
// the caller's next send(x) resumes the body, and `x` becomes the value of the
// co_yield expression. The awaiter returned by yield_value() is what makes
// that work: its await_resume() is the result of the co_yield.
//
// Priming is explicit. When the body starts, it is not paused at a co_yield,
// so there is nothing for a sent value to become the result of: the first
// call must be prime(), which runs the body to its first co_yield (Python:
// `next(coroutine)` or `send(None)` before any real send()). Calling send()
// before prime() is a std::logic_error, not a silently lost value.
//
// It deliberately does not: let the body co_await, return a value with
// co_return, or accept references as Yield or Send.
#pragma once

#include <coroutine>
#include <exception>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace ch01 {

// Thrown by prime() or send() when the body has finished instead of
// yielding, and by any call on a coroutine that has already finished
// (Python raises StopIteration in both cases).
class StopIteration : public std::runtime_error {
public:
    StopIteration() : std::runtime_error("the coroutine has finished: it yields no more values") {}
};

template <typename Yield, typename Send>
class [[nodiscard]] Coroutine {
    static_assert(std::is_object_v<Yield> && std::is_object_v<Send>,
                  "Coroutine<Yield, Send> passes values: no references");

public:
    class promise_type;
    using Handle = std::coroutine_handle<promise_type>;

    class promise_type {
    public:
        Coroutine get_return_object() noexcept { return Coroutine{Handle::from_promise(*this)}; }
        std::suspend_always initial_suspend() const noexcept { return {}; }
        std::suspend_always final_suspend() const noexcept { return {}; }

        // `co_yield y` stores where y is (the caller copies it out) and
        // returns the awaiter whose await_resume() delivers the sent value.
        auto yield_value(const Yield& value) noexcept {
            yielded_ = std::addressof(value);
            return ReceiveAwaiter{this};
        }

        void return_void() const noexcept {}
        void unhandled_exception() noexcept { exception_ = std::current_exception(); }

        template <typename Awaitable>
        std::suspend_never await_transform(Awaitable&&) = delete;

    private:
        friend class Coroutine;

        // The three functions every awaiter has, side by side:
        // always pause at a co_yield; nothing to do when pausing (the caller
        // of resume() gets control back); on resumption, the result of the
        // co_yield expression is the value send() left in the promise.
        struct ReceiveAwaiter {
            promise_type* promise;

            bool await_ready() const noexcept { return false; }
            void await_suspend(Handle) const noexcept {}
            Send await_resume() const { return std::move(*promise->sent_); }
        };

        const Yield* yielded_ = nullptr;
        Send* sent_ = nullptr;  // send()'s parameter, alive while the body runs
        bool primed_ = false;
        std::exception_ptr exception_;
    };

    Coroutine() noexcept = default;
    Coroutine(Coroutine&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    Coroutine& operator=(Coroutine&& other) noexcept {
        if (this != &other) {
            destroy();
            handle_ = std::exchange(other.handle_, {});
        }
        return *this;
    }
    Coroutine(const Coroutine&) = delete;
    Coroutine& operator=(const Coroutine&) = delete;
    ~Coroutine() { destroy(); }

    // Runs the body to its first co_yield and returns what it yielded.
    // Exactly once, before any send().
    Yield prime() {
        throw_if_finished();
        promise_type& promise = handle_.promise();
        if (promise.primed_) {
            throw std::logic_error(
                "prime() called twice: the coroutine is already waiting for send()");
        }
        promise.primed_ = true;
        return resume_and_take_yield();
    }

    // Resumes the body with `value` as the result of the co_yield it is
    // paused at, and returns what its next co_yield yields.
    Yield send(Send value) {
        throw_if_finished();
        promise_type& promise = handle_.promise();
        if (!promise.primed_) {
            throw std::logic_error(
                "send() before prime(): the body has not reached a co_yield to receive the value");
        }
        promise.sent_ = std::addressof(value);
        return resume_and_take_yield();
    }

    bool primed() const noexcept { return handle_ && handle_.promise().primed_; }
    // True once the body has returned or thrown (or for an empty Coroutine).
    bool done() const noexcept { return !handle_ || handle_.done(); }

private:
    explicit Coroutine(Handle handle) noexcept : handle_(handle) {}

    void throw_if_finished() const {
        if (done()) {
            throw StopIteration{};
        }
    }

    Yield resume_and_take_yield() {
        handle_.resume();
        promise_type& promise = handle_.promise();
        promise.sent_ = nullptr;
        if (handle_.done()) {
            if (promise.exception_) {
                std::rethrow_exception(std::exchange(promise.exception_, nullptr));
            }
            throw StopIteration{};
        }
        return *promise.yielded_;
    }

    void destroy() noexcept {
        if (handle_) {
            handle_.destroy();
            handle_ = {};
        }
    }

    Handle handle_;
};

}  // namespace ch01
