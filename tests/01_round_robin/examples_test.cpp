#include "chapters/01_round_robin/examples.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace {

using ch01::GrepMatch;

template <typename T>
std::vector<T> collect(ch01::Generator<T> generator) {
    std::vector<T> values;
    for (const T& value : generator) {
        values.push_back(value);
    }
    return values;
}

TEST(Letters, YieldsEachLetterOfTheWordInOrder) {
    EXPECT_EQ(collect(ch01::letters("abc")), (std::vector<char>{'a', 'b', 'c'}));
    EXPECT_TRUE(collect(ch01::letters("")).empty());
}

TEST(Countdown, YieldsFromTheStartDownToOne) {
    EXPECT_EQ(collect(ch01::countdown(3)), (std::vector<int>{3, 2, 1}));
    EXPECT_TRUE(collect(ch01::countdown(0)).empty());
}

TEST(RunningAverage, PrimingYieldsNoAverageYet) {
    auto average = ch01::running_average();
    EXPECT_EQ(average.prime(), std::nullopt);
}

TEST(RunningAverage, EachSendReturnsTheAverageOfEveryNumberSoFar) {
    auto average = ch01::running_average();
    (void)average.prime();
    EXPECT_EQ(average.send(4), 4.0);
    EXPECT_EQ(average.send(5), 4.5);
    EXPECT_EQ(average.send(6), 5.0);
    EXPECT_EQ(average.send(-15), 0.0);
}

TEST(RunningAverage, EachCoroutineKeepsItsOwnState) {
    auto first = ch01::running_average();
    auto second = ch01::running_average();
    (void)first.prime();
    (void)second.prime();
    EXPECT_EQ(first.send(10), 10.0);
    EXPECT_EQ(second.send(2), 2.0);
    EXPECT_EQ(first.send(20), 15.0);
    EXPECT_EQ(second.send(4), 3.0);
}

TEST(RunningAverage, SendBeforePrimeIsALogicError) {
    auto average = ch01::running_average();
    EXPECT_THROW((void)average.send(4), std::logic_error);
}

TEST(Grep, ReportsMatchingLinesWithTheirNumbersAndNothingForOthers) {
    auto search = ch01::grep("co_yield");
    EXPECT_EQ(search.prime(), std::nullopt);
    EXPECT_EQ(search.send("a plain line"), std::nullopt);
    EXPECT_EQ(search.send("x = co_yield y"), (GrepMatch{2, "x = co_yield y"}));
    EXPECT_EQ(search.send("co_await is chapter 05"), std::nullopt);
    EXPECT_EQ(search.send("co_yield"), (GrepMatch{4, "co_yield"}));
}

TEST(Grep, MatchingIsCaseSensitiveSubstringSearch) {
    auto search = ch01::grep("loop");
    (void)search.prime();
    EXPECT_EQ(search.send("event loops"), (GrepMatch{1, "event loops"}));
    EXPECT_EQ(search.send("Loop"), std::nullopt);
}

TEST(Grep, SendBeforePrimeIsALogicError) {
    auto search = ch01::grep("x");
    EXPECT_THROW((void)search.send("x"), std::logic_error);
}

}  // namespace
