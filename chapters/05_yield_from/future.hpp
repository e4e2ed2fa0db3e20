// future.hpp: ch05::Future<T>: chapter 04's future, now awaitable.
//
// `co_await future` suspends the coroutine until the future completes and
// evaluates to its result (or throws its exception): that is Python giving
// Future an __iter__/__await__ so that `yield from future` works. An
// exception nobody retrieved is still reported, as in chapter 04.
//
// Callbacks still run inline, inside set_result(), and so does the resumption
// of an awaiting coroutine; chapter 06 changes that.
#pragma once

#include <coroutine>
#include <exception>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace ch05 {

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
            callback();
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
        for (auto& callback : callbacks) {
            callback();
        }
    }

    State state_ = State::pending;

private:
    std::vector<std::function<void()>> callbacks_;
};

// The result of a future that only says "it happened" (a socket is writable).
struct Unit {};

// Where an exception nobody retrieved is reported (stderr by default).
inline std::function<void(const std::string&)>& unretrieved_exception_reporter() {
    static std::function<void(const std::string&)> reporter = [](const std::string& message) {
        std::cerr << message << '\n';
    };
    return reporter;
}

inline void report_unretrieved(const std::exception_ptr& error) noexcept {
    std::string what = "an exception not derived from std::exception";
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        what = e.what();
    } catch (...) {
    }
    try {
        unretrieved_exception_reporter()("future exception was never retrieved: " + what);
    } catch (...) {
    }
}


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

    void set_exception(std::exception_ptr error) {
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

    // `co_await future`: ready at once if done; otherwise resumed (inline)
    // by set_result / set_exception.
    auto operator co_await() noexcept {
        struct Awaiter {
            Future& future;
            bool await_ready() const noexcept { return future.done(); }
            void await_suspend(std::coroutine_handle<> awaiting) {
                future.on_done([awaiting] { awaiting.resume(); });
            }
            const T& await_resume() const { return future.result(); }
        };
        return Awaiter{*this};
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

}  // namespace ch05
