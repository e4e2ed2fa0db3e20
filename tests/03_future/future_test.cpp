#include "chapters/03_future/future.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace {

using ch03::Future;

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

}  // namespace
