// deep_test.cpp: symmetric transfer keeps the stack flat.
//
// Each test would overflow an 8 MiB stack if a finishing coroutine resumed
// its caller by calling resume() (a nested call per transfer, a few hundred
// bytes each): that is what happens with g++ at -O0 or with AddressSanitizer's
// stack instrumentation, measured. tests/meson.build explains the flags this
// file is built with under g++.
#include <gtest/gtest.h>

#include <stdexcept>

#include "chapters/05_yield_from/coro.hpp"
#include "chapters/05_yield_from/io.hpp"

namespace {

using ch05::Coro;
using ch05::Io;

constexpr int kAwaits = 1'000'000;
constexpr int kDepth = 1'000'000;

// Awaits `count` coroutines that complete at once and sums their values:
// each await is two symmetric transfers (into the child, back to the
// parent), the case that nests calls if a coroutine resumes its caller with
// resume(). CoroType picks the frames: pooled (Coro) or plain heap (HeapCoro).
template <typename CoroType>
CoroType ready_value(int value) {
    co_return value;
}

template <typename CoroType>
ch05::BasicCoro<long, typename CoroType::frames_type> await_ready_values(int count) {
    long total = 0;
    for (int i = 0; i < count; ++i) {
        total += co_await ready_value<CoroType>(i);
    }
    co_return total;
}

TEST(SymmetricTransfer, AMillionAwaitsOfCoroutinesThatCompleteAtOnceDoNotGrowTheStack) {
    Io io;
    const long n = kAwaits;
    EXPECT_EQ(ch05::run_until_complete(io, await_ready_values<Coro<int>>(kAwaits)), n * (n - 1) / 2);
}

TEST(SymmetricTransfer, HeapFramesKeepTheStackFlatToo) {
    Io io;
    auto outer = []() -> Coro<long> { co_return co_await await_ready_values<ch05::HeapCoro<int>>(kAwaits); };
    const long n = kAwaits;
    EXPECT_EQ(ch05::run_until_complete(io, outer()), n * (n - 1) / 2);
}

// Every level is suspended in its co_await while the next runs: a million
// frames alive at once, on the heap; the stack holds none of them.
Coro<int> depth(int levels) {
    if (levels == 0) {
        co_return 0;
    }
    co_return 1 + co_await depth(levels - 1);
}

TEST(SymmetricTransfer, ARecursionAMillionLevelsDeepDoesNotGrowTheStack) {
    Io io;
    EXPECT_EQ(ch05::run_until_complete(io, depth(kDepth)), kDepth);
}

// The same depth, with an exception thrown at the bottom: it is rethrown at
// every level's co_await on the way up, each time by a jump, not a call.
Coro<int> depth_then_throw(int levels) {
    if (levels == 0) {
        throw std::runtime_error("bottom");
    }
    co_return 1 + co_await depth_then_throw(levels - 1);
}

TEST(SymmetricTransfer, AnExceptionClimbsAMillionLevels) {
    Io io;
    EXPECT_THROW(ch05::run_until_complete(io, depth_then_throw(kDepth)), std::runtime_error);
}

}  // namespace
