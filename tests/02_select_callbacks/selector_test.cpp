#include "chapters/02_select_callbacks/selector.hpp"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/fd.hpp"
#include "common/net.hpp"

namespace {

using ch02::event_read;
using ch02::event_write;
using ch02::Selector;
using namespace std::chrono_literals;

struct Pipe {
    common::Fd read_end;
    common::Fd write_end;
    Pipe() {
        int fds[2];
        if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
            throw std::runtime_error("pipe2 failed");
        }
        read_end.reset(fds[0]);
        write_end.reset(fds[1]);
    }
    void make_readable() const { ASSERT_EQ(::write(write_end.get(), "x", 1), 1); }
};

TEST(Selector, ReportsAReadableDescriptor) {
    Selector selector;
    Pipe p;
    selector.register_fd(p.read_end.get(), event_read, [](int, unsigned) {});
    EXPECT_TRUE(selector.select(0ms).empty());
    p.make_readable();
    const std::vector<ch02::Ready> ready = selector.select(0ms);
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(ready[0].fd, p.read_end.get());
    EXPECT_EQ(ready[0].events, event_read);
}

TEST(Selector, AnEmptyPipeIsWritableButNotReadable) {
    Selector selector;
    Pipe p;
    selector.register_fd(p.write_end.get(), event_write, [](int, unsigned) {});
    const auto ready = selector.select(0ms);
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(ready[0].events, event_write);
}

TEST(Selector, RunOnceCallsTheCallbackWithTheReadyEvents) {
    Selector selector;
    Pipe p;
    std::vector<std::pair<int, unsigned>> calls;
    selector.register_fd(p.read_end.get(), event_read,
                         [&](int fd, unsigned events) { calls.emplace_back(fd, events); });
    p.make_readable();
    EXPECT_EQ(selector.run_once(0ms), 1u);
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0], std::make_pair(p.read_end.get(), unsigned{event_read}));
}

TEST(Selector, ModifyChangesTheEventsAndKeepsTheCallback) {
    Selector selector;
    Pipe p;
    int calls = 0;
    selector.register_fd(p.write_end.get(), event_read, [&](int, unsigned) { ++calls; });
    EXPECT_EQ(selector.run_once(0ms), 0u);  // a pipe's write end is never readable
    selector.modify(p.write_end.get(), event_write);
    EXPECT_EQ(selector.events(p.write_end.get()), unsigned{event_write});
    EXPECT_EQ(selector.run_once(0ms), 1u);
    EXPECT_EQ(calls, 1);
}

TEST(Selector, ModifyCanReplaceTheCallback) {
    Selector selector;
    Pipe p;
    std::string who;
    selector.register_fd(p.write_end.get(), event_write, [&](int, unsigned) { who = "first"; });
    selector.modify(p.write_end.get(), event_write, [&](int, unsigned) { who = "second"; });
    selector.run_once(0ms);
    EXPECT_EQ(who, "second");
}

TEST(Selector, UnregisteredDescriptorIsNoLongerReported) {
    Selector selector;
    Pipe p;
    selector.register_fd(p.read_end.get(), event_read, [](int, unsigned) {});
    p.make_readable();
    selector.unregister(p.read_end.get());
    EXPECT_FALSE(selector.is_registered(p.read_end.get()));
    EXPECT_EQ(selector.size(), 0u);
    EXPECT_TRUE(selector.select(0ms).empty());
}

TEST(Selector, ACallbackThatUnregistersAnotherReadyFdPreventsItsCallback) {
    Selector selector;
    Pipe a;
    Pipe b;
    const int first = std::min(a.read_end.get(), b.read_end.get());
    const int second = std::max(a.read_end.get(), b.read_end.get());
    std::vector<int> called;
    selector.register_fd(first, event_read, [&](int fd, unsigned) {
        called.push_back(fd);
        selector.unregister(second);  // ready in this same batch
    });
    selector.register_fd(second, event_read, [&](int fd, unsigned) { called.push_back(fd); });
    a.make_readable();
    b.make_readable();
    EXPECT_EQ(selector.run_once(0ms), 1u);
    EXPECT_EQ(called, std::vector<int>{first});
}

TEST(Selector, AFdNumberReusedWithinABatchDoesNotGetTheOldDescriptorsReadiness) {
    Selector selector;
    Pipe first;  // created first: lower numbers, so its callback runs first
    Pipe second;
    const Pipe empty;
    const int number = second.read_end.get();
    common::Fd reused;
    std::vector<std::string> called;
    selector.register_fd(first.read_end.get(), event_read, [&](int, unsigned) {
        called.emplace_back("first");
        // A server closing one connection and accepting another, which the
        // kernel gives the number just freed: this one has nothing to read.
        selector.unregister(number);
        second.read_end.reset();
        reused.reset(::dup2(empty.read_end.get(), number));
        ASSERT_EQ(reused.get(), number);
        selector.register_fd(number, event_read, [&](int, unsigned) { called.emplace_back("reused"); });
    });
    selector.register_fd(number, event_read, [&](int, unsigned) { called.emplace_back("second"); });
    first.make_readable();
    second.make_readable();
    EXPECT_EQ(selector.run_once(0ms), 1u);
    EXPECT_EQ(called, std::vector<std::string>{"first"});
    // And rightly so: the descriptor now behind that number is not readable.
    selector.unregister(first.read_end.get());
    EXPECT_EQ(selector.run_once(0ms), 0u);
    EXPECT_EQ(called, std::vector<std::string>{"first"});
}

TEST(Selector, ACallbackMayUnregisterItself) {
    Selector selector;
    Pipe p;
    // Captures large enough to live on the heap: destroying the callback
    // during its own call would be a use-after-free that ASan reports.
    std::string big(200, 'x');
    int calls = 0;
    selector.register_fd(p.read_end.get(), event_read, [&, big](int fd, unsigned) {
        selector.unregister(fd);
        calls += static_cast<int>(big.size());  // touches the capture after unregister
    });
    p.make_readable();
    selector.run_once(0ms);
    EXPECT_EQ(calls, 200);
    EXPECT_EQ(selector.size(), 0u);
}

TEST(Selector, RegisteringTwiceIsAnError) {
    Selector selector;
    Pipe p;
    selector.register_fd(p.read_end.get(), event_read, [](int, unsigned) {});
    EXPECT_THROW(selector.register_fd(p.read_end.get(), event_read, [](int, unsigned) {}),
                 std::invalid_argument);
}

TEST(Selector, UnregisteringOrModifyingAnUnknownFdIsAnError) {
    Selector selector;
    Pipe p;
    EXPECT_THROW(selector.unregister(p.read_end.get()), std::invalid_argument);
    EXPECT_THROW(selector.modify(p.read_end.get(), event_read), std::invalid_argument);
}

TEST(Selector, EventsMustBeReadOrWrite) {
    Selector selector;
    Pipe p;
    EXPECT_THROW(selector.register_fd(p.read_end.get(), 0, [](int, unsigned) {}), std::invalid_argument);
    EXPECT_THROW(selector.register_fd(p.read_end.get(), 4, [](int, unsigned) {}), std::invalid_argument);
}

TEST(Selector, ADescriptorAtOrAboveTheLimitIsRefused) {
    Selector selector(16);
    EXPECT_THROW(selector.register_fd(16, event_read, [](int, unsigned) {}), std::out_of_range);
    EXPECT_THROW(selector.register_fd(-1, event_read, [](int, unsigned) {}), std::out_of_range);
}

TEST(Selector, ADescriptorAboveFdSetsizeIsRefusedNotWrittenPastTheFdSet) {
    if (common::raise_fd_limit() <= 1500) {
        GTEST_SKIP() << "the hard descriptor limit is too low to open fd 1500";
    }
    Pipe p;
    common::Fd high(::dup2(p.read_end.get(), 1500));
    ASSERT_TRUE(high.valid());
    Selector selector;  // max_fd = FD_SETSIZE
    try {
        selector.register_fd(high.get(), event_read, [](int, unsigned) {});
        FAIL() << "fd 1500 was accepted";
    } catch (const std::out_of_range& e) {
        EXPECT_NE(std::string(e.what()).find("FD_SETSIZE"), std::string::npos) << e.what();
    }
    EXPECT_EQ(selector.size(), 0u);
}

TEST(Selector, ATimeoutWithNothingReadyReturnsEmpty) {
    Selector selector;
    Pipe p;
    selector.register_fd(p.read_end.get(), event_read, [](int, unsigned) {});
    EXPECT_TRUE(selector.select(1ms).empty());
}

}  // namespace
