// future.hpp: ch04::Future<T>: chapter 03's future, plus one rule.
//
// The new rule: an exception nobody looked at is reported. A Task (task.hpp)
// stores its coroutine's exception in its future; if that future is
// destroyed without anyone calling result(), the error would vanish. asyncio
// logs "Task exception was never retrieved"; so does this destructor.
//
// Callbacks still run inline, inside set_result(); chapter 06 changes that.
// As in chapter 03, an exception thrown by a callback is reported and stops
// there: the other callbacks still run, and the producer never sees it.
#pragma once

#include <exception>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace ch04 {

// The result of a future that only says "it happened" (a socket is writable).
struct Unit {};

// What an exception says, for a report: what() or, for one that is not a
// std::exception, that much.
inline std::string describe(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "an exception not derived from std::exception";
    }
}

// Where an exception nobody retrieved is reported (stderr by default).
inline std::function<void(const std::string&)>& unretrieved_exception_reporter() {
    static std::function<void(const std::string&)> reporter = [](const std::string& message) {
        std::cerr << message << '\n';
    };
    return reporter;
}

inline void report_unretrieved(const std::exception_ptr& error) noexcept {
    try {
        unretrieved_exception_reporter()("future exception was never retrieved: " + describe(error));
    } catch (...) {
    }
}

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
        try {
            callback_exception_reporter()("exception in a future's done-callback: " +
                                          describe(std::current_exception()));
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
    Future() = default;
    ~Future() override {
        if (state_ == State::exception && !retrieved_) {
            report_unretrieved(std::get<std::exception_ptr>(outcome_));
        }
    }

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
                retrieved_ = true;
                std::rethrow_exception(std::get<std::exception_ptr>(outcome_));
            case State::value:
                break;
        }
        return std::get<T>(outcome_);
    }

    // Marks the exception as seen without rethrowing it.
    [[nodiscard]] std::exception_ptr exception() const {
        if (state_ != State::exception) {
            return nullptr;
        }
        retrieved_ = true;
        return std::get<std::exception_ptr>(outcome_);
    }

private:
    std::variant<std::monostate, T, std::exception_ptr> outcome_;
    mutable bool retrieved_ = false;
};

}  // namespace ch04
