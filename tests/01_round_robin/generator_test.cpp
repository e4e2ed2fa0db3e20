#include "chapters/01_round_robin/generator.hpp"
#include "tests/01_round_robin/lifetime_counter.hpp"

#include <gtest/gtest.h>

#include <iterator>
#include <memory>
#include <ranges>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using ch01::Generator;
using ch01_test::LifetimeCounter;
using ch01_test::Tracked;

static_assert(std::input_iterator<Generator<int>::iterator>);
static_assert(std::sentinel_for<std::default_sentinel_t, Generator<int>::iterator>);
static_assert(std::ranges::input_range<Generator<int>>);
static_assert(!std::is_copy_constructible_v<Generator<int>>);
static_assert(!std::is_copy_assignable_v<Generator<int>>);
static_assert(std::is_nothrow_move_constructible_v<Generator<int>>);

Generator<int> count_up_to(int last, bool* started) {
    *started = true;
    for (int n = 1; n <= last; ++n) {
        co_yield n;
    }
}

Generator<int> yield_then_throw(int values) {
    for (int n = 1; n <= values; ++n) {
        co_yield n;
    }
    throw std::runtime_error("body failed");
}

Generator<int> throw_an_int() {
    co_yield 1;
    throw 42;
}

Generator<int> hold_a_local(LifetimeCounter* counter) {
    const Tracked local(counter);
    for (int n = 0;; ++n) {
        co_yield n;
    }
}

Generator<int> hold_a_parameter([[maybe_unused]] Tracked parameter) {
    co_yield 1;
}

Generator<Tracked> yield_temporary(LifetimeCounter* counter) { co_yield Tracked(counter); }

Generator<Tracked> yield_local(LifetimeCounter* counter) {
    const Tracked local(counter);
    co_yield local;
}

Generator<std::string> yield_same_local_twice() {
    const std::string word = "kept";
    co_yield word;
    co_yield word;
}

Generator<std::unique_ptr<int>> boxes(int count) {
    for (int n = 1; n <= count; ++n) {
        co_yield std::make_unique<int>(n);
    }
}

std::vector<int> collect(Generator<int>& generator) {
    std::vector<int> values;
    for (const int value : generator) {
        values.push_back(value);
    }
    return values;
}

TEST(Generator, BodyDoesNotRunBeforeTheFirstResume) {
    bool started = false;
    Generator<int> generator = count_up_to(3, &started);
    EXPECT_FALSE(started);
    auto it = generator.begin();
    EXPECT_TRUE(started);
    EXPECT_EQ(*it, 1);
}

TEST(Generator, RangeForSeesEveryYieldInOrder) {
    bool started = false;
    Generator<int> generator = count_up_to(4, &started);
    EXPECT_EQ(collect(generator), (std::vector<int>{1, 2, 3, 4}));
}

TEST(Generator, BodyWithoutYieldIsAnEmptyRange) {
    bool started = false;
    Generator<int> generator = count_up_to(0, &started);
    EXPECT_TRUE(generator.begin() == generator.end());
    EXPECT_TRUE(started);
}

TEST(Generator, NextStepsLikePythonsNextAndStaysFalseOnceFinished) {
    bool started = false;
    Generator<int> generator = count_up_to(2, &started);
    ASSERT_TRUE(generator.next());
    EXPECT_EQ(generator.value(), 1);
    ASSERT_TRUE(generator.next());
    EXPECT_EQ(generator.value(), 2);
    EXPECT_FALSE(generator.next());
    EXPECT_FALSE(generator.next());  // no resume of a finished body
}

TEST(Generator, ExceptionFromTheBodyReachesTheRangeForConsumer) {
    Generator<int> generator = yield_then_throw(2);
    std::vector<int> seen;
    try {
        for (const int value : generator) {
            seen.push_back(value);
        }
        FAIL() << "the exception did not reach the consumer";
    } catch (const std::runtime_error& error) {
        EXPECT_STREQ(error.what(), "body failed");
    }
    EXPECT_EQ(seen, (std::vector<int>{1, 2}));
}

TEST(Generator, ExceptionFromTheBodyReachesTheCallerOfNextOnce) {
    Generator<int> generator = yield_then_throw(1);
    ASSERT_TRUE(generator.next());
    EXPECT_THROW(generator.next(), std::runtime_error);
    EXPECT_FALSE(generator.next());  // the body has ended: the exception is not thrown again
}

TEST(Generator, ExceptionOfAnyTypeReachesTheConsumer) {
    Generator<int> generator = throw_an_int();
    auto it = generator.begin();
    EXPECT_EQ(*it, 1);
    try {
        ++it;
        FAIL() << "the exception did not reach the consumer";
    } catch (int thrown) {
        EXPECT_EQ(thrown, 42);
    }
    EXPECT_TRUE(it == generator.end());
}

TEST(Generator, DestroyingAPausedGeneratorDestroysItsLocals) {
    LifetimeCounter counter;
    {
        Generator<int> generator = hold_a_local(&counter);
        ASSERT_TRUE(generator.next());
        ASSERT_TRUE(generator.next());
        EXPECT_EQ(counter.alive(), 1);  // the local, in the paused frame
    }
    EXPECT_EQ(counter.constructed, 1);
    EXPECT_EQ(counter.alive(), 0);
}

TEST(Generator, DestroyingAnUnstartedGeneratorDestroysItsParameterCopies) {
    LifetimeCounter counter;
    {
        Generator<int> generator = hold_a_parameter(Tracked(&counter));
        EXPECT_GE(counter.alive(), 1);  // the parameter's copy lives in the frame
    }
    EXPECT_GE(counter.constructed, 2);
    EXPECT_EQ(counter.alive(), 0);
}

TEST(Generator, LocalsAreDestroyedWhenTheBodyFinishesBeforeTheFrameIs) {
    LifetimeCounter counter;
    Generator<Tracked> generator = yield_local(&counter);
    ASSERT_TRUE(generator.next());
    EXPECT_FALSE(generator.next());
    EXPECT_TRUE(generator.owns_frame());
    EXPECT_EQ(counter.alive(), 0);
}

TEST(Generator, YieldedTemporaryIsLentNotCopied) {
    LifetimeCounter counter;
    Generator<Tracked> generator = yield_temporary(&counter);
    ASSERT_TRUE(generator.next());
    EXPECT_EQ(counter.constructed, 1);
    EXPECT_EQ(counter.copied, 0);
    EXPECT_EQ(counter.moved, 0);
    EXPECT_FALSE(generator.next());
    EXPECT_EQ(counter.alive(), 0);
}

TEST(Generator, YieldedLocalIsCopiedOnceSoTheConsumerCannotChangeIt) {
    LifetimeCounter counter;
    Generator<Tracked> generator = yield_local(&counter);
    ASSERT_TRUE(generator.next());
    EXPECT_EQ(counter.copied, 1);

    Generator<std::string> words = yield_same_local_twice();
    auto it = words.begin();
    const std::string taken = std::move(*it);  // the consumer may move from what it gets
    ++it;
    EXPECT_EQ(taken, "kept");
    EXPECT_EQ(*it, "kept");
}

TEST(Generator, MoveOnlyValuesCanBeYieldedAndTaken) {
    std::vector<int> seen;
    for (std::unique_ptr<int>& box : boxes(3)) {
        const std::unique_ptr<int> taken = std::move(box);
        seen.push_back(*taken);
    }
    EXPECT_EQ(seen, (std::vector<int>{1, 2, 3}));
}

TEST(Generator, MovedFromGeneratorIsEmpty) {
    bool started = false;
    Generator<int> original = count_up_to(2, &started);
    Generator<int> moved_to = std::move(original);
    EXPECT_FALSE(original.owns_frame());  // NOLINT(bugprone-use-after-move): the rule under test
    EXPECT_TRUE(original.begin() == original.end());
    EXPECT_FALSE(original.next());
    EXPECT_TRUE(moved_to.owns_frame());
}

TEST(Generator, MovingDoesNotResumeTheBody) {
    bool started = false;
    Generator<int> original = count_up_to(3, &started);
    Generator<int> moved_to = std::move(original);
    Generator<int> assigned;
    assigned = std::move(moved_to);
    EXPECT_FALSE(started);
    EXPECT_EQ(collect(assigned), (std::vector<int>{1, 2, 3}));
}

TEST(Generator, MovingAPausedGeneratorKeepsItsPlace) {
    bool started = false;
    Generator<int> original = count_up_to(3, &started);
    ASSERT_TRUE(original.next());
    Generator<int> moved_to = std::move(original);
    ASSERT_TRUE(moved_to.next());
    EXPECT_EQ(moved_to.value(), 2);
}

TEST(Generator, MoveAssignmentDestroysTheFrameItReplaces) {
    LifetimeCounter counter;
    Generator<int> target = hold_a_local(&counter);
    ASSERT_TRUE(target.next());
    EXPECT_EQ(counter.alive(), 1);
    bool started = false;
    target = count_up_to(1, &started);
    EXPECT_EQ(counter.alive(), 0);
    EXPECT_EQ(collect(target), (std::vector<int>{1}));
}

}  // namespace
