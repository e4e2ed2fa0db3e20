// future.hpp: ch03::Future<T>, a result that does not exist yet.
//
// A Future separates two parties: the code that will produce a result (a
// selector callback, when a socket becomes readable) and the code that wants
// it (a fetch waiting for the bytes). The producer calls set_result() or
// set_exception(); the consumer registers add_done_callback() and reads
// result() once it is done.
//
// The state is explicit (pending, value, exception): reading a pending
// future is an error, not a default-constructed T, and completing a future
// twice is an error too.
//
// Naive on purpose, as in the source texts: callbacks run *inline*, inside
// set_result(), in the order they were added. The producer's stack runs the
// consumer's code. Chapter 06 schedules them on the loop instead. What is not
// naive: an exception thrown by a callback is reported and stops there; it
// neither robs the later callbacks of their turn nor escapes into the
// producer (a selector callback, and from there the loop).
#pragma once

#include <exception>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace ch03 {

// Where an exception thrown by a done-callback is reported (stderr by default).
inline std::function<void(const std::string&)>& callback_exception_reporter() {
    static std::function<void(const std::string&)> reporter = [](const std::string& message) {
        std::cerr << message << '\n';
    };
    return reporter;
}

// Runs one done-callback. Nobody up the stack could handle its exception: the
// producer did not write the callback and the consumer is not on the stack.
inline void run_callback(const std::function<void()>& callback) noexcept {
    try {
        callback();
    } catch (...) {
        std::string what = "an exception not derived from std::exception";
        try {
            throw;
        } catch (const std::exception& e) {
            what = e.what();
        } catch (...) {
        }
        try {
            callback_exception_reporter()("exception in a future's done-callback: " + what);
        } catch (...) {
        }
    }
}

// The untyped part: state and callbacks. The fetch coroutines yield
// FutureBase pointers, so one coroutine can wait on futures of any type.
class FutureBase {
public:
    FutureBase() = default;
    FutureBase(const FutureBase&) = delete;
    FutureBase& operator=(const FutureBase&) = delete;
    virtual ~FutureBase() = default;

    [[nodiscard]] bool done() const noexcept { return state_ != State::pending; }

    // Runs `callback` when the future completes, or right now if it has.
    void on_done(std::function<void()> callback) {
        if (done()) {
            run_callback(callback);
            return;
        }
        callbacks_.push_back(std::move(callback));
    }

protected:
    enum class State { pending, value, exception };

    void check_pending() const {
        if (done()) {
            throw std::logic_error("future already done: a future completes only once");
        }
    }

    // Marks the future done and runs the callbacks, inline, in order. The
    // list is moved out first: a callback may add callbacks or drop the last
    // reference to another future without disturbing this loop.
    void complete(State state) {
        state_ = state;
        std::vector<std::function<void()>> callbacks = std::move(callbacks_);
        callbacks_.clear();
        for (const auto& callback : callbacks) {
            run_callback(callback);
        }
    }

    State state_ = State::pending;

private:
    std::vector<std::function<void()>> callbacks_;
};

template <typename T>
class Future : public FutureBase {
public:
    // The callback receives the future, as in asyncio (fut.add_done_callback(fn) calls fn(fut)).
    void add_done_callback(std::function<void(Future&)> callback) {
        on_done([this, callback = std::move(callback)] { callback(*this); });
    }

    void set_result(T value) {
        check_pending();
        outcome_ = std::move(value);
        complete(State::value);
    }

    // std::invalid_argument for a null pointer: result() could not rethrow it.
    void set_exception(std::exception_ptr error) {
        if (!error) {
            throw std::invalid_argument("set_exception(nullptr): a future needs an exception to hold");
        }
        check_pending();
        outcome_ = std::move(error);
        complete(State::exception);
    }

    // The value, or the stored exception rethrown. std::logic_error while pending.
    const T& result() const {
        switch (state_) {
            case State::pending:
                throw std::logic_error("result() of a pending future");
            case State::exception:
                std::rethrow_exception(std::get<std::exception_ptr>(outcome_));
            case State::value:
                break;
        }
        return std::get<T>(outcome_);
    }

private:
    std::variant<std::monostate, T, std::exception_ptr> outcome_;
};

// The result of a future that only says "it happened" (a socket is writable).
struct Unit {};

}  // namespace ch03
