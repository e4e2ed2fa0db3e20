// io_task.hpp: ch02::IoTask, a generator that yields what it waits for.
//
// Chapter 01's generators yielded values to whoever called next(). These
// yield *wait requests*: `co_yield Wait{fd, event_read}` means "resume me
// when fd is readable". The loop that owns the task turns each request into a
// selector registration and resumes the task from the selector's callback.
// That is the whole bridge from round robin to an event loop: a task is only
// resumed when it can make progress.
//
// Like chapter 01's Generator it is lazy, move-only, and destroys its frame
// (and so the locals in it, sockets included) exactly once.
#pragma once

#include <coroutine>
#include <exception>
#include <utility>

namespace ch02 {

struct Wait {
    int fd = -1;
    unsigned events = 0;  // event_read / event_write; 0: park until woken
};

class [[nodiscard]] IoTask {
public:
    struct promise_type {
        Wait wait;
        std::exception_ptr exception;

        IoTask get_return_object() { return IoTask{Handle::from_promise(*this)}; }
        std::suspend_always initial_suspend() noexcept { return {}; }  // the loop starts it
        std::suspend_always final_suspend() noexcept { return {}; }    // the owner destroys it
        std::suspend_always yield_value(Wait w) noexcept {
            wait = w;
            return {};
        }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { exception = std::current_exception(); }
    };
    using Handle = std::coroutine_handle<promise_type>;

    IoTask(IoTask&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    IoTask& operator=(IoTask&& other) noexcept {
        if (this != &other) {
            reset();
            handle_ = std::exchange(other.handle_, {});
        }
        return *this;
    }
    IoTask(const IoTask&) = delete;
    IoTask& operator=(const IoTask&) = delete;
    ~IoTask() { reset(); }

    // Runs the body to its next co_yield (or its end). Rethrows what it threw.
    void resume() {
        handle_.resume();
        if (handle_.done() && handle_.promise().exception) {
            std::rethrow_exception(std::exchange(handle_.promise().exception, nullptr));
        }
    }
    [[nodiscard]] bool done() const { return handle_.done(); }
    [[nodiscard]] Wait wait() const { return handle_.promise().wait; }

private:
    explicit IoTask(Handle handle) : handle_(handle) {}
    void reset() {
        if (handle_) {
            handle_.destroy();
        }
        handle_ = {};
    }
    Handle handle_;
};

}  // namespace ch02
