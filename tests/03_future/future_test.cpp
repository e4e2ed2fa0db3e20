#include "chapters/03_future/future.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "chapters/03_future/fetch_coroutine.hpp"

namespace {

using ch03::FetchCoroutine;
using ch03::Future;
using ch03::FutureBase;
using ch03::Unit;

// Captures what the futures report about failing callbacks, for one test.
class CapturedReports {
public:
    CapturedReports()
        : previous_(std::exchange(ch03::callback_exception_reporter(),
                                  [this](const std::string& message) { reports.push_back(message); })) {}
    CapturedReports(const CapturedReports&) = delete;
    CapturedReports& operator=(const CapturedReports&) = delete;
    ~CapturedReports() { ch03::callback_exception_reporter() = std::move(previous_); }

    std::vector<std::string> reports;

private:
    std::function<void(const std::string&)> previous_;
};

TEST(Future, StartsPendingAndReadingItsResultIsAnError) {
    Future<int> f;
    EXPECT_FALSE(f.done());
    EXPECT_THROW((void)f.result(), std::logic_error);
}

TEST(Future, SetResultMakesItDoneWithThatValue) {
    Future<std::string> f;
    f.set_result("bytes");
    EXPECT_TRUE(f.done());
    EXPECT_EQ(f.result(), "bytes");
}

TEST(Future, CallbacksRunInTheOrderTheyWereAdded) {
    Future<int> f;
    std::vector<int> order;
    f.add_done_callback([&](Future<int>&) { order.push_back(1); });
    f.add_done_callback([&](Future<int>&) { order.push_back(2); });
    f.add_done_callback([&](Future<int>&) { order.push_back(3); });
    EXPECT_TRUE(order.empty());
    f.set_result(7);
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(Future, CallbacksRunInlineInsideSetResult) {
    Future<int> f;
    bool inside = false;
    bool ran_inside = false;
    f.add_done_callback([&](Future<int>& done) {
        ran_inside = inside;
        EXPECT_EQ(done.result(), 42);
    });
    inside = true;
    f.set_result(42);
    inside = false;
    EXPECT_TRUE(ran_inside);  // the naive part chapter 06 changes
}

TEST(Future, ACallbackAddedAfterCompletionStillRuns) {
    Future<int> f;
    f.set_result(1);
    int seen = 0;
    f.add_done_callback([&](Future<int>& done) { seen = done.result(); });
    EXPECT_EQ(seen, 1);
}

TEST(Future, AnExceptionIsRethrownByResult) {
    Future<int> f;
    f.set_exception(std::make_exception_ptr(std::runtime_error("connection reset")));
    EXPECT_TRUE(f.done());
    EXPECT_THROW((void)f.result(), std::runtime_error);
}

TEST(Future, AnExceptionNotDerivedFromStdExceptionTravelsToo) {
    Future<int> f;
    f.set_exception(std::make_exception_ptr(42));
    try {
        (void)f.result();
        FAIL();
    } catch (int value) {
        EXPECT_EQ(value, 42);
    }
}

TEST(Future, CompletingTwiceIsAnError) {
    Future<int> f;
    f.set_result(1);
    EXPECT_THROW(f.set_result(2), std::logic_error);
    EXPECT_THROW(f.set_exception(std::make_exception_ptr(std::runtime_error("x"))), std::logic_error);
    EXPECT_EQ(f.result(), 1);
}

TEST(Future, ACallbackMayAddAnotherCallbackWhichRunsAtOnce) {
    Future<int> f;
    std::vector<std::string> order;
    f.add_done_callback([&](Future<int>& done) {
        order.push_back("first");
        done.add_done_callback([&](Future<int>&) { order.push_back("added late"); });
        order.push_back("first ends");
    });
    f.set_result(0);
    EXPECT_EQ(order, (std::vector<std::string>{"first", "added late", "first ends"}));
}

TEST(Future, SetExceptionWithNullIsAnErrorAndLeavesItPending) {
    Future<int> f;
    EXPECT_THROW(f.set_exception(nullptr), std::invalid_argument);
    EXPECT_FALSE(f.done());
    f.set_result(3);
    EXPECT_EQ(f.result(), 3);
}

TEST(Future, ACallbacksExceptionIsReportedAndTheOtherCallbacksStillRun) {
    const CapturedReports captured;
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

TEST(Future, ALateCallbacksExceptionIsReportedToo) {
    const CapturedReports captured;
    Future<int> f;
    f.set_result(0);
    EXPECT_NO_THROW(f.add_done_callback([](Future<int>&) { throw std::runtime_error("late"); }));
    ASSERT_EQ(captured.reports.size(), 1u);
    EXPECT_NE(captured.reports[0].find("late"), std::string::npos);
}

// Counts live instances, to see a frame's locals destroyed.
struct Tracked {
    static inline int alive = 0;
    Tracked() { ++alive; }
    Tracked(const Tracked&) = delete;
    Tracked& operator=(const Tracked&) = delete;
    ~Tracked() { --alive; }
};

// Yields a future it does not own (a pointer parameter: a shared_ptr one
// would live in the frame), as the crawler's fetch yields its temporaries.
FetchCoroutine waits_on(const std::shared_ptr<Future<Unit>>* future) {
    const Tracked local;
    co_yield *future;
}

TEST(FetchCoroutine, HandsTheYieldedFutureOverSoNoCycleKeepsTheFrame) {
    Tracked::alive = 0;
    auto future = std::make_shared<Future<Unit>>();
    const std::weak_ptr<Future<Unit>> watch = future;
    {
        // What step() builds: the future's callback owns the coroutine.
        auto coroutine = std::make_shared<FetchCoroutine>(waits_on(&future));
        std::shared_ptr<FutureBase> next = coroutine->resume();
        ASSERT_EQ(next, future);
        next->on_done([coroutine] { coroutine->resume(); });
        EXPECT_EQ(Tracked::alive, 1);
    }
    // Everyone but the callback lets go, as when a crawl is abandoned and its
    // selector, which held the future, is destroyed.
    future.reset();
    EXPECT_TRUE(watch.expired()) << "the frame still holds the future it yielded";
    EXPECT_EQ(Tracked::alive, 0) << "the frame was never freed";
}

}  // namespace
