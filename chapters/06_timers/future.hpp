// future.hpp: ch06::Future<T>, now bound to a loop.
//
// The change from chapters 03-05: completing a future no longer runs its
// callbacks inline. set_result() schedules each callback with call_soon and
// resumes awaiting coroutines through the ready queue, as asyncio and Asio
// do. Three reasons:
//   - re-entrancy: the code that completes a future (a selector callback, a
//     parser) is not re-entered by whoever waited for it;
//   - fairness: a chain of futures completing one another cannot hold the
//     loop; each link waits its turn behind the I/O that is ready;
//   - stack depth: each callback starts from the loop's frame, not from the
//     bottom of another callback.
#pragma once

#include <coroutine>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "chapters/06_timers/event_loop.hpp"

namespace ch06 {

struct Unit {};

template <typename T>
class Future : public std::enable_shared_from_this<Future<T>> {
public:
    using Value = std::conditional_t<std::is_void_v<T>, Unit, T>;

    explicit Future(EventLoop& loop) : loop_(&loop) {}
    Future(const Future&) = delete;
    Future& operator=(const Future&) = delete;
    virtual ~Future() {
        if (state_ == State::exception && !retrieved_) {
            loop_->report("future exception was never retrieved: " + describe(std::get<std::exception_ptr>(outcome_)));
        }
    }

    [[nodiscard]] bool done() const noexcept { return state_ != State::pending; }

    void set_result(Value value) {
        check_pending();
        outcome_ = std::move(value);
        complete(State::value);
    }
    void set_exception(std::exception_ptr error) {
        check_pending();
        outcome_ = std::move(error);
        complete(State::exception);
    }

    const Value& result() const {
        switch (state_) {
            case State::pending:
                throw std::logic_error("result() of a pending future");
            case State::exception:
                retrieved_ = true;
                std::rethrow_exception(std::get<std::exception_ptr>(outcome_));
            case State::value:
                break;
        }
        return std::get<Value>(outcome_);
    }

    // Scheduled with call_soon once done (also when it is done already).
    void add_done_callback(std::function<void(Future&)> callback) {
        auto self = this->shared_from_this();
        std::function<void()> scheduled = [self, callback = std::move(callback)] { callback(*self); };
        if (done()) {
            loop_->call_soon(std::move(scheduled));
        } else {
            callbacks_.push_back(std::move(scheduled));
        }
    }

    // `co_await future` resumes through the ready queue once it is done.
    auto operator co_await() noexcept {
        struct Awaiter {
            Future& future;
            bool await_ready() const noexcept { return future.done(); }
            void await_suspend(std::coroutine_handle<> awaiting) { future.waiters_.push_back(awaiting); }
            const Value& await_resume() const { return future.result(); }
        };
        return Awaiter{*this};
    }

    [[nodiscard]] EventLoop& loop() const { return *loop_; }

    static std::string describe(const std::exception_ptr& error) {
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            return e.what();
        } catch (...) {
            return "an exception not derived from std::exception";
        }
    }

private:
    enum class State { pending, value, exception };

    void check_pending() const {
        if (done()) {
            throw std::logic_error("future already done: a future completes only once");
        }
    }

    void complete(State state) {
        state_ = state;
        for (std::coroutine_handle<> waiter : waiters_) {
            loop_->resume_soon(waiter);
        }
        waiters_.clear();
        for (std::function<void()>& callback : callbacks_) {
            loop_->call_soon(std::move(callback));
        }
        callbacks_.clear();
    }

    EventLoop* loop_;
    State state_ = State::pending;
    std::variant<std::monostate, Value, std::exception_ptr> outcome_;
    mutable bool retrieved_ = false;
    std::vector<std::coroutine_handle<>> waiters_;
    std::vector<std::function<void()>> callbacks_;
};

}  // namespace ch06
