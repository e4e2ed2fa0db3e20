// The loop's rules, one test each, on fake time: no test waits for real.
#include "chapters/06_timers/event_loop.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "chapters/06_timers/socket.hpp"
#include "chapters/06_timers/task.hpp"
#include "common/fd.hpp"
#include "common/net.hpp"

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

// What asyncio's run_until_complete raises, as a std::runtime_error.
void expect_stopped_early(const std::function<void()>& run) {
    try {
        run();
        ADD_FAILURE() << "run_until_complete returned";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "event loop stopped before the task completed");
    }
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

TEST(Stop, CalledBeforeRunForeverLetsExactlyOneIterationRun) {
    FakeLoop f;
    std::vector<std::string> order;
    f.loop.stop();
    f.loop.call_soon([&] {
        order.push_back("first iteration");
        f.loop.call_soon([&] { order.push_back("second iteration"); });
    });
    f.loop.run_forever();
    EXPECT_EQ(order, (std::vector<std::string>{"first iteration"}));
    f.loop.run_once();
    EXPECT_EQ(order.back(), "second iteration");
}

TEST(Stop, TheRequestEndsOnlyTheRunItStopped) {
    FakeLoop f;
    f.loop.call_soon([&] { f.loop.stop(); });
    f.loop.run_forever();
    // A request left behind would make every later wait non-blocking: the
    // loop would spin on a real clock and never move a fake one.
    f.loop.call_later(10ms, [] {});
    EXPECT_EQ(f.loop.next_timeout(), ch06::Duration(10ms));
}

Coro<int> stops_then_sleeps(EventLoop* loop, bool* finished) {
    loop->stop();
    co_await loop->sleep(10ms);
    *finished = true;
    co_return 1;
}

TEST(Stop, RunUntilCompleteThrowsWhenStoppedBeforeTheTaskIsDoneAndTheTaskGoesOnLater) {
    FakeLoop f;
    bool finished = false;
    expect_stopped_early([&] { ch06::run_until_complete(f.loop, stops_then_sleeps(&f.loop, &finished)); });
    EXPECT_FALSE(finished);
    EXPECT_EQ(f.loop.next_timeout(), ch06::Duration(10ms)) << "the stop request outlived the run it ended";
    // The stopped task still belongs to the loop: the next run goes on with it.
    EXPECT_EQ(ch06::run_until_complete(f.loop, answer(&f.loop)), 42);  // sleeps 5 ms
    f.drain();
    EXPECT_TRUE(finished);
}

TEST(Stop, CalledBeforeRunUntilCompleteRunsOneIterationThenThrows) {
    FakeLoop f;
    f.loop.stop();
    expect_stopped_early([&] { ch06::run_until_complete(f.loop, answer(&f.loop)); });  // answer sleeps
    EXPECT_EQ(f.loop.next_timeout(), ch06::Duration(5ms)) << "one iteration: started, now sleeping";
}

Coro<int> stops_and_returns(EventLoop* loop) {
    loop->stop();
    co_return 7;
}

TEST(Stop, ATaskThatStopsTheLoopAsItFinishesStillGivesItsValue) {
    FakeLoop f;
    EXPECT_EQ(ch06::run_until_complete(f.loop, stops_and_returns(&f.loop)), 7);
    f.loop.call_later(1ms, [] {});
    EXPECT_EQ(f.loop.next_timeout(), ch06::Duration(1ms));
}

Coro<> ping(EventLoop* loop, std::string name, std::vector<std::string>* log, ch06::Duration delay = 0ms) {
    for (int i = 0; i < 3; ++i) {
        log->push_back(name);
        co_await loop->sleep(delay);
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

TEST(Sleep, ANegativeDelayYieldsLikeZero) {
    FakeLoop f;
    std::vector<std::string> log;
    ch06::create_task(f.loop, ping(&f.loop, "a", &log, -1ms));
    ch06::create_task(f.loop, ping(&f.loop, "b", &log, -1ms));
    f.loop.run_once();
    EXPECT_EQ(log, (std::vector<std::string>{"a", "b"})) << "each task must give way after one step";
    EXPECT_EQ(f.loop.timer_count(), 0u) << "no timer for a delay <= 0";
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

TEST(Future, ATaskThatOutlivesItsLoopReportsItsLostExceptionOnStderr) {
    std::shared_ptr<ch06::Task<int>> task;
    {
        FakeLoop f;
        task = ch06::create_task(f.loop, fails(&f.loop));
        f.drain();
        ASSERT_TRUE(task->done());
    }
    testing::internal::CaptureStderr();
    task.reset();  // the loop that would have reported it is gone
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("never retrieved: failed inside"), std::string::npos) << err;
}

TEST(Future, OneThatOutlivesItsLoopCanBeReadButNotCompleted) {
    std::shared_ptr<ch06::Future<int>> done;
    std::shared_ptr<ch06::Future<int>> pending;
    {
        FakeLoop f;
        done = std::make_shared<ch06::Future<int>>(f.loop);
        pending = std::make_shared<ch06::Future<int>>(f.loop);
        done->set_result(3);
    }
    EXPECT_EQ(done->result(), 3);
    EXPECT_FALSE(pending->done());
    EXPECT_THROW(pending->set_result(1), std::logic_error) << "no loop is left to resume its waiters";
    EXPECT_THROW(pending->add_done_callback([](ch06::Future<int>&) {}), std::logic_error);
    EXPECT_FALSE(pending->done());
}

struct Tracked {
    static inline int alive = 0;
    Tracked() { ++alive; }
    Tracked(const Tracked&) { ++alive; }
    ~Tracked() { --alive; }
};

Coro<> holds_until(std::shared_ptr<ch06::Future<int>> future, Tracked keep) {
    (void)keep;
    co_await *future;
}

// PITFALLS 3, chapter 05's test on this loop: a frame destroyed while it
// waits must leave the future's waiting list. The frame belongs to a loop
// that is destroyed while a future of another loop (which lives on) is
// still pending; completing the future afterwards must resume nobody but
// the survivor (a list of raw handles resumed a freed frame: ASan reports it).
TEST(AwaitFuture, AFrameDestroyedWhileWaitingIsNotResumedWhenTheFutureCompletes) {
    Tracked::alive = 0;
    FakeLoop a;
    auto outlives = std::make_shared<ch06::Future<int>>(a.loop);
    auto survivor = ch06::create_task(a.loop, waits_for(outlives));
    a.loop.run_once();  // waits first, and stays alive
    {
        FakeLoop doomed;
        ch06::create_task(doomed.loop, holds_until(outlives, Tracked{}));
        doomed.loop.run_once();  // waits second; its frame dies with `doomed`
        EXPECT_EQ(Tracked::alive, 1);
    }
    EXPECT_EQ(Tracked::alive, 0);
    outlives->set_result(1);
    EXPECT_EQ(a.loop.ready_count(), 1u) << "only the survivor is resumed";
    a.drain();
    ASSERT_TRUE(survivor->done());
    EXPECT_EQ(survivor->result(), 1);
}

Coro<> sleeps_on(EventLoop* timers, Tracked keep) {
    (void)keep;
    co_await timers->sleep(1h);
}

// The same for a sleep: the frame's timer is cancelled with it. (The timer
// is on another loop because destroying a loop is the only way to destroy a
// waiting frame, and a loop drops its own timers when it goes.)
TEST(Sleep, AFrameDestroyedWhileSleepingCancelsItsTimer) {
    Tracked::alive = 0;
    FakeLoop timers;
    {
        FakeLoop doomed;
        ch06::create_task(doomed.loop, sleeps_on(&timers.loop, Tracked{}));
        doomed.loop.run_once();
        EXPECT_EQ(timers.loop.next_timeout(), ch06::Duration(1h));
    }
    EXPECT_EQ(Tracked::alive, 0);
    EXPECT_FALSE(timers.loop.next_timeout().has_value()) << "the dead frame's timer is still scheduled";
    timers.loop.call_later(2h, [] {});  // then run past the hour: nothing may be resumed
    timers.drain();
}

struct SocketPair {
    common::Fd ours;
    common::Fd peer;
    SocketPair() {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
            throw std::runtime_error("socketpair failed");
        }
        ours = common::Fd(fds[0]);
        peer = common::Fd(fds[1]);
    }
    void send_from_peer(const std::string& bytes) const {
        ASSERT_EQ(::send(peer.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
    }
};

Coro<> waits_to_read(ch06::AsyncSocket* socket, std::optional<ch06::TimePoint> deadline, Tracked keep) {
    (void)keep;
    co_await socket->readable(deadline);
}

// And for a wait with a deadline: the socket (which outlives the frame) must
// not keep the frame in its slot, nor the timer point at its awaiter.
TEST(Socket, AFrameDestroyedWhileWaitingWithADeadlineLeavesNeitherSlotNorTimer) {
    Tracked::alive = 0;
    FakeLoop io;
    SocketPair pair;
    ch06::AsyncSocket socket(io.loop, std::move(pair.ours));
    {
        FakeLoop doomed;
        ch06::create_task(doomed.loop, waits_to_read(&socket, io.loop.time() + 1h, Tracked{}));
        doomed.loop.run_once();
        EXPECT_EQ(io.loop.watched_descriptors(), 1u);
        EXPECT_EQ(io.loop.next_timeout(), ch06::Duration(1h));
    }
    EXPECT_EQ(Tracked::alive, 0);
    EXPECT_FALSE(io.loop.next_timeout().has_value()) << "the deadline's timer is still scheduled";
    pair.send_from_peer("x");
    io.loop.run_once();  // readable, and nobody waits: the interest is dropped
    EXPECT_EQ(io.loop.watched_descriptors(), 0u);
    EXPECT_EQ(io.loop.ready_count(), 0u);
}

Coro<> reads_once_then_waits(ch06::AsyncSocket* socket, int* woken, std::shared_ptr<ch06::Future<int>> never) {
    co_await socket->readable();
    ++*woken;
    co_await *never;  // does not read: the byte stays, the descriptor stays readable
}

// A level-triggered descriptor that stays readable would wake every wait if
// its interest stayed registered with nobody waiting: the loop would spin.
TEST(Socket, AnEventNobodyWaitsForDropsTheInterestSoTheLoopCannotSpin) {
    FakeLoop f;
    SocketPair pair;
    ch06::AsyncSocket socket(f.loop, std::move(pair.ours));
    auto never = std::make_shared<ch06::Future<int>>(f.loop);
    int woken = 0;
    ch06::create_task(f.loop, reads_once_then_waits(&socket, &woken, never));
    f.loop.run_once();
    EXPECT_EQ(f.loop.watched_descriptors(), 1u);
    pair.send_from_peer("x");
    f.loop.run_once();  // resumes the reader, which now waits on the future, not on the socket
    EXPECT_EQ(woken, 1);
    EXPECT_EQ(f.loop.watched_descriptors(), 1u) << "interest stays registered after a wait";
    pair.send_from_peer("more");
    f.loop.run_once();  // readable, nobody waits
    EXPECT_EQ(f.loop.watched_descriptors(), 0u);
    f.loop.call_later(1h, [] {});  // something to run, so the next iteration returns
    f.loop.run_once();
    EXPECT_EQ(woken, 1);
    EXPECT_EQ(f.loop.watched_descriptors(), 0u);
}

Coro<> reads_with_deadline(ch06::AsyncSocket* socket, ch06::TimePoint deadline, std::string* outcome) {
    try {
        co_await socket->readable(deadline);
        *outcome = "readable";
    } catch (const ch06::TimeoutError&) {
        *outcome = "timed out";
    }
}

TEST(Socket, AWaitWithADeadlineThrowsTimeoutErrorAtTheDeadline) {
    FakeLoop f;
    SocketPair pair;
    ch06::AsyncSocket socket(f.loop, std::move(pair.ours));
    std::string outcome;
    const auto start = f.loop.time();
    ch06::run_until_complete(f.loop, reads_with_deadline(&socket, start + 250ms, &outcome));
    EXPECT_EQ(outcome, "timed out");
    EXPECT_EQ(f.loop.time() - start, 250ms);
    pair.send_from_peer("x");
    ch06::run_until_complete(f.loop, reads_with_deadline(&socket, f.loop.time() + 250ms, &outcome));
    EXPECT_EQ(outcome, "readable");
    EXPECT_FALSE(f.loop.next_timeout().has_value()) << "the timer of a wait the descriptor won is cancelled";
}

Coro<int> waits_twice(ch06::AsyncSocket* socket) {
    int refused = 0;
    for (int i = 0; i < 2; ++i) {
        try {
            co_await socket->readable();
        } catch (const std::out_of_range&) {
            ++refused;
        }
    }
    co_return refused;
}

// select() cannot watch a descriptor >= FD_SETSIZE and says so. The loop
// must not remember an interest the selector refused: the second wait would
// then believe the descriptor watched and sleep forever.
TEST(Socket, ADescriptorTheSelectorRefusesIsRefusedOnEveryWait) {
    if (common::raise_fd_limit() <= FD_SETSIZE + 1) {
        GTEST_SKIP() << "the descriptor limit does not reach past FD_SETSIZE";
    }
    SocketPair pair;
    const int high = ::fcntl(pair.ours.get(), F_DUPFD_CLOEXEC, FD_SETSIZE);
    ASSERT_GE(high, FD_SETSIZE);
    auto clock = std::make_shared<FakeClock>();
    EventLoop loop(ch06::LoopOptions{.selector = ch06::SelectorKind::select, .clock = clock});
    ch06::AsyncSocket socket(loop, common::Fd(high));
    EXPECT_FALSE(loop.can_watch(high));
    auto task = ch06::create_task(loop, waits_twice(&socket));
    loop.call_later(1h, [] {});  // so that a wait that hangs is a failure, not a hang
    for (int i = 0; i < 2 && !task->done(); ++i) {
        loop.run_once();
    }
    ASSERT_TRUE(task->done()) << "the second wait believed the descriptor was watched";
    EXPECT_EQ(task->result(), 2);
    EXPECT_EQ(loop.watched_descriptors(), 0u);
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
