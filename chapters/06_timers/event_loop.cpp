#include "chapters/06_timers/event_loop.hpp"

#include <exception>
#include <iostream>
#include <string>
#include <utility>

namespace ch06 {

EventLoop::EventLoop(LoopOptions options)
    : link_(std::make_shared<LoopLink>(LoopLink{this})),
      clock_(options.clock ? std::move(options.clock) : std::make_shared<SteadyClock>()),
      selector_(make_selector(options.selector)) {}

EventLoop::~EventLoop() {
    // Order matters. Nothing may be resumed any more; then destroy the frames
    // of unfinished tasks (their awaiters cancel their timers in the heap and
    // their sockets unregister from the selector, both still here); then drop
    // the tasks (an exception nobody retrieved is still reported through this
    // loop) and the timers; last, tell the futures that outlive us.
    ready_.clear();
    for (auto& [raw, task] : tasks_) {
        task->destroy_frame();
    }
    tasks_.clear();
    timers_.clear();
    link_->loop = nullptr;
}

Handle EventLoop::call_soon(std::function<void()> callback) {
    auto state = std::make_shared<HandleState>();
    state->callback = std::move(callback);
    ready_.push({nullptr, state});
    return Handle(std::move(state));
}

Handle EventLoop::call_later(Duration delay, std::function<void()> callback) {
    return call_at(time() + delay, std::move(callback));
}

Handle EventLoop::call_at(TimePoint when, std::function<void()> callback) {
    auto state = std::make_shared<HandleState>();
    state->callback = std::move(callback);
    timers_.push(when, state);
    return Handle(std::move(state));
}

std::optional<Duration> EventLoop::next_timeout() {
    if (!ready_.empty() || stopping_) {
        return Duration::zero();
    }
    const std::optional<TimePoint> deadline = timers_.next_deadline();
    if (!deadline) {
        return std::nullopt;
    }
    return std::max(Duration::zero(), *deadline - time());
}

void EventLoop::run_once() {
    // 1. How long may we block?
    std::optional<Duration> timeout = next_timeout();
    if (clock_->is_fake() && timeout && *timeout > Duration::zero()) {
        // Fake time: look at I/O without waiting, and if nothing is ready,
        // jump to the deadline instead of sleeping until it.
        selector_->wait(std::chrono::nanoseconds::zero(), events_);
        if (events_.empty()) {
            clock_->advance_to(time() + *timeout);
        }
    } else if (watched_ > 0 || timeout != Duration::zero()) {
        // 2. Wait for I/O. (With nothing to watch and callbacks ready there
        // is nothing to ask the kernel: skipping the call makes a sleep(0)
        // round trip a few nanoseconds instead of a system call.)
        selector_->wait(timeout, events_);
    }
    for (const IoEvent& event : events_) {
        dispatch(event);
    }
    events_.clear();
    // 3. Timers that are due join the ready queue, earliest first. (Reading
    // the clock costs a system call's worth of time: only with timers.)
    if (timers_.size() > 0) {
        const TimePoint now = time();
        while (std::shared_ptr<HandleState> due = timers_.pop_due(now)) {
            ready_.push({nullptr, std::move(due)});
        }
    }
    // 4. Run what is ready now; 5. release finished tasks.
    run_ready();
    for (TaskBase* task : finished_) {
        tasks_.erase(task);
    }
    finished_.clear();
}

void EventLoop::run_ready() {
    // Only the items ready at this point: what they schedule runs next time.
    for (std::size_t n = ready_.size(); n > 0; --n) {
        ReadyQueue::Item item = ready_.pop();
        if (item.coroutine) {
            item.coroutine.resume();  // a coroutine's own exceptions stay in its promise
            continue;
        }
        HandleState& handle = *item.handle;
        if (handle.cancelled) {
            continue;
        }
        handle.fired = true;
        std::function<void()> callback = std::move(handle.callback);
        try {
            callback();
        } catch (const std::exception& e) {
            report(std::string("exception in callback: ") + e.what());
        } catch (...) {
            report("exception in callback: not derived from std::exception");
        }
    }
}

void EventLoop::dispatch(const IoEvent& event) {
    IoWatcher& watcher = *static_cast<IoWatcher*>(event.token);
    unsigned unwanted = 0;
    if ((event.events & interest_read) != 0) {
        if (watcher.reader) {
            ready_.push({std::exchange(watcher.reader, nullptr), nullptr});
        } else {
            unwanted |= interest_read & watcher.registered;
        }
    }
    if ((event.events & interest_write) != 0) {
        if (watcher.writer) {
            ready_.push({std::exchange(watcher.writer, nullptr), nullptr});
        } else {
            unwanted |= interest_write & watcher.registered;
        }
    }
    // Interest stays registered after a wait (the next wait for the same
    // thing then costs no system call). Only when the kernel reports
    // something nobody waits for do we stop watching it, so a level-
    // triggered descriptor cannot make the loop spin.
    if (unwanted != 0) {
        const unsigned keep = watcher.registered & ~unwanted;
        if (keep == 0) {
            selector_->remove(watcher.fd);
            watcher.added = false;
            --watched_;
        } else {
            selector_->modify(watcher.fd, keep, &watcher);
        }
        watcher.registered = keep;
    }
}

void EventLoop::want(IoWatcher& watcher, unsigned interest) {
    if ((watcher.registered & interest) == interest) {
        return;  // already watched: the common case costs nothing
    }
    // Recorded only once the selector has accepted it: if add() throws, the
    // next wait must try again, not believe the descriptor is watched.
    const unsigned wanted = watcher.registered | interest;
    if (watcher.added) {
        selector_->modify(watcher.fd, wanted, &watcher);
    } else {
        selector_->add(watcher.fd, wanted, &watcher);
        watcher.added = true;
        ++watched_;
    }
    watcher.registered = wanted;
}

void EventLoop::forget(IoWatcher& watcher) {
    if (watcher.added) {
        selector_->remove(watcher.fd);
        watcher.added = false;
        --watched_;
    }
    watcher.registered = 0;
    watcher.reader = nullptr;
    watcher.writer = nullptr;
}

void EventLoop::adopt(std::shared_ptr<TaskBase> task) {
    TaskBase* raw = task.get();
    tasks_.emplace(raw, std::move(task));
}

void EventLoop::report(std::string_view message) const {
    if (exception_handler_) {
        exception_handler_(message);
    } else {
        std::cerr << "event loop: " << message << '\n';
    }
}

}  // namespace ch06
