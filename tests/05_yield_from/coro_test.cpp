#include "chapters/05_yield_from/coro.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "chapters/05_yield_from/frame_pool.hpp"
#include "chapters/05_yield_from/future.hpp"
#include "chapters/05_yield_from/io.hpp"

namespace {

using ch05::Coro;
using ch05::Io;

struct Tracked {
    static inline int alive = 0;
    Tracked() { ++alive; }
    Tracked(const Tracked&) { ++alive; }
    ~Tracked() { --alive; }
};

TEST(Coro, DoesNotRunUntilAwaited) {
    bool ran = false;
    auto body = [](bool* flag) -> Coro<> {
        *flag = true;
        co_return;
    };
    {
        Coro<> c = body(&ran);
        EXPECT_FALSE(ran);
    }
    EXPECT_FALSE(ran);
}

Coro<int> forty() { co_return 40; }
Coro<int> plus_two() { co_return co_await forty() + 2; }

TEST(Coro, AwaitingASubCoroutineGivesItsValue) {
    Io io;
    EXPECT_EQ(ch05::run_until_complete(io, plus_two()), 42);
}

Coro<> append(std::vector<std::string>* log, std::string what) {
    log->push_back(what);
    co_return;
}
Coro<> sequence(std::vector<std::string>* log) {
    co_await append(log, "one");
    co_await append(log, "two");
}

TEST(Coro, VoidCoroutinesRunInTheOrderTheyAreAwaited) {
    Io io;
    std::vector<std::string> log;
    ch05::run_until_complete(io, sequence(&log));
    EXPECT_EQ(log, (std::vector<std::string>{"one", "two"}));
}

Coro<int> thrower() {
    throw std::runtime_error("deep down");
    co_return 0;
}
Coro<int> middle() { co_return co_await thrower() + 1; }
Coro<int> top() { co_return co_await middle() + 1; }
Coro<int> catcher() {
    try {
        co_return co_await top();
    } catch (const std::runtime_error&) {
        co_return -1;
    }
}

TEST(Coro, AnExceptionTravelsUpThreeLevelsToTheFirstCatcher) {
    Io io;
    EXPECT_EQ(ch05::run_until_complete(io, catcher()), -1);
    EXPECT_THROW(ch05::run_until_complete(io, top()), std::runtime_error);
}

Coro<> throws_int() {
    throw 42;
    co_return;
}
Coro<> passes_it_on() { co_await throws_int(); }

TEST(Coro, AnExceptionNotDerivedFromStdExceptionTravelsToo) {
    Io io;
    try {
        ch05::run_until_complete(io, passes_it_on());
        FAIL();
    } catch (int value) {
        EXPECT_EQ(value, 42);
    }
}

Coro<int> holds(Tracked t) {
    const Tracked local;
    (void)t;
    co_return 1;
}

TEST(Coro, FramesAndTheirLocalsAreDestroyedExactlyOnce) {
    Tracked::alive = 0;
    {
        Io io;
        for (int i = 0; i < 100; ++i) {
            EXPECT_EQ(ch05::run_until_complete(io, holds(Tracked{})), 1);
        }
    }
    EXPECT_EQ(Tracked::alive, 0);
}

TEST(Coro, HeapFramesBehaveTheSame) {
    auto heap_value = []() -> ch05::HeapCoro<int> { co_return 7; };
    auto awaits_it = [](ch05::HeapCoro<int> inner) -> Coro<int> { co_return co_await std::move(inner) * 6; };
    Io io;
    EXPECT_EQ(ch05::run_until_complete(io, awaits_it(heap_value())), 42);
}

TEST(FramePool, RecyclesABlockOfTheSameSizeClass) {
    ch05::FramePool pool;
    void* a = pool.allocate(200);
    pool.deallocate(a, 200);
    void* b = pool.allocate(230);  // same 64-byte class: (192, 256]
    EXPECT_EQ(a, b);
    pool.deallocate(b, 230);
    pool.release_all();  // a pool's blocks go back only when asked (or at thread exit, for local())
}

Coro<int> waits_for(std::shared_ptr<ch05::Future<int>> future) { co_return co_await *future + 1; }

TEST(AwaitFuture, APendingFutureResumesTheCoroutineWhenItCompletes) {
    Io io;
    auto future = std::make_shared<ch05::Future<int>>();
    auto task = io.spawn(waits_for(future));
    EXPECT_FALSE(task->done());
    future->set_result(41);  // resumes the coroutine inline
    ASSERT_TRUE(task->done());
    EXPECT_EQ(task->result(), 42);
}

TEST(AwaitFuture, ADoneFutureDoesNotSuspend) {
    Io io;
    auto future = std::make_shared<ch05::Future<int>>();
    future->set_result(1);
    auto task = io.spawn(waits_for(future));
    ASSERT_TRUE(task->done());
    EXPECT_EQ(task->result(), 2);
}

TEST(AwaitFuture, ItsExceptionIsThrownAtTheAwait) {
    Io io;
    auto future = std::make_shared<ch05::Future<int>>();
    auto task = io.spawn(waits_for(future));
    future->set_exception(std::make_exception_ptr(std::runtime_error("reset")));
    EXPECT_THROW((void)task->result(), std::runtime_error);
}

Coro<> holds_until(std::shared_ptr<ch05::Future<int>> future, Tracked keep) {
    (void)keep;
    co_await *future;
}

// PITFALLS 3: a frame destroyed while it waits must leave the future's
// waiting list. The future outlives the Io that ran the task; completing it
// afterwards must resume nobody (before the waiting list, this resumed a
// freed frame: AddressSanitizer reports it, and a plain build may crash).
TEST(AwaitFuture, AFrameDestroyedWhileWaitingIsNotResumedWhenTheFutureCompletes) {
    Tracked::alive = 0;
    auto outlives = std::make_shared<ch05::Future<int>>();
    Io io;
    auto survivor = io.spawn(waits_for(outlives));  // waits first, and stays alive
    {
        Io doomed;
        doomed.spawn(holds_until(outlives, Tracked{}));  // waits second; its frame dies with `doomed`
        EXPECT_EQ(Tracked::alive, 1);
    }
    EXPECT_EQ(Tracked::alive, 0);
    outlives->set_result(1);  // resumes the survivor only
    ASSERT_TRUE(survivor->done());
    EXPECT_EQ(survivor->result(), 2);
}

// Collects what futures report, for one test.
class CapturedReports {
public:
    CapturedReports() : previous_(ch05::exception_reporter()) {
        ch05::exception_reporter() = [this](const std::string& message) { reports.push_back(message); };
    }
    ~CapturedReports() { ch05::exception_reporter() = previous_; }
    CapturedReports(const CapturedReports&) = delete;
    CapturedReports& operator=(const CapturedReports&) = delete;

    [[nodiscard]] bool contains(const std::string& fragment) const {
        for (const std::string& report : reports) {
            if (report.find(fragment) != std::string::npos) {
                return true;
            }
        }
        return false;
    }
    std::vector<std::string> reports;

private:
    std::function<void(const std::string&)> previous_;
};

// Before: the first exception left set_result(), and the callbacks after it
// and the waiting coroutine were dropped with the local lists.
TEST(FutureCallbacks, OneThatThrowsIsReportedAndTheOthersAndTheWaitersStillRun) {
    const CapturedReports captured;
    Io io;
    auto future = std::make_shared<ch05::Future<int>>();
    auto waiter = io.spawn(waits_for(future));
    std::vector<std::string> ran;
    future->add_done_callback([&](ch05::Future<int>&) {
        ran.emplace_back("first");
        throw std::runtime_error("callback failed");
    });
    future->add_done_callback([&](ch05::Future<int>&) {
        ran.emplace_back("second");
        throw 42;
    });
    future->add_done_callback([&](ch05::Future<int>&) { ran.emplace_back("third"); });
    EXPECT_NO_THROW(future->set_result(41));
    EXPECT_EQ(ran, (std::vector<std::string>{"first", "second", "third"}));
    ASSERT_TRUE(waiter->done());
    EXPECT_EQ(waiter->result(), 42);
    EXPECT_EQ(captured.reports.size(), 2u);
    EXPECT_TRUE(captured.contains("callback failed"));
    EXPECT_TRUE(captured.contains("not derived from std::exception"));
}

Coro<int> awaits_task(std::shared_ptr<ch05::Task<int>> task) { co_return co_await *task + 1; }

// A task completes its future from its final suspend point, which is
// noexcept: before, a throwing callback there called std::terminate.
TEST(FutureCallbacks, OneThatThrowsWhenATaskFinishesIsReportedAndTheTasksAwaitersResume) {
    const CapturedReports captured;
    Io io;
    auto future = std::make_shared<ch05::Future<int>>();
    auto task = io.spawn(waits_for(future));
    auto awaiter = io.spawn(awaits_task(task));
    task->add_done_callback([](ch05::Future<int>&) { throw std::runtime_error("from a task's callback"); });
    future->set_result(1);  // resumes the task, which finishes, inline
    ASSERT_TRUE(awaiter->done());
    EXPECT_EQ(awaiter->result(), 3);
    EXPECT_EQ(captured.reports.size(), 1u);
    EXPECT_TRUE(captured.contains("from a task's callback"));
}

TEST(FutureCallbacks, OneAddedToADoneFutureThatThrowsIsReportedToo) {
    const CapturedReports captured;
    auto future = std::make_shared<ch05::Future<int>>();
    future->set_result(1);
    EXPECT_NO_THROW(future->add_done_callback([](ch05::Future<int>&) { throw std::runtime_error("late"); }));
    EXPECT_TRUE(captured.contains("late"));
}

TEST(Io, DestroyingItDestroysTheFramesOfUnfinishedTasks) {
    Tracked::alive = 0;
    {
        Io io;
        auto never = std::make_shared<ch05::Future<int>>();
        io.spawn(holds_until(never, Tracked{}));
        EXPECT_EQ(Tracked::alive, 1);
        EXPECT_EQ(io.pending_tasks(), 1u);
    }
    EXPECT_EQ(Tracked::alive, 0);
}

}  // namespace
