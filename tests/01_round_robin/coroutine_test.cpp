#include "chapters/01_round_robin/coroutine.hpp"
#include "tests/01_round_robin/lifetime_counter.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace {

using ch01::Coroutine;
using ch01::StopIteration;
using ch01_test::LifetimeCounter;
using ch01_test::Tracked;

static_assert(!std::is_copy_constructible_v<Coroutine<int, int>>);
static_assert(std::is_nothrow_move_constructible_v<Coroutine<int, int>>);

// Replies to each message with what it received: the reply to the n-th send()
// is built from the n-th sent value.
Coroutine<std::string, std::string> echo(bool* started) {
    *started = true;
    std::string reply = "ready";
    while (true) {
        const std::string received = co_yield reply;
        reply = "got " + received;
    }
}

// Takes one value, then returns.
Coroutine<int, int> take_one() {
    const int received = co_yield 0;
    (void)received;
}

Coroutine<int, int> throw_on_negative() {
    int received = co_yield 0;
    while (true) {
        if (received < 0) {
            throw std::invalid_argument("negative");
        }
        received = co_yield received * 2;
    }
}

Coroutine<int, int> hold_a_local(LifetimeCounter* counter) {
    const Tracked local(counter);
    int total = 0;
    while (true) {
        total += co_yield total;
    }
}

Coroutine<int, std::unique_ptr<int>> sum_boxes() {
    int total = 0;
    while (true) {
        const std::unique_ptr<int> box = co_yield total;
        total += *box;
    }
}

TEST(Coroutine, BodyDoesNotRunBeforePrime) {
    bool started = false;
    auto coroutine = echo(&started);
    EXPECT_FALSE(started);
    EXPECT_FALSE(coroutine.primed());
    EXPECT_EQ(coroutine.prime(), "ready");
    EXPECT_TRUE(started);
    EXPECT_TRUE(coroutine.primed());
}

TEST(Coroutine, SentValueIsTheResultOfTheCoYieldItIsPausedAt) {
    bool started = false;
    auto coroutine = echo(&started);
    (void)coroutine.prime();
    EXPECT_EQ(coroutine.send("a"), "got a");
    EXPECT_EQ(coroutine.send("b"), "got b");
}

TEST(Coroutine, SendBeforePrimeIsALogicErrorAndRunsNothing) {
    bool started = false;
    auto coroutine = echo(&started);
    try {
        (void)coroutine.send("lost");
        FAIL() << "send() before prime() was accepted";
    } catch (const std::logic_error& error) {
        EXPECT_NE(std::string(error.what()).find("prime()"), std::string::npos) << error.what();
    }
    EXPECT_FALSE(started);
    EXPECT_EQ(coroutine.prime(), "ready");  // the coroutine is still usable
    EXPECT_EQ(coroutine.send("kept"), "got kept");
}

TEST(Coroutine, PrimingTwiceIsALogicError) {
    bool started = false;
    auto coroutine = echo(&started);
    (void)coroutine.prime();
    EXPECT_THROW((void)coroutine.prime(), std::logic_error);
    EXPECT_EQ(coroutine.send("x"), "got x");
}

TEST(Coroutine, BodyThatReturnsEndsTheSendWithStopIteration) {
    auto coroutine = take_one();
    EXPECT_EQ(coroutine.prime(), 0);
    EXPECT_THROW((void)coroutine.send(1), StopIteration);
    EXPECT_TRUE(coroutine.done());
}

TEST(Coroutine, SendAfterTheBodyFinishedIsStopIteration) {
    auto coroutine = take_one();
    (void)coroutine.prime();
    EXPECT_THROW((void)coroutine.send(1), StopIteration);
    EXPECT_THROW((void)coroutine.send(2), StopIteration);
    EXPECT_THROW((void)coroutine.prime(), StopIteration);
}

TEST(Coroutine, ExceptionFromTheBodyReachesTheSenderThenItIsFinished) {
    auto coroutine = throw_on_negative();
    (void)coroutine.prime();
    EXPECT_EQ(coroutine.send(3), 6);
    EXPECT_THROW((void)coroutine.send(-1), std::invalid_argument);
    EXPECT_TRUE(coroutine.done());
    EXPECT_THROW((void)coroutine.send(1), StopIteration);
}

TEST(Coroutine, DestroyingAPausedCoroutineDestroysItsLocals) {
    LifetimeCounter counter;
    {
        auto coroutine = hold_a_local(&counter);
        (void)coroutine.prime();
        EXPECT_EQ(coroutine.send(5), 5);
        EXPECT_EQ(counter.alive(), 1);
    }
    EXPECT_EQ(counter.constructed, 1);
    EXPECT_EQ(counter.alive(), 0);
}

TEST(Coroutine, MoveOnlyValuesCanBeSent) {
    auto coroutine = sum_boxes();
    (void)coroutine.prime();
    EXPECT_EQ(coroutine.send(std::make_unique<int>(2)), 2);
    EXPECT_EQ(coroutine.send(std::make_unique<int>(3)), 5);
}

TEST(Coroutine, MovedFromCoroutineIsDoneAndMovingDoesNotResume) {
    bool started = false;
    auto original = echo(&started);
    auto moved_to = std::move(original);
    EXPECT_FALSE(started);
    EXPECT_TRUE(original.done());  // NOLINT(bugprone-use-after-move): the rule under test
    EXPECT_THROW((void)original.prime(), StopIteration);
    EXPECT_EQ(moved_to.prime(), "ready");
}

}  // namespace
