// task.hpp: ch04::Task<T>, the driver chapter 03 wrote by hand, as a class.
//
// A coroutine function returns a Coroutine<T>: a move-only owner of a frame
// that has not started. Task<T>::spawn() takes it over and steps it:
//
//   1. resume the coroutine; it runs to its next `co_yield future` (or ends);
//   2. take the future it yielded and register "step again" as that
//      future's done-callback;
//   3. when the future completes, the coroutine resumes *with its result*:
//      `std::string bytes = co_yield read_chunk(fd);` (or with its exception,
//      thrown at the co_yield).
//
// A Task is itself a Future<T>: it completes with the coroutine's return
// value, or with the exception that escaped it. So other code can wait for
// a task exactly as it waits for a socket.
//
// Ownership, which is where coroutine code usually goes wrong:
//   - the Task owns the frame and destroys it once (when it is destroyed);
//   - whoever will complete the awaited future keeps the Task alive, through
//     the future's callback, like asyncio (the selector registration owns the
//     future, the future's callback owns the task);
//   - the frame never holds a strong reference to the future it waits on
//     (yield_value moves it out, the awaiter keeps a plain pointer), so a
//     suspended task is not part of a reference cycle: when the selector
//     drops its registrations, the task and its frame (and the sockets in
//     it) are freed.
#pragma once

#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "chapters/04_task/future.hpp"

namespace ch04 {

template <typename T>
class Task;

namespace detail {

// co_return value; for Coroutine<T>, plain co_return; for Coroutine<Unit>.
template <typename T>
struct ReturnValue {
    std::optional<T> value;
    void return_value(T v) { value = std::move(v); }
    T take() { return std::move(*value); }
};
template <>
struct ReturnValue<Unit> {
    void return_void() noexcept {}
    static Unit take() noexcept { return {}; }
};

// The U of a Future<U> or of a class derived from one (a Task<U>). Declared
// only, for deduction: deduction sees a Task<U>* as a Future<U>*, but never a
// shared_ptr<Task<U>> as a shared_ptr<Future<U>>.
template <typename U>
std::type_identity<U> future_value(const Future<U>*);
template <typename F>
using FutureValue = typename decltype(future_value(std::declval<F*>()))::type;

}  // namespace detail

template <typename T>
class [[nodiscard]] Coroutine {
public:
    struct promise_type : detail::ReturnValue<T> {
        std::shared_ptr<FutureBase> waiting_for;  // set by co_yield, taken by Task::step
        std::exception_ptr exception;

        Coroutine get_return_object() { return Coroutine{Handle::from_promise(*this)}; }
        std::suspend_always initial_suspend() noexcept { return {}; }  // a Task starts it
        std::suspend_always final_suspend() noexcept { return {}; }    // the Task destroys it
        void unhandled_exception() noexcept { exception = std::current_exception(); }

        // `co_yield future` suspends until the future completes and then
        // evaluates to its result (or throws its exception). Any future will
        // do, a Task among them: `int n = co_yield Task<int>::spawn(...);`.
        template <typename F, typename U = detail::FutureValue<F>>
        auto yield_value(std::shared_ptr<F> future) noexcept {
            struct Awaiter {
                Future<U>* future;  // kept alive by whoever completes it, not by us
                bool await_ready() const noexcept { return false; }
                void await_suspend(std::coroutine_handle<>) const noexcept {}
                U await_resume() const { return future->result(); }
            };
            Awaiter awaiter{future.get()};
            waiting_for = std::move(future);
            return awaiter;
        }
    };
    using Handle = std::coroutine_handle<promise_type>;

    Coroutine(Coroutine&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    Coroutine& operator=(Coroutine&&) = delete;
    Coroutine(const Coroutine&) = delete;
    ~Coroutine() {
        if (handle_) {
            handle_.destroy();
        }
    }

private:
    friend class Task<T>;
    explicit Coroutine(Handle handle) : handle_(handle) {}
    Handle handle_;
};

template <typename T>
class Task : public Future<T>, public std::enable_shared_from_this<Task<T>> {
public:
    // Takes the coroutine over and runs it to its first co_yield. The task
    // lives as long as someone holds it: the caller, or the future it waits on.
    static std::shared_ptr<Task> spawn(Coroutine<T> coroutine) {
        std::shared_ptr<Task> task(new Task(std::move(coroutine)));
        task->step();
        return task;
    }

    Task(const Task&) = delete;
    Task& operator=(const Task&) = delete;

private:
    explicit Task(Coroutine<T> coroutine) : coroutine_(std::move(coroutine)) {}

    // One step: resume, then either complete this future with the outcome or
    // arrange to be stepped again when the yielded future completes.
    void step() {
        const std::shared_ptr<Task> keep_alive = this->shared_from_this();
        typename Coroutine<T>::Handle handle = coroutine_.handle_;
        handle.resume();  // an exception in the body is caught by the promise
        auto& promise = handle.promise();
        if (handle.done()) {
            if (promise.exception) {
                this->set_exception(std::exchange(promise.exception, nullptr));
            } else {
                this->set_result(promise.take());
            }
            return;
        }
        const std::shared_ptr<FutureBase> next = std::move(promise.waiting_for);
        if (!next) {
            // `co_yield nullptr_future`: nothing would ever resume the body.
            this->set_exception(std::make_exception_ptr(
                std::logic_error("a task yielded a null future and can never resume")));
            return;
        }
        next->on_done([self = keep_alive] { self->step(); });
    }

    Coroutine<T> coroutine_;
};

}  // namespace ch04
