#include "chapters/04_task/task.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

using ch04::Coroutine;
using ch04::Future;
using ch04::Task;
using ch04::Unit;

// Captures what one of the futures' reporters says, for one test.
class CapturedReports {
public:
    explicit CapturedReports(std::function<void(const std::string&)>& reporter)
        : reporter_(reporter),
          previous_(std::exchange(reporter, [this](const std::string& message) { reports.push_back(message); })) {}
    CapturedReports(const CapturedReports&) = delete;
    CapturedReports& operator=(const CapturedReports&) = delete;
    ~CapturedReports() { reporter_ = std::move(previous_); }

    std::vector<std::string> reports;

private:
    std::function<void(const std::string&)>& reporter_;
    std::function<void(const std::string&)> previous_;
};

// Counts live instances, to see frames' locals destroyed.
struct Tracked {
    static inline int alive = 0;
    Tracked() { ++alive; }
    Tracked(const Tracked&) { ++alive; }
    ~Tracked() { --alive; }
};

Coroutine<int> add_three(std::shared_ptr<Future<int>> a, std::shared_ptr<Future<int>> b,
                         std::shared_ptr<Future<int>> c, std::vector<std::string>* trace) {
    trace->push_back("start");
    const int x = co_yield a;
    trace->push_back("got a=" + std::to_string(x));
    const int y = co_yield b;
    trace->push_back("got b=" + std::to_string(y));
    const int z = co_yield c;
    trace->push_back("got c=" + std::to_string(z));
    co_return x + y + z;
}

TEST(Task, StepsTheCoroutineThroughEachFutureInOrderAndCompletesWithItsValue) {
    auto a = std::make_shared<Future<int>>();
    auto b = std::make_shared<Future<int>>();
    auto c = std::make_shared<Future<int>>();
    std::vector<std::string> trace;
    const auto task = Task<int>::spawn(add_three(a, b, c, &trace));
    EXPECT_EQ(trace, (std::vector<std::string>{"start"}));  // ran to the first co_yield
    EXPECT_FALSE(task->done());
    a->set_result(1);
    EXPECT_EQ(trace.back(), "got a=1");
    b->set_result(20);
    EXPECT_EQ(trace.back(), "got b=20");
    EXPECT_FALSE(task->done());
    c->set_result(300);
    EXPECT_EQ(trace.back(), "got c=300");
    ASSERT_TRUE(task->done());
    EXPECT_EQ(task->result(), 321);
}

TEST(Task, AFutureAlreadyDoneResumesAtOnce) {
    auto a = std::make_shared<Future<int>>();
    auto b = std::make_shared<Future<int>>();
    auto c = std::make_shared<Future<int>>();
    a->set_result(1);
    b->set_result(2);
    c->set_result(3);
    std::vector<std::string> trace;
    const auto task = Task<int>::spawn(add_three(a, b, c, &trace));
    ASSERT_TRUE(task->done());
    EXPECT_EQ(task->result(), 6);
}

Coroutine<int> rethrows(std::shared_ptr<Future<int>> f) {
    const int value = co_yield f;  // throws the future's exception here
    co_return value;
}

TEST(Task, AnAwaitedFuturesExceptionIsThrownAtTheYieldAndCompletesTheTask) {
    auto f = std::make_shared<Future<int>>();
    const auto task = Task<int>::spawn(rethrows(f));
    f->set_exception(std::make_exception_ptr(std::runtime_error("reset by peer")));
    ASSERT_TRUE(task->done());
    EXPECT_THROW((void)task->result(), std::runtime_error);
}

Coroutine<int> catches(std::shared_ptr<Future<int>> f) {
    try {
        co_return co_yield f;
    } catch (const std::runtime_error&) {
        co_return -1;
    }
}

TEST(Task, TheCoroutineCanCatchAnAwaitedException) {
    auto f = std::make_shared<Future<int>>();
    const auto task = Task<int>::spawn(catches(f));
    f->set_exception(std::make_exception_ptr(std::runtime_error("x")));
    EXPECT_EQ(task->result(), -1);
}

Coroutine<Unit> throws_an_int(std::shared_ptr<Future<Unit>> f) {
    co_yield f;
    throw 42;
}

TEST(Task, AnExceptionNotDerivedFromStdExceptionCompletesTheTaskToo) {
    auto f = std::make_shared<Future<Unit>>();
    const auto task = Task<Unit>::spawn(throws_an_int(f));
    f->set_result(Unit{});
    ASSERT_TRUE(task->done());
    try {
        (void)task->result();
        FAIL();
    } catch (int value) {
        EXPECT_EQ(value, 42);
    }
}

TEST(Task, OthersCanWaitForATaskLikeAnyFuture) {
    auto f = std::make_shared<Future<int>>();
    const auto task = Task<int>::spawn(rethrows(f));
    int seen = 0;
    task->add_done_callback([&](Future<int>& done) { seen = done.result(); });
    f->set_result(5);
    EXPECT_EQ(seen, 5);
}

// The future comes from outside (as io.ready() futures do) and is yielded as
// a temporary: the frame keeps no strong reference to it.
Coroutine<Unit> holds_a_local(const std::shared_ptr<Future<Unit>>* outside) {
    const Tracked local;
    co_yield *outside;
}

TEST(Task, ATaskWaitingOnAFutureNobodyHoldsIsFreedWithItsFrame) {
    Tracked::alive = 0;
    {
        auto f = std::make_shared<Future<Unit>>();
        std::weak_ptr<Task<Unit>> weak = Task<Unit>::spawn(holds_a_local(&f));
        EXPECT_FALSE(weak.expired()) << "the future's callback keeps the task";
        EXPECT_EQ(Tracked::alive, 1);
        f.reset();  // the last holder of the future lets go: nobody can complete it
        EXPECT_TRUE(weak.expired()) << "no reference cycle keeps a suspended task alive";
    }
    EXPECT_EQ(Tracked::alive, 0);
}

TEST(Future, AnExceptionNobodyRetrievedIsReported) {
    std::vector<std::string> reports;
    auto previous = ch04::unretrieved_exception_reporter();
    ch04::unretrieved_exception_reporter() = [&](const std::string& m) { reports.push_back(m); };
    {
        Future<int> f;
        f.set_exception(std::make_exception_ptr(std::runtime_error("lost")));
    }
    {
        Future<int> g;
        g.set_exception(std::make_exception_ptr(std::runtime_error("seen")));
        EXPECT_THROW((void)g.result(), std::runtime_error);
    }
    ch04::unretrieved_exception_reporter() = previous;
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_NE(reports[0].find("lost"), std::string::npos);
}

TEST(Future, CompletingTwiceAndReadingPendingAreErrors) {
    Future<int> f;
    EXPECT_THROW((void)f.result(), std::logic_error);
    f.set_result(1);
    EXPECT_THROW(f.set_result(2), std::logic_error);
}

TEST(Future, SetExceptionWithNullIsAnErrorAndLeavesItPending) {
    Future<int> f;
    EXPECT_THROW(f.set_exception(nullptr), std::invalid_argument);
    EXPECT_FALSE(f.done());
    f.set_result(3);
    EXPECT_EQ(f.result(), 3);
}

TEST(Future, ACallbacksExceptionIsReportedAndTheOtherCallbacksStillRun) {
    const CapturedReports captured(ch04::callback_exception_reporter());
    Future<int> f;
    std::vector<int> ran;
    f.add_done_callback([&](Future<int>&) { ran.push_back(1); });
    f.add_done_callback([&](Future<int>&) {
        ran.push_back(2);
        throw std::runtime_error("callback broke");
    });
    f.add_done_callback([&](Future<int>&) {
        ran.push_back(3);
        throw 42;  // not a std::exception
    });
    f.add_done_callback([&](Future<int>&) { ran.push_back(4); });
    EXPECT_NO_THROW(f.set_result(0)) << "the producer is not the place for a consumer's error";
    EXPECT_EQ(ran, (std::vector<int>{1, 2, 3, 4}));
    ASSERT_EQ(captured.reports.size(), 2u);
    EXPECT_NE(captured.reports[0].find("callback broke"), std::string::npos) << captured.reports[0];
    EXPECT_NE(captured.reports[1].find("not derived from std::exception"), std::string::npos);
}

TEST(Task, ACallbackThatThrowsOnATaskDoesNotStopTheTasksWaitingForIt) {
    const CapturedReports captured(ch04::callback_exception_reporter());
    auto f = std::make_shared<Future<int>>();
    const auto task = Task<int>::spawn(rethrows(f));
    task->add_done_callback([](Future<int>&) { throw std::runtime_error("careless listener"); });
    int seen = 0;
    task->add_done_callback([&](Future<int>& done) { seen = done.result(); });
    EXPECT_NO_THROW(f->set_result(8));
    EXPECT_EQ(seen, 8);
    EXPECT_EQ(captured.reports.size(), 1u);
}

// A task that waits for other tasks, as chapter 05 will let coroutines await
// each other directly. Each inner task waits on its own future.
Coroutine<int> sum_of_tasks(std::shared_ptr<Future<int>> a, std::shared_ptr<Future<int>> b) {
    const int x = co_yield Task<int>::spawn(rethrows(a));
    const int y = co_yield Task<int>::spawn(rethrows(b));
    co_return x + y;
}

TEST(Task, ATaskCanYieldAnotherTaskAndGetsItsValue) {
    auto a = std::make_shared<Future<int>>();
    auto b = std::make_shared<Future<int>>();
    const auto task = Task<int>::spawn(sum_of_tasks(a, b));
    a->set_result(20);
    EXPECT_FALSE(task->done()) << "waits for the second inner task";
    b->set_result(22);
    ASSERT_TRUE(task->done());
    EXPECT_EQ(task->result(), 42);
}

TEST(Task, AnInnerTaskAlreadyDoneResumesAtOnceAndItsExceptionIsThrownAtTheYield) {
    auto a = std::make_shared<Future<int>>();
    auto b = std::make_shared<Future<int>>();
    a->set_result(1);
    b->set_exception(std::make_exception_ptr(std::runtime_error("inner failed")));
    const auto task = Task<int>::spawn(sum_of_tasks(a, b));
    ASSERT_TRUE(task->done());
    EXPECT_THROW((void)task->result(), std::runtime_error);
}

}  // namespace
