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
//   - future callbacks are scheduled with call_soon, never run inline;
//   - stop() ends run_forever / run_until_complete after the current
//     iteration (one iteration if called before), and the request is
//     cleared when they return.
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

private:
    friend class EventLoop;
    // Only the loop may destroy a task's frame, and only once nothing can
    // resume it any more (~EventLoop).
    virtual void destroy_frame() noexcept = 0;
};

class EventLoop;

// What a future keeps of its loop. The loop clears it when it is destroyed:
// a future that outlives its loop (a task whose shared_ptr the caller kept)
// then knows the loop is gone instead of calling into freed memory.
struct LoopLink {
    EventLoop* loop;
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
    // Runs iterations until stop() is called.
    void run_forever() {
        run_until([] { return false; });
    }
    // Runs iterations until `done()` holds or stop() is called; at least one,
    // so a stop() requested before the call still lets one iteration run, as
    // in asyncio. The request is cleared on return (also by an exception):
    // a stale one would make every later wait non-blocking. Returns done().
    template <typename Done>
    bool run_until(Done done);
    // Ends run_forever / run_until after the iteration that is running.
    void stop() { stopping_ = true; }

    // --- awaitable sleep: `co_await loop.sleep(10ms)` ---
    // Any delay <= 0 yields to the others: one trip through the ready queue,
    // no timer, no allocation. A longer one is a timer, cancelled if the
    // sleeping frame is destroyed first (PITFALLS 3), so it never resumes a
    // freed frame.
    class SleepAwaiter {
    public:
        SleepAwaiter(EventLoop& loop, Duration delay) noexcept : loop_(loop), delay_(delay) {}
        SleepAwaiter(const SleepAwaiter&) = delete;  // the timer belongs to this wait
        SleepAwaiter& operator=(const SleepAwaiter&) = delete;
        ~SleepAwaiter() { timer_.cancel(); }  // a no-op once fired, or with no timer

        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> coroutine) {
            if (delay_ <= Duration::zero()) {
                loop_.resume_soon(coroutine);
            } else {
                timer_ = loop_.call_later(delay_, [coroutine] { coroutine.resume(); });
            }
        }
        void await_resume() const noexcept {}

    private:
        EventLoop& loop_;
        Duration delay_;
        Handle timer_;
    };
    SleepAwaiter sleep(Duration delay) { return {*this, delay}; }

    // --- tasks (see task.hpp for create_task / run_until_complete) ---
    void adopt(std::shared_ptr<TaskBase> task);
    void finished(TaskBase* task) { finished_.push_back(task); }
    [[nodiscard]] std::size_t live_tasks() const { return tasks_.size(); }

    // --- I/O, for AsyncSocket ---
    // Makes sure the selector watches `interest`. If the selector refuses
    // (select() and a descriptor >= FD_SETSIZE), it throws and records nothing.
    void want(IoWatcher& watcher, unsigned interest);
    void forget(IoWatcher& watcher);  // before the descriptor closes
    [[nodiscard]] bool can_watch(int fd) const { return selector_->can_watch(fd); }

    // --- for futures (future.hpp) ---
    [[nodiscard]] std::shared_ptr<const LoopLink> link() const { return link_; }

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

    std::shared_ptr<LoopLink> link_;
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

template <typename Done>
bool EventLoop::run_until(Done done) {
    struct ClearStopRequest {
        bool& stopping;
        ~ClearStopRequest() { stopping = false; }
    } const clear{stopping_};
    do {
        run_once();
    } while (!stopping_ && !done());
    return done();
}

}  // namespace ch06
