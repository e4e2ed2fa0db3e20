// task.hpp: ch06::Task<T>, create_task and run_until_complete.
//
// A task runs a root Coro<T> on the loop and is a Future<T> for its outcome.
// The loop owns every task until it finishes (EventLoop::adopt), so nothing
// needs to hold a task for it to run. Its frame lives until it completes, or
// until the loop itself is destroyed: the loop first empties its ready queue,
// then destroys the frame, whose awaiters unregister what they registered
// (a future's waiting list, a timer, a socket's slot).
//
// As in asyncio, create_task does not run the coroutine: it schedules its
// first step, which runs in the loop's next iteration; and
// run_until_complete throws if stop() ends the loop before the task is done.
#pragma once

#include <memory>
#include <stdexcept>
#include <utility>

#include "chapters/06_timers/coro.hpp"
#include "chapters/06_timers/event_loop.hpp"
#include "chapters/06_timers/future.hpp"

namespace ch06 {

template <typename T>
class Task final : public Future<T>, public TaskBase, private RootObserver {
public:
    Task(EventLoop& loop, Coro<T> coroutine) : Future<T>(loop), coroutine_(std::move(coroutine)) {
        coroutine_.handle().promise().root = this;
    }

    void start() { this->loop().resume_soon(coroutine_.handle()); }

private:
    void destroy_frame() noexcept override { coroutine_.reset(); }

    // Called from the root's final suspend point: the frame is suspended and
    // stays alive until the loop releases this task.
    void root_finished() noexcept override {
        auto& promise = coroutine_.handle().promise();
        if (promise.exception) {
            this->set_exception(promise.exception);
        } else if constexpr (std::is_void_v<T>) {
            this->set_result(Unit{});
        } else {
            this->set_result(std::move(*promise.value));
        }
        this->loop().finished(this);
    }

    Coro<T> coroutine_;
};

template <typename T>
std::shared_ptr<Task<T>> create_task(EventLoop& loop, Coro<T> coroutine) {
    auto task = std::make_shared<Task<T>>(loop, std::move(coroutine));
    loop.adopt(task);
    task->start();
    return task;
}

// Runs the loop until `coroutine` finishes; returns its value or rethrows.
// If stop() ends the loop first, throws std::runtime_error (asyncio's
// RuntimeError): the task is still the loop's, and a later run goes on with it.
template <typename T>
T run_until_complete(EventLoop& loop, Coro<T> coroutine) {
    const std::shared_ptr<Task<T>> task = create_task(loop, std::move(coroutine));
    if (!loop.run_until([&task] { return task->done(); })) {
        throw std::runtime_error("event loop stopped before the task completed");
    }
    if constexpr (std::is_void_v<T>) {
        task->result();
    } else {
        return task->result();
    }
}

}  // namespace ch06
