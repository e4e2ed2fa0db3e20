// event_loop.hpp: ch06::EventLoop, a loop with asyncio's rules.
//
// One iteration, run_once(), is the whole loop (asyncio's _run_once, libuv's
// uv_run), in this order:
//   1. compute how long the selector may block: zero if callbacks are ready
//      or stop() was called, until the nearest timer otherwise, without limit
//      when nothing is scheduled;
//   2. wait for I/O; each ready descriptor makes its waiting coroutine ready;
//   3. move every timer that is due to the ready queue, in (deadline,
//      sequence) order;
//   4. run the callbacks that are ready *now*: the ones scheduled while this
//      step runs wait for the next iteration (so a callback that schedules
//      itself cannot starve I/O);
//   5. release the tasks that finished.
//
// Rules, each tested by name in tests/06_timers:
//   - call_soon runs callbacks in FIFO order;
//   - call_later / call_at run in deadline order, equal deadlines in
//     scheduling order; Handle::cancel before the deadline prevents the call;
//   - an exception escaping a callback is reported to the exception handler
//     and the loop goes on;
//   - future callbacks are scheduled with call_soon, never run inline.
#pragma once

#include <coroutine>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chapters/06_timers/clock.hpp"
#include "chapters/06_timers/handle.hpp"
#include "chapters/06_timers/selector.hpp"
#include "chapters/06_timers/timer_heap.hpp"

namespace ch06 {

// A FIFO of things to run: a coroutine to resume (the allocation-free path
// that sleep(0), I/O and futures use) or a Handle's callback. A ring buffer:
// no allocation per item once it has grown to the working size.
class ReadyQueue {
public:
    struct Item {
        std::coroutine_handle<> coroutine;
        std::shared_ptr<HandleState> handle;
    };

    void push(Item item) {
        if (size_ == items_.size()) {
            grow();
        }
        items_[(head_ + size_) & (items_.size() - 1)] = std::move(item);
        ++size_;
    }
    Item pop() {
        Item item = std::move(items_[head_]);
        head_ = (head_ + 1) & (items_.size() - 1);
        --size_;
        return item;
    }
    [[nodiscard]] std::size_t size() const { return size_; }
    [[nodiscard]] bool empty() const { return size_ == 0; }
    void clear() {
        while (!empty()) {
            pop();
        }
    }

private:
    void grow() {
        std::vector<Item> bigger(items_.empty() ? 64 : items_.size() * 2);
        for (std::size_t i = 0; i < size_; ++i) {
            bigger[i] = std::move(items_[(head_ + i) & (items_.size() - 1)]);
        }
        items_ = std::move(bigger);
        head_ = 0;
    }

    std::vector<Item> items_;  // capacity is a power of two
    std::size_t head_ = 0;
    std::size_t size_ = 0;
};

// What the loop knows of a task: enough to release it when it finishes and
// to destroy its frame if the loop is destroyed first.
class TaskBase {
public:
    virtual ~TaskBase() = default;
    virtual void destroy_frame() noexcept = 0;
};

// A descriptor's registration: who waits to read, who waits to write. Owned
// by an AsyncSocket (socket.hpp), which unregisters it before closing.
struct IoWatcher {
    int fd = -1;
    std::coroutine_handle<> reader;
    std::coroutine_handle<> writer;
    unsigned registered = 0;  // the interest the selector has now
    bool added = false;
};

struct LoopOptions {
    SelectorKind selector = SelectorKind::best;
    std::shared_ptr<TimeSource> clock;  // default: SteadyClock
};

class EventLoop {
public:
    explicit EventLoop(LoopOptions options = {});
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // --- scheduling plain functions ---
    Handle call_soon(std::function<void()> callback);
    Handle call_later(Duration delay, std::function<void()> callback);
    Handle call_at(TimePoint when, std::function<void()> callback);
    // Resumes `coroutine` in a later step of the loop. No allocation.
    void resume_soon(std::coroutine_handle<> coroutine) { ready_.push({coroutine, nullptr}); }
    [[nodiscard]] TimePoint time() const { return clock_->now(); }

    // --- running ---
    void run_once();
    void run_forever();  // until stop()
    void stop() { stopping_ = true; }

    // --- awaitable sleep: `co_await loop.sleep(10ms)`; sleep(0) yields to the others ---
    struct SleepAwaiter {
        EventLoop& loop;
        Duration delay;
        bool await_ready() const noexcept { return delay < Duration::zero(); }
        void await_suspend(std::coroutine_handle<> coroutine) {
            if (delay == Duration::zero()) {
                loop.resume_soon(coroutine);  // one trip through the ready queue
            } else {
                loop.call_later(delay, [coroutine] { coroutine.resume(); });
            }
        }
        void await_resume() const noexcept {}
    };
    SleepAwaiter sleep(Duration delay) { return SleepAwaiter{*this, delay}; }

    // --- tasks (see task.hpp for create_task / run_until_complete) ---
    void adopt(std::shared_ptr<TaskBase> task);
    void finished(TaskBase* task) { finished_.push_back(task); }
    [[nodiscard]] std::size_t live_tasks() const { return tasks_.size(); }

    // --- I/O, for AsyncSocket ---
    void want(IoWatcher& watcher, unsigned interest);  // make sure the selector watches `interest`
    void forget(IoWatcher& watcher);                   // before the descriptor closes

    // --- errors ---
    using ExceptionHandler = std::function<void(std::string_view message)>;
    void set_exception_handler(ExceptionHandler handler) { exception_handler_ = std::move(handler); }
    void report(std::string_view message) const;

    // --- inspection, for tests ---
    // The timeout step 1 would use now: nullopt means "block".
    [[nodiscard]] std::optional<Duration> next_timeout();
    [[nodiscard]] std::size_t ready_count() const { return ready_.size(); }
    [[nodiscard]] std::size_t timer_count() const { return timers_.size(); }
    [[nodiscard]] const char* selector_name() const { return selector_->name(); }
    [[nodiscard]] std::size_t watched_descriptors() const { return watched_; }

private:
    void dispatch(const IoEvent& event);
    void run_ready();

    std::shared_ptr<TimeSource> clock_;
    std::unique_ptr<Selector> selector_;
    ReadyQueue ready_;
    TimerHeap timers_;
    std::vector<IoEvent> events_;
    std::unordered_map<TaskBase*, std::shared_ptr<TaskBase>> tasks_;
    std::vector<TaskBase*> finished_;
    ExceptionHandler exception_handler_;
    std::size_t watched_ = 0;
    bool stopping_ = false;
};

}  // namespace ch06
