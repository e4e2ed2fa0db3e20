#include "chapters/01_round_robin/examples.hpp"
#include "chapters/01_round_robin/round_robin.hpp"
#include "tests/01_round_robin/lifetime_counter.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace {

using ch01::Generator;
using ch01::Outcome;
using ch01::RoundRobin;
using ch01::Turn;
using ch01_test::LifetimeCounter;
using ch01_test::Tracked;

Turn produced(std::string task, std::string text) {
    return Turn{std::move(task), Outcome::produced, std::move(text)};
}
Turn finished(std::string task) { return Turn{std::move(task), Outcome::finished, {}}; }
Turn failed(std::string task, std::string message) {
    return Turn{std::move(task), Outcome::failed, std::move(message)};
}

Generator<int> yield_then_throw(int values) {
    for (int n = 1; n <= values; ++n) {
        co_yield n;
    }
    throw std::runtime_error("broken task");
}

Generator<int> yield_then_throw_an_int(int values) {
    for (int n = 1; n <= values; ++n) {
        co_yield n;
    }
    throw 42;
}

Generator<int> mark_started(bool* started) {
    *started = true;
    co_yield 1;
}

Generator<int> forever_holding(LifetimeCounter* counter) {
    const Tracked local(counter);
    for (int n = 0;; ++n) {
        co_yield n;
    }
}

// The parameter's copy lives in the frame until the frame is destroyed, even
// after the body has ended by throwing.
Generator<int> throw_holding([[maybe_unused]] Tracked parameter) {
    co_yield 1;
    throw std::runtime_error("broken");
}

TEST(RoundRobin, TwoTasksTakeOneStepEachInTurn) {
    RoundRobin scheduler;
    scheduler.spawn("letters", ch01::letters("ab"));
    scheduler.spawn("countdown", ch01::countdown(3));
    scheduler.run();
    EXPECT_EQ(scheduler.trace(), (std::vector<Turn>{
                                     produced("letters", "a"),
                                     produced("countdown", "3"),
                                     produced("letters", "b"),
                                     produced("countdown", "2"),
                                     finished("letters"),
                                     produced("countdown", "1"),
                                     finished("countdown"),
                                 }));
    EXPECT_TRUE(scheduler.failures().empty());
}

TEST(RoundRobin, ThreeTasksRotateInTheOrderTheyWereSpawned) {
    RoundRobin scheduler;
    scheduler.spawn("x", ch01::letters("xx"));
    scheduler.spawn("y", ch01::letters("yy"));
    scheduler.spawn("z", ch01::letters("zz"));
    scheduler.run();
    EXPECT_EQ(scheduler.trace(), (std::vector<Turn>{
                                     produced("x", "x"),
                                     produced("y", "y"),
                                     produced("z", "z"),
                                     produced("x", "x"),
                                     produced("y", "y"),
                                     produced("z", "z"),
                                     finished("x"),
                                     finished("y"),
                                     finished("z"),
                                 }));
}

TEST(RoundRobin, FinishedTaskLeavesTheQueueAndTheOthersContinue) {
    RoundRobin scheduler;
    scheduler.spawn("short", ch01::countdown(1));
    scheduler.spawn("long", ch01::countdown(3));
    std::vector<std::size_t> pending_after_each_turn;
    while (scheduler.run_one_turn()) {
        pending_after_each_turn.push_back(scheduler.pending());
    }
    EXPECT_EQ(pending_after_each_turn, (std::vector<std::size_t>{2, 2, 1, 1, 1, 0}));
    EXPECT_EQ(scheduler.trace(), (std::vector<Turn>{
                                     produced("short", "1"),
                                     produced("long", "3"),
                                     finished("short"),
                                     produced("long", "2"),
                                     produced("long", "1"),
                                     finished("long"),
                                 }));
}

TEST(RoundRobin, SpawningDoesNotStartATask) {
    bool started = false;
    RoundRobin scheduler;
    scheduler.spawn("lazy", mark_started(&started));
    EXPECT_FALSE(started);
    EXPECT_TRUE(scheduler.run_one_turn());
    EXPECT_TRUE(started);
}

TEST(RoundRobin, ThrowingTaskIsReportedAndDroppedWhileTheOthersGoOn) {
    RoundRobin scheduler;
    scheduler.spawn("good", ch01::countdown(3));
    scheduler.spawn("bad", yield_then_throw(1));
    scheduler.run();
    EXPECT_EQ(scheduler.trace(), (std::vector<Turn>{
                                     produced("good", "3"),
                                     produced("bad", "1"),
                                     produced("good", "2"),
                                     failed("bad", "broken task"),
                                     produced("good", "1"),
                                     finished("good"),
                                 }));
    ASSERT_EQ(scheduler.failures().size(), 1U);
    const ch01::Failure& failure = scheduler.failures().front();
    EXPECT_EQ(failure.task, "bad");
    EXPECT_EQ(failure.message, "broken task");
    EXPECT_THROW(std::rethrow_exception(failure.error), std::runtime_error);
}

TEST(RoundRobin, ExceptionNotDerivedFromStdExceptionIsReportedToo) {
    RoundRobin scheduler;
    scheduler.spawn("odd", yield_then_throw_an_int(0));
    scheduler.spawn("good", ch01::countdown(2));
    scheduler.run();
    ASSERT_EQ(scheduler.failures().size(), 1U);
    const ch01::Failure& failure = scheduler.failures().front();
    EXPECT_EQ(failure.task, "odd");
    EXPECT_EQ(failure.message, "an exception of a type not derived from std::exception");
    try {
        std::rethrow_exception(failure.error);
    } catch (int thrown) {
        EXPECT_EQ(thrown, 42);
    }
    EXPECT_EQ(scheduler.trace().back(), finished("good"));
    EXPECT_EQ(scheduler.trace().size(), 4U);  // odd failed, 2, 1, finished
}

TEST(RoundRobin, FailedTaskIsDestroyedOnItsFailingTurn) {
    LifetimeCounter counter;
    RoundRobin scheduler;
    scheduler.spawn("bad", throw_holding(Tracked(&counter)));
    scheduler.spawn("good", ch01::countdown(5));
    ASSERT_TRUE(scheduler.run_one_turn());  // bad yields 1
    EXPECT_EQ(counter.alive(), 1);          // the parameter copy in bad's frame
    ASSERT_TRUE(scheduler.run_one_turn());  // good yields 5
    ASSERT_TRUE(scheduler.run_one_turn());  // bad throws
    EXPECT_EQ(scheduler.trace().back().outcome, Outcome::failed);
    EXPECT_EQ(counter.alive(), 0);
    EXPECT_EQ(scheduler.pending(), 1U);
}

TEST(RoundRobin, DestroyingTheSchedulerDestroysThePausedTasks) {
    LifetimeCounter counter;
    {
        RoundRobin scheduler;
        scheduler.spawn("forever", forever_holding(&counter));
        scheduler.spawn("other", forever_holding(&counter));
        for (int turn = 0; turn < 5; ++turn) {
            ASSERT_TRUE(scheduler.run_one_turn());
        }
        EXPECT_EQ(counter.alive(), 2);
    }
    EXPECT_EQ(counter.constructed, 2);
    EXPECT_EQ(counter.alive(), 0);
}

TEST(RoundRobin, ObserverSeesEveryTurnAsItHappens) {
    std::vector<Turn> seen;
    RoundRobin scheduler([&seen](const Turn& turn) { seen.push_back(turn); });
    scheduler.spawn("a", ch01::letters("a"));
    scheduler.spawn("b", yield_then_throw(0));
    scheduler.run();
    EXPECT_EQ(seen, (std::vector<Turn>{produced("a", "a"), failed("b", "broken task"),
                                       finished("a")}));
    EXPECT_EQ(seen, scheduler.trace());
}

TEST(RoundRobin, TurnOnAnEmptyQueueRunsNothing) {
    RoundRobin scheduler;
    EXPECT_FALSE(scheduler.run_one_turn());
    scheduler.run();
    EXPECT_TRUE(scheduler.trace().empty());
}

TEST(RoundRobin, ValuesOfAnyPrintableTypeAreShownAsText) {
    RoundRobin scheduler;
    scheduler.spawn("char", ch01::letters("q"));
    scheduler.spawn("int", ch01::countdown(1));
    scheduler.run_one_turn();
    scheduler.run_one_turn();
    EXPECT_EQ(scheduler.trace(), (std::vector<Turn>{produced("char", "q"), produced("int", "1")}));
}

}  // namespace
