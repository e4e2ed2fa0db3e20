// deep_test.cpp: symmetric transfer keeps chapter 06's stack flat too.
//
// Each test would overflow an 8 MiB stack if a finishing coroutine resumed
// its caller by calling resume(): a nested call per transfer. That is what
// happens with g++ at -O0 or with AddressSanitizer's stack instrumentation,
// measured; tests/meson.build explains the flags this file is built with.
#include <gtest/gtest.h>

#include <stdexcept>

#include "chapters/06_timers/coro.hpp"
#include "chapters/06_timers/task.hpp"

namespace {

using ch06::Coro;

constexpr int kAwaits = 1'000'000;
constexpr int kDepth = 1'000'000;

Coro<int> ready_value(int v) { co_return v; }

Coro<long> sum_of_ready_values(int n) {
    long total = 0;
    for (int i = 0; i < n; ++i) {
        total += co_await ready_value(i);
    }
    co_return total;
}

TEST(SymmetricTransfer, AMillionAwaitsOfCoroutinesThatCompleteAtOnceDoNotGrowTheStack) {
    ch06::EventLoop loop;
    const long n = kAwaits;
    EXPECT_EQ(ch06::run_until_complete(loop, sum_of_ready_values(kAwaits)), n * (n - 1) / 2);
}

// Each level is a coroutine frame on the heap, suspended in its co_await
// while the next runs; neither the descent nor the return uses the stack.
Coro<int> depth(int n) {
    if (n == 0) {
        co_return 0;
    }
    co_return 1 + co_await depth(n - 1);
}

TEST(SymmetricTransfer, ARecursionAMillionLevelsDeepDoesNotGrowTheStack) {
    ch06::EventLoop loop;
    EXPECT_EQ(ch06::run_until_complete(loop, depth(kDepth)), kDepth);
}

Coro<int> depth_then_throw(int n) {
    if (n == 0) {
        throw std::runtime_error("bottom");
    }
    co_return 1 + co_await depth_then_throw(n - 1);
}

TEST(SymmetricTransfer, AnExceptionClimbsAMillionLevels) {
    ch06::EventLoop loop;
    EXPECT_THROW(ch06::run_until_complete(loop, depth_then_throw(kDepth)), std::runtime_error);
}

}  // namespace
