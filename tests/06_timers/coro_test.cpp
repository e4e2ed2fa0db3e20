#include "chapters/06_timers/coro.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "chapters/06_timers/frame_pool.hpp"
#include "chapters/06_timers/task.hpp"

namespace {

using ch06::Coro;

Coro<int> thrower() {
    throw std::runtime_error("deep down");
    co_return 0;
}
Coro<int> middle() { co_return co_await thrower(); }
Coro<int> catcher() {
    try {
        co_return co_await middle();
    } catch (const std::runtime_error& e) {
        co_return -1;
    }
}

TEST(Coro, AnExceptionTravelsUpTheChainToTheFirstCatcher) {
    ch06::EventLoop loop;
    EXPECT_EQ(ch06::run_until_complete(loop, catcher()), -1);
    EXPECT_THROW(ch06::run_until_complete(loop, middle()), std::runtime_error);
}

Coro<> throws_int() {
    throw 42;
    co_return;
}

TEST(Coro, AnExceptionNotDerivedFromStdExceptionTravelsToo) {
    ch06::EventLoop loop;
    try {
        ch06::run_until_complete(loop, throws_int());
        FAIL();
    } catch (int value) {
        EXPECT_EQ(value, 42);
    }
}

TEST(Coro, IsLazy) {
    bool ran = false;
    auto body = [](bool* flag) -> Coro<> {
        *flag = true;
        co_return;
    };
    {
        Coro<> c = body(&ran);
        EXPECT_FALSE(ran);
    }  // destroyed without running
    EXPECT_FALSE(ran);
}

struct Tracked {
    static inline int alive = 0;
    Tracked() { ++alive; }
    Tracked(const Tracked&) { ++alive; }
    ~Tracked() { --alive; }
};

Coro<int> holds(Tracked t) {
    Tracked local;
    (void)t;
    co_return 1;
}

TEST(Coro, FramesAndTheirLocalsAreDestroyedExactlyOnce) {
    Tracked::alive = 0;
    {
        ch06::EventLoop loop;
        for (int i = 0; i < 100; ++i) {
            EXPECT_EQ(ch06::run_until_complete(loop, holds(Tracked{})), 1);
        }
    }
    EXPECT_EQ(Tracked::alive, 0);
}

TEST(FramePool, RecyclesABlockOfTheSameSizeClass) {
    ch06::FramePool pool;
    void* a = pool.allocate(200);
    pool.deallocate(a, 200);
    void* b = pool.allocate(230);  // same 64-byte class: (192, 256]
    EXPECT_EQ(a, b);
    void* big = pool.allocate(1 << 20);  // beyond the classes: plain operator new
    pool.deallocate(big, 1 << 20);
    pool.deallocate(b, 230);
    pool.release_all();  // a pool's blocks go back only when asked (or at thread exit, for local())
}

}  // namespace
