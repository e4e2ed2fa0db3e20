// handle.hpp: Handle, what call_soon / call_later return.
//
// A handle is shared between the loop (which will run the callback) and the
// caller (who may cancel it). Cancelling drops the callback at once, so
// whatever it captured is released, and marks it so the loop skips it. The
// loop removes cancelled timers from its heap lazily (timer_heap.hpp).
#pragma once

#include <functional>
#include <memory>

namespace ch06 {

class TimerHeap;

struct HandleState {
    std::function<void()> callback;
    bool cancelled = false;
    bool fired = false;
    TimerHeap* heap = nullptr;  // set while the handle waits in a timer heap
};

class Handle {
public:
    Handle() = default;
    explicit Handle(std::shared_ptr<HandleState> state) : state_(std::move(state)) {}

    // Before the callback has run: it never will. After: nothing happens.
    // (Inline up to the first test: an awaiter that never scheduled a timer
    // cancels an empty handle on every await, and that must cost nothing.)
    void cancel() noexcept {
        if (state_ && !state_->cancelled && !state_->fired) {
            cancel_pending();
        }
    }
    [[nodiscard]] bool cancelled() const { return state_ && state_->cancelled; }
    [[nodiscard]] bool fired() const { return state_ && state_->fired; }

private:
    void cancel_pending() noexcept;
    std::shared_ptr<HandleState> state_;
};

}  // namespace ch06
