// The loop's rules, one test each, on fake time: no test waits for real.
#include "chapters/06_timers/event_loop.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "chapters/06_timers/task.hpp"

namespace {

using namespace std::chrono_literals;
using ch06::Coro;
using ch06::EventLoop;
using ch06::FakeClock;

struct FakeLoop {
    std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
    EventLoop loop{ch06::LoopOptions{.selector = ch06::SelectorKind::best, .clock = clock}};
    std::vector<std::string> reports;
    FakeLoop() {
        loop.set_exception_handler([this](std::string_view m) { reports.emplace_back(m); });
    }
    // Runs until nothing is ready or scheduled.
    void drain() {
        while (loop.ready_count() > 0 || loop.timer_count() > 0) {
            loop.run_once();
        }
    }
};

TEST(CallSoon, RunsCallbacksInFifoOrder) {
    FakeLoop f;
    std::vector<int> order;
    for (int i = 0; i < 5; ++i) {
        f.loop.call_soon([&order, i] { order.push_back(i); });
    }
    f.loop.run_once();
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(CallSoon, CallbacksScheduledWhileRunningWaitForTheNextIteration) {
    FakeLoop f;
    std::vector<std::string> order;
    f.loop.call_soon([&] {
        order.push_back("first");
        f.loop.call_soon([&] { order.push_back("scheduled by first"); });
    });
    f.loop.call_soon([&] { order.push_back("second"); });
    f.loop.run_once();
    EXPECT_EQ(order, (std::vector<std::string>{"first", "second"}));
    f.loop.run_once();
    EXPECT_EQ(order.back(), "scheduled by first");
}

TEST(CallLater, RunsInDeadlineOrderOnFakeTime) {
    FakeLoop f;
    std::vector<int> order;
    const auto start = f.loop.time();
    f.loop.call_later(30ms, [&] { order.push_back(30); });
    f.loop.call_later(10ms, [&] { order.push_back(10); });
    f.loop.call_later(20ms, [&] { order.push_back(20); });
    f.drain();
    EXPECT_EQ(order, (std::vector<int>{10, 20, 30}));
    EXPECT_EQ(f.loop.time() - start, 30ms);  // the fake clock jumped; nothing waited
}

TEST(CallLater, EqualDeadlinesRunInTheOrderTheyWereScheduled) {
    FakeLoop f;
    std::vector<int> order;
    const auto when = f.loop.time() + 5ms;
    for (int i = 0; i < 50; ++i) {
        f.loop.call_at(when, [&order, i] { order.push_back(i); });
    }
    f.drain();
    ASSERT_EQ(order.size(), 50u);
    for (int i = 0; i < 50; ++i) {
        EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
    }
}

TEST(CallLater, ATimerDueNowRunsAfterCallbacksAlreadyReady) {
    FakeLoop f;
    std::vector<std::string> order;
    f.loop.call_later(0ms, [&] { order.push_back("timer"); });
    f.loop.call_soon([&] { order.push_back("soon"); });
    f.drain();
    EXPECT_EQ(order, (std::vector<std::string>{"soon", "timer"}));
}

TEST(Handle, CancelBeforeTheDeadlinePreventsTheCall) {
    FakeLoop f;
    bool ran = false;
    ch06::Handle h = f.loop.call_later(10ms, [&] { ran = true; });
    f.loop.call_later(20ms, [] {});
    h.cancel();
    EXPECT_TRUE(h.cancelled());
    f.drain();
    EXPECT_FALSE(ran);
}

TEST(Handle, CancelAfterFiringIsANoOp) {
    FakeLoop f;
    int runs = 0;
    ch06::Handle h = f.loop.call_later(1ms, [&] { ++runs; });
    f.drain();
    h.cancel();
    EXPECT_EQ(runs, 1);
    EXPECT_TRUE(h.fired());
    EXPECT_FALSE(h.cancelled());
}

TEST(Handle, CancellingACallSoonPreventsIt) {
    FakeLoop f;
    bool ran = false;
    f.loop.call_soon([&] { ran = true; }).cancel();
    f.loop.run_once();
    EXPECT_FALSE(ran);
}

TEST(Handle, CancellingReleasesTheCallbackAtOnce) {
    FakeLoop f;
    auto captured = std::make_shared<int>(1);
    ch06::Handle h = f.loop.call_later(1h, [captured] {});
    EXPECT_EQ(captured.use_count(), 2);
    h.cancel();
    EXPECT_EQ(captured.use_count(), 1);
}

TEST(TimerHeap, AMillionScheduleCancelPairsKeepTheHeapBounded) {
    FakeLoop f;
    std::size_t largest = 0;
    for (int i = 0; i < 1'000'000; ++i) {
        f.loop.call_later(1h, [] {}).cancel();
        largest = std::max(largest, f.loop.timer_count());
    }
    // Cancelled entries are compacted away once they are more than half of
    // the heap (and at least 100): the heap never holds more than that.
    EXPECT_LE(largest, 2 * ch06::TimerHeap::min_cancelled_to_compact);
    // A live timer among cancelled ones survives every compaction.
    bool ran = false;
    f.loop.call_later(1ms, [&] { ran = true; });
    for (int i = 0; i < 1000; ++i) {
        f.loop.call_later(1h, [] {}).cancel();
    }
    f.drain();
    EXPECT_TRUE(ran);
}

TEST(Timeout, IsZeroWhenCallbacksAreReady) {
    FakeLoop f;
    f.loop.call_later(1s, [] {});
    f.loop.call_soon([] {});
    EXPECT_EQ(f.loop.next_timeout(), ch06::Duration::zero());
}

TEST(Timeout, IsTheTimeToTheNearestDeadline) {
    FakeLoop f;
    f.loop.call_later(50ms, [] {});
    f.loop.call_later(20ms, [] {});
    EXPECT_EQ(f.loop.next_timeout(), ch06::Duration(20ms));
}

TEST(Timeout, IgnoresCancelledTimers) {
    FakeLoop f;
    f.loop.call_later(5ms, [] {}).cancel();
    f.loop.call_later(40ms, [] {});
    EXPECT_EQ(f.loop.next_timeout(), ch06::Duration(40ms));
}

TEST(Timeout, BlocksWhenNothingIsScheduled) {
    FakeLoop f;
    EXPECT_FALSE(f.loop.next_timeout().has_value());
}

TEST(Exceptions, AnExceptionInACallbackIsReportedAndTheLoopGoesOn) {
    FakeLoop f;
    bool later_ran = false;
    f.loop.call_soon([] { throw std::runtime_error("boom"); });
    f.loop.call_soon([] { throw 42; });
    f.loop.call_soon([&] { later_ran = true; });
    f.loop.run_once();
    EXPECT_TRUE(later_ran);
    ASSERT_EQ(f.reports.size(), 2u);
    EXPECT_NE(f.reports[0].find("boom"), std::string::npos);
    EXPECT_NE(f.reports[1].find("not derived from std::exception"), std::string::npos);
}

Coro<int> answer(EventLoop* loop) {
    co_await loop->sleep(5ms);
    co_return 42;
}

TEST(RunUntilComplete, ReturnsTheValue) {
    FakeLoop f;
    EXPECT_EQ(ch06::run_until_complete(f.loop, answer(&f.loop)), 42);
}

Coro<int> fails(EventLoop* loop) {
    co_await loop->sleep(0ms);
    throw std::runtime_error("failed inside");
}

TEST(RunUntilComplete, RethrowsTheException) {
    FakeLoop f;
    EXPECT_THROW(ch06::run_until_complete(f.loop, fails(&f.loop)), std::runtime_error);
}

TEST(CreateTask, DoesNotRunTheCoroutineUntilTheLoopRuns) {
    FakeLoop f;
    bool started = false;
    auto body = [](bool* flag) -> Coro<> {
        *flag = true;
        co_return;
    };
    auto task = ch06::create_task(f.loop, body(&started));
    EXPECT_FALSE(started);
    f.loop.run_once();
    EXPECT_TRUE(started);
    EXPECT_TRUE(task->done());
}

TEST(Stop, EndsRunForeverAfterTheCurrentIteration) {
    FakeLoop f;
    std::vector<std::string> order;
    f.loop.call_soon([&] {
        order.push_back("stop");
        f.loop.stop();
    });
    f.loop.call_soon([&] { order.push_back("same iteration"); });
    f.loop.call_later(1h, [&] { order.push_back("never"); });
    f.loop.run_forever();
    EXPECT_EQ(order, (std::vector<std::string>{"stop", "same iteration"}));
}

Coro<> ping(EventLoop* loop, std::string name, std::vector<std::string>* log) {
    for (int i = 0; i < 3; ++i) {
        log->push_back(name);
        co_await loop->sleep(0ms);
    }
}

TEST(Sleep, SleepZeroLetsTheOthersRun) {
    FakeLoop f;
    std::vector<std::string> log;
    ch06::create_task(f.loop, ping(&f.loop, "a", &log));
    ch06::create_task(f.loop, ping(&f.loop, "b", &log));
    f.drain();
    EXPECT_EQ(log, (std::vector<std::string>{"a", "b", "a", "b", "a", "b"}));
}

Coro<> nap(EventLoop* loop, ch06::Duration d, std::vector<int>* woke, int id) {
    co_await loop->sleep(d);
    woke->push_back(id);
}

TEST(Sleep, TasksSleepingConcurrentlyTakeTheLongestNotTheSum) {
    FakeLoop f;
    std::vector<int> woke;
    const auto start = f.loop.time();
    ch06::create_task(f.loop, nap(&f.loop, 300ms, &woke, 3));
    ch06::create_task(f.loop, nap(&f.loop, 100ms, &woke, 1));
    ch06::create_task(f.loop, nap(&f.loop, 200ms, &woke, 2));
    f.drain();
    EXPECT_EQ(woke, (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(f.loop.time() - start, 300ms);
}

TEST(Future, CallbacksAreScheduledNotRunInline) {
    FakeLoop f;
    auto future = std::make_shared<ch06::Future<int>>(f.loop);
    int seen = 0;
    future->add_done_callback([&](ch06::Future<int>& done) { seen = done.result(); });
    future->set_result(7);
    EXPECT_EQ(seen, 0) << "set_result must not run the callback inline";
    f.loop.run_once();
    EXPECT_EQ(seen, 7);
}

TEST(Future, ACallbackAddedAfterCompletionIsScheduledToo) {
    FakeLoop f;
    auto future = std::make_shared<ch06::Future<int>>(f.loop);
    future->set_result(1);
    int seen = 0;
    future->add_done_callback([&](ch06::Future<int>& done) { seen = done.result(); });
    EXPECT_EQ(seen, 0);
    f.loop.run_once();
    EXPECT_EQ(seen, 1);
}

TEST(Future, CompletingTwiceIsAnError) {
    FakeLoop f;
    ch06::Future<int> future(f.loop);
    future.set_result(1);
    EXPECT_THROW(future.set_result(2), std::logic_error);
}

TEST(Future, AnExceptionNobodyRetrievedIsReported) {
    FakeLoop f;
    {
        ch06::Future<int> future(f.loop);
        future.set_exception(std::make_exception_ptr(std::runtime_error("lost")));
    }
    ASSERT_EQ(f.reports.size(), 1u);
    EXPECT_NE(f.reports[0].find("never retrieved: lost"), std::string::npos);
}

Coro<int> waits_for(std::shared_ptr<ch06::Future<int>> future) {
    co_return co_await *future;
}

TEST(Future, ACoroutineAwaitingItResumesThroughTheLoop) {
    FakeLoop f;
    auto future = std::make_shared<ch06::Future<int>>(f.loop);
    auto task = ch06::create_task(f.loop, waits_for(future));
    f.loop.run_once();
    EXPECT_FALSE(task->done());
    f.loop.call_later(10ms, [future] { future->set_result(9); });
    f.drain();
    ASSERT_TRUE(task->done());
    EXPECT_EQ(task->result(), 9);
}

TEST(Loop, UsesEpollByDefaultAndSelectWhenAsked) {
    EXPECT_STREQ(EventLoop().selector_name(), "epoll");
    EXPECT_STREQ(EventLoop(ch06::LoopOptions{.selector = ch06::SelectorKind::select, .clock = nullptr}).selector_name(),
                 "select");
}

TEST(Loop, DestroyingTheLoopDestroysUnfinishedTasks) {
    auto witness = std::make_shared<int>(0);
    {
        FakeLoop f;
        auto holds = [](EventLoop* loop, std::shared_ptr<int> keep) -> Coro<> {
            co_await loop->sleep(1h);
            (void)keep;
        };
        ch06::create_task(f.loop, holds(&f.loop, witness));
        f.loop.run_once();  // started, now sleeping
        EXPECT_EQ(witness.use_count(), 2);
    }
    EXPECT_EQ(witness.use_count(), 1) << "the task's frame (and its parameter) was freed";
}

}  // namespace
