// future.hpp: ch05::Future<T>: chapter 04's future, now awaitable.
//
// `co_await future` suspends the coroutine until the future completes and
// evaluates to its result (or throws its exception): that is Python giving
// Future an __iter__/__await__ so that `yield from future` works. An
// exception nobody retrieved is still reported, as in chapter 04.
//
// A waiting coroutine is not a std::function in the callback list: it is a
// node (WaitNode) in an intrusive list, and the node is the co_await's
// awaiter, which lives in the waiting coroutine's frame. So waiting allocates
// nothing, and a frame destroyed while it waits unlinks itself: completing
// the future later resumes nobody (PITFALLS 3).
//
// Callbacks still run inline, inside set_result(), and so does the resumption
// of an awaiting coroutine; chapter 06 changes that. An exception escaping a
// callback is reported and the next callback runs: it must not skip the
// others or the waiting coroutines, and set_result() may be called where
// nothing can catch it (a task's final suspend is noexcept).
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

    void insert_before(WaitNode& position) noexcept {
        previous_ = position.previous_;
        next_ = &position;
        previous_->next_ = this;
        position.previous_ = this;
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

    void push_back(WaitNode& node) noexcept { node.insert_before(sentinel_); }

    // Moves every node of `other` here (this list must be empty).
    void take_all_from(WaitList& other) noexcept {
        if (!other.sentinel_.linked()) {
            return;
        }
        insert_ring_after_sentinel(other);
    }

    // Unlinks and resumes the first node until none is left. Re-reading the
    // head each time matters: a resumed coroutine may destroy another
    // waiting frame, whose node then leaves this list by itself.
    void resume_all() {
        while (sentinel_.linked()) {
            WaitNode* first = sentinel_.next_;
            first->unlink();
            first->coroutine.resume();
        }
    }

private:
    void insert_ring_after_sentinel(WaitList& other) noexcept {
        WaitNode* first = other.sentinel_.next_;
        WaitNode* last = other.sentinel_.previous_;
        other.sentinel_.previous_ = other.sentinel_.next_ = &other.sentinel_;
        sentinel_.next_ = first;
        sentinel_.previous_ = last;
        first->previous_ = &sentinel_;
        last->next_ = &sentinel_;
    }

    WaitNode sentinel_;
};

// Where a future reports an exception nobody can handle (stderr by
// default): one never retrieved, or one escaping a done callback.
inline std::function<void(const std::string&)>& exception_reporter() {
    static std::function<void(const std::string&)> reporter = [](const std::string& message) {
        std::cerr << message << '\n';
    };
    return reporter;
}

inline void report_exception(const std::string& context, const std::exception_ptr& error) noexcept {
    std::string what = "an exception not derived from std::exception";
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        what = e.what();
    } catch (...) {
    }
    try {
        exception_reporter()(context + what);
    } catch (...) {  // from noexcept callers: a reporter that fails has nowhere to report to
    }
}

// The untyped part: state, callbacks and waiting coroutines.
class FutureBase {
public:
    FutureBase() = default;
    FutureBase(const FutureBase&) = delete;
    FutureBase& operator=(const FutureBase&) = delete;
    virtual ~FutureBase() = default;

    [[nodiscard]] bool done() const noexcept { return state_ != State::pending; }

    // Runs `callback` when the future completes, or right now if it has.
    // What it throws is reported, not propagated (see complete()).
    void on_done(std::function<void()> callback) {
        if (done()) {
            run_callback(callback);
            return;
        }
        callbacks_.push_back(std::move(callback));
    }

    // Called by an awaiter's await_suspend: resume `node.coroutine` on completion.
    void wait(WaitNode& node) noexcept { waiting_.push_back(node); }

protected:
    enum class State { pending, value, exception };

    void check_pending() const {
        if (done()) {
            throw std::logic_error("future already done: a future completes only once");
        }
    }

    // Marks the future done, runs the callbacks, then resumes the waiting
    // coroutines, inline, each in the order it was added. Both lists are
    // moved out first: a callback or a resumed coroutine may add callbacks,
    // or drop the last reference to this very future, without disturbing
    // these loops, which touch only locals from here on. A callback that
    // throws is reported and skipped: the others, and the waiting
    // coroutines, still run. (A resumed coroutine throws nothing: its
    // exceptions stay in its promise.)
    void complete(State state) {
        state_ = state;
        WaitList waiting;
        waiting.take_all_from(waiting_);
        std::vector<std::function<void()>> callbacks = std::move(callbacks_);
        callbacks_.clear();
        for (auto& callback : callbacks) {
            run_callback(callback);
        }
        waiting.resume_all();
    }

    State state_ = State::pending;

private:
    static void run_callback(std::function<void()>& callback) noexcept {
        try {
            callback();
        } catch (...) {
            report_exception("exception in a future's done callback: ", std::current_exception());
        }
    }

    std::vector<std::function<void()>> callbacks_;
    WaitList waiting_;
};

// The result of a future that only says "it happened" (a socket is writable).
struct Unit {};

template <typename T>
class Future : public FutureBase {
public:
    Future() = default;
    ~Future() override {
        if (state_ == State::exception && !retrieved_) {
            report_exception("future exception was never retrieved: ", std::get<std::exception_ptr>(outcome_));
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

    // `co_await future` (the future outlives the wait: the caller keeps it).
    // Ready at once if done; otherwise resumed, inline, by set_result or
    // set_exception. The node is unlinked if the frame is destroyed first.
    class Awaiter {
    public:
        explicit Awaiter(Future& future) : future_(future) {}
        bool await_ready() const noexcept { return future_.done(); }
        void await_suspend(std::coroutine_handle<> awaiting) noexcept {
            node_.coroutine = awaiting;
            future_.wait(node_);
        }
        const T& await_resume() const { return future_.result(); }

    private:
        Future& future_;
        WaitNode node_;
    };
    Awaiter operator co_await() noexcept { return Awaiter{*this}; }

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
