// io.hpp: ch05::Io and Task<T>: the smallest loop that runs composed coroutines.
//
// Io is chapter 02's selector plus the tasks running on it. A coroutine waits
// for a socket with `co_await io.readable(fd)`: a one-shot registration whose
// callback unregisters and resumes the coroutine (inline, from the selector's
// dispatch: this chapter still has no ready queue).
//
// Io owns every task until it finishes. When Io is destroyed, the frames of
// unfinished tasks are destroyed first (closing the sockets they hold), then
// the selector: no frame is ever resumed after it is gone.
#pragma once

#include <coroutine>
#include <memory>
#include <optional>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "chapters/02_select_callbacks/selector.hpp"
#include "chapters/05_yield_from/coro.hpp"
#include "chapters/05_yield_from/future.hpp"

namespace ch05 {

class TaskBase {
public:
    virtual ~TaskBase() = default;
    virtual void destroy_frame() noexcept = 0;
};

class Io;

// A task runs a root coroutine and is a future for its outcome.
template <typename T>
class Task final : public Future<std::conditional_t<std::is_void_v<T>, Unit, T>>,
                   public TaskBase,
                   private RootObserver {
public:
    Task(Io& io, Coro<T> coroutine) : io_(io), coroutine_(std::move(coroutine)) {
        coroutine_.handle().promise().root = this;
    }
    void start() { coroutine_.handle().resume(); }  // runs to its first suspension
    void destroy_frame() noexcept override { coroutine_.reset(); }

private:
    void root_finished() noexcept override;
    Io& io_;
    Coro<T> coroutine_;
};

class Io {
public:
    Io() = default;
    Io(const Io&) = delete;
    Io& operator=(const Io&) = delete;
    ~Io() {
        for (auto& [raw, task] : tasks_) {
            task->destroy_frame();
        }
    }

    // `co_await io.readable(fd)` / `co_await io.writable(fd)`: a one-shot
    // registration. Like a future's waiter, it lives in the waiting frame,
    // and a frame destroyed while registered unregisters (PITFALLS 3): the
    // selector never calls back into a dead frame.
    class ReadyAwaiter {
    public:
        ReadyAwaiter(Io& io, int fd, unsigned events) : io_(io), fd_(fd), events_(events) {}
        ReadyAwaiter(const ReadyAwaiter&) = delete;  // the callback points at this awaiter
        ReadyAwaiter& operator=(const ReadyAwaiter&) = delete;
        ~ReadyAwaiter() {
            if (registered_) {
                io_.selector_.unregister(fd_);
            }
        }

        bool await_ready() const noexcept { return false; }
        // May throw std::out_of_range (fd >= FD_SETSIZE): then the exception
        // is thrown from the co_await, in the coroutine.
        void await_suspend(std::coroutine_handle<> awaiting) {
            io_.selector_.register_fd(fd_, events_, [this, awaiting](int, unsigned) {
                io_.selector_.unregister(fd_);
                registered_ = false;  // before resuming: the resumed frame destroys this awaiter
                awaiting.resume();
            });
            registered_ = true;
        }
        void await_resume() const noexcept {}

    private:
        Io& io_;
        int fd_;
        unsigned events_;
        bool registered_ = false;
    };
    ReadyAwaiter readable(int fd) { return {*this, fd, ch02::event_read}; }
    ReadyAwaiter writable(int fd) { return {*this, fd, ch02::event_write}; }

    // Starts `coroutine` as a task: it runs to its first suspension now.
    template <typename T>
    std::shared_ptr<Task<T>> spawn(Coro<T> coroutine) {
        auto task = std::make_shared<Task<T>>(*this, std::move(coroutine));
        tasks_.emplace(task.get(), task);
        task->start();  // finished tasks are released by run_once, never from inside a task
        return task;
    }

    // One round: wait for sockets, resume the coroutines that can go on.
    void run_once() {
        selector_.run_once(std::nullopt);
        release_finished();
    }

    // Drops the registry's reference to every finished task. Never call it
    // from inside a task: a finished task is still on the stack in its own
    // final suspend (run_once and run_until_complete call it from outside).
    void release_finished() {
        for (TaskBase* task : finished_) {
            tasks_.erase(task);
        }
        finished_.clear();
    }

    void finished(TaskBase* task) { finished_.push_back(task); }
    [[nodiscard]] std::size_t pending_tasks() const { return tasks_.size() - finished_.size(); }
    [[nodiscard]] ch02::Selector& selector() { return selector_; }

private:
    ch02::Selector selector_;
    std::unordered_map<TaskBase*, std::shared_ptr<TaskBase>> tasks_;
    std::vector<TaskBase*> finished_;
};

template <typename T>
void Task<T>::root_finished() noexcept {
    auto& promise = coroutine_.handle().promise();
    // Released later, not here: we are inside the frame's final suspend.
    io_.finished(this);
    if (promise.exception) {
        this->set_exception(promise.exception);
    } else if constexpr (std::is_void_v<T>) {
        this->set_result(Unit{});
    } else {
        this->set_result(std::move(*promise.value));
    }
}

// Runs `coroutine` as a task until it finishes; returns its value or rethrows.
template <typename T>
T run_until_complete(Io& io, Coro<T> coroutine) {
    const auto task = io.spawn(std::move(coroutine));
    while (!task->done()) {
        io.run_once();
    }
    io.release_finished();  // a task that finished inside spawn() is released here
    if constexpr (std::is_void_v<T>) {
        task->result();
    } else {
        return task->result();
    }
}

}  // namespace ch05
