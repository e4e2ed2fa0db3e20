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
//
// What chapter 05 established stays: a waiting coroutine is a node of an
// intrusive list, held by the awaiter in the waiting frame, so waiting
// allocates nothing and a frame destroyed while it waits leaves the list
// (PITFALLS 3). As in asyncio, a coroutine awaits futures of its own loop:
// the future's loop is the one that resumes it.
//
// A future may outlive its loop (the caller kept a task's shared_ptr): it
// can still be read and destroyed; an exception nobody retrieved then goes to
// stderr, and completing it or adding a callback throws std::logic_error,
// since no loop is left to run anything.
#pragma once

#include <coroutine>
#include <exception>
#include <functional>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "chapters/06_timers/event_loop.hpp"

namespace ch06 {

struct Unit {};

// A coroutine waiting for a future: a node in a ring of nodes around a
// sentinel. Linked, it points at its neighbours; alone, at itself. Its
// destructor unlinks it, wherever the ring's sentinel is.
class WaitNode {
public:
    WaitNode() = default;
    WaitNode(const WaitNode&) = delete;  // neighbours point at this address
    WaitNode& operator=(const WaitNode&) = delete;
    ~WaitNode() { unlink(); }

    [[nodiscard]] bool linked() const noexcept { return next_ != this; }

    void unlink() noexcept {
        previous_->next_ = next_;
        next_->previous_ = previous_;
        previous_ = next_ = this;
    }

    std::coroutine_handle<> coroutine;  // who to resume

private:
    friend class WaitList;
    WaitNode* previous_ = this;
    WaitNode* next_ = this;
};

// The waiting coroutines of one future, in the order they started waiting.
class WaitList {
public:
    WaitList() = default;
    WaitList(const WaitList&) = delete;
    WaitList& operator=(const WaitList&) = delete;
    // Nodes still linked (a future destroyed while awaited) are cut loose,
    // so their destructors do not write into this dead sentinel.
    ~WaitList() {
        while (sentinel_.linked()) {
            sentinel_.next_->unlink();
        }
    }

    void push_back(WaitNode& node) noexcept {
        node.previous_ = sentinel_.previous_;
        node.next_ = &sentinel_;
        node.previous_->next_ = &node;
        sentinel_.previous_ = &node;
    }

    // Unlinks and returns the first node; nullptr when there is none.
    WaitNode* pop_front() noexcept {
        if (!sentinel_.linked()) {
            return nullptr;
        }
        WaitNode* first = sentinel_.next_;
        first->unlink();
        return first;
    }

private:
    WaitNode sentinel_;
};

template <typename T>
class Future : public std::enable_shared_from_this<Future<T>> {
public:
    using Value = std::conditional_t<std::is_void_v<T>, Unit, T>;

    explicit Future(EventLoop& loop) : link_(loop.link()) {}
    Future(const Future&) = delete;
    Future& operator=(const Future&) = delete;
    virtual ~Future() {
        if (state_ == State::exception && !retrieved_) {
            report_unretrieved();
        }
    }

    [[nodiscard]] bool done() const noexcept { return state_ != State::pending; }

    void set_result(Value value) {
        EventLoop& loop = loop_of_pending();
        outcome_ = std::move(value);
        complete(loop, State::value);
    }
    void set_exception(std::exception_ptr error) {
        EventLoop& loop = loop_of_pending();
        outcome_ = std::move(error);
        complete(loop, State::exception);
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
        EventLoop& loop = this->loop();
        auto self = this->shared_from_this();
        std::function<void()> scheduled = [self, callback = std::move(callback)] { callback(*self); };
        if (done()) {
            loop.call_soon(std::move(scheduled));
        } else {
            callbacks_.push_back(std::move(scheduled));
        }
    }

    // `co_await future` (the caller keeps the future alive while it waits):
    // ready at once if done, otherwise resumed through the ready queue once
    // it is. The node leaves the list if the frame is destroyed first.
    class Awaiter {
    public:
        explicit Awaiter(Future& future) noexcept : future_(future) {}
        bool await_ready() const noexcept { return future_.done(); }
        void await_suspend(std::coroutine_handle<> awaiting) noexcept {
            node_.coroutine = awaiting;
            future_.waiting_.push_back(node_);
        }
        const Value& await_resume() const { return future_.result(); }

    private:
        Future& future_;
        WaitNode node_;
    };
    Awaiter operator co_await() noexcept { return Awaiter{*this}; }

    // Throws std::logic_error once the loop has been destroyed.
    [[nodiscard]] EventLoop& loop() const {
        if (link_->loop == nullptr) {
            throw std::logic_error("the future's event loop has been destroyed");
        }
        return *link_->loop;
    }

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

    EventLoop& loop_of_pending() const {
        if (done()) {
            throw std::logic_error("future already done: a future completes only once");
        }
        return loop();
    }

    void complete(EventLoop& loop, State state) {
        state_ = state;
        while (WaitNode* node = waiting_.pop_front()) {
            loop.resume_soon(node->coroutine);
        }
        for (std::function<void()>& callback : callbacks_) {
            loop.call_soon(std::move(callback));
        }
        callbacks_.clear();
    }

    // From a destructor: nothing may escape. A report that cannot even be
    // formatted (out of memory) has nowhere to go.
    void report_unretrieved() const noexcept {
        try {
            const std::string message =
                "future exception was never retrieved: " + describe(std::get<std::exception_ptr>(outcome_));
            if (link_->loop != nullptr) {
                link_->loop->report(message);
            } else {
                std::cerr << "event loop (destroyed before this future): " << message << '\n';
            }
        } catch (...) {
        }
    }

    std::shared_ptr<const LoopLink> link_;
    State state_ = State::pending;
    std::variant<std::monostate, Value, std::exception_ptr> outcome_;
    mutable bool retrieved_ = false;
    WaitList waiting_;
    std::vector<std::function<void()>> callbacks_;
};

}  // namespace ch06
