#include "chapters/06_timers/echo_server.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/echo_load.hpp"
#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/net.hpp"
#include "tests/support/testing_support.hpp"

namespace {

using namespace std::chrono_literals;
using ch06::SelectorKind;
using testing_support::round_trip;
using RunningServer = testing_support::RunningServer<ch06::EchoServerOptions, ch06::EchoStats, ch06::serve_echo>;

ch06::EchoServerOptions on(SelectorKind kind) {
    ch06::EchoServerOptions options;
    options.selector = kind;
    return options;
}

class EchoServer : public testing::TestWithParam<SelectorKind> {};

TEST_P(EchoServer, HundredConcurrentClientsGetTheirBytesBackIntact) {
    RunningServer server(on(GetParam()));
    const auto r = common::run_echo_load({.port = server.port(), .connections = 100, .message_size = 4096}, 20);
    EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front());
    EXPECT_EQ(r.messages, 2000u);
}

TEST_P(EchoServer, LargeMessagesArriveWhole) {
    RunningServer server(on(GetParam()));
    const auto r = common::run_echo_load({.port = server.port(), .connections = 4, .message_size = 1 << 20}, 4);
    EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front());
}

TEST_P(EchoServer, AResetClientDoesNotDisturbTheOthers) {
    RunningServer server(on(GetParam()));
    common::EchoLoad others({.port = server.port(), .connections = 10, .message_size = 512});
    EXPECT_EQ(others.run(5).messages, 50u);
    {
        common::Fd victim = common::connect_blocking("127.0.0.1", server.port());
        EXPECT_EQ(round_trip(victim.get(), "hello"), "hello");
        const std::string junk(100'000, 'j');
        ::send(victim.get(), junk.data(), junk.size(), MSG_NOSIGNAL);
        common::reset_connection(std::move(victim));
    }
    const auto after = others.run(20);
    EXPECT_TRUE(after.ok()) << (after.errors.empty() ? "" : after.errors.front());
    common::Fd late = common::connect_blocking("127.0.0.1", server.port());
    EXPECT_EQ(round_trip(late.get(), "still here"), "still here");
}

TEST_P(EchoServer, StoppingClosesOpenConnectionsAndReturns) {
    RunningServer server(on(GetParam()));
    std::vector<common::Fd> clients;
    for (int i = 0; i < 5; ++i) {
        clients.push_back(common::connect_blocking("127.0.0.1", server.port()));
        EXPECT_EQ(round_trip(clients.back().get(), "hi"), "hi");
    }
    server.stop();
    for (const common::Fd& c : clients) {
        char byte;
        EXPECT_EQ(::recv(c.get(), &byte, 1, 0), 0) << "expected EOF";
    }
    EXPECT_EQ(server.stats().closed, 5u);
}

TEST_P(EchoServer, NoDescriptorIsLeftOpenAfterAThousandConnections) {
    common::Listener listener = common::listen_tcp();
    common::StopSignal stop;
    ch06::EchoStats stats;
    auto options = on(GetParam());
    options.stats = &stats;
    const std::size_t before = common::open_fd_count();
    std::thread server([&] { ch06::serve_echo(listener.fd.get(), stop, options); });
    for (int batch = 0; batch < 10; ++batch) {
        EXPECT_TRUE(common::run_echo_load({.port = listener.port, .connections = 100, .message_size = 32}, 1).ok());
    }
    stop.notify();
    server.join();
    EXPECT_EQ(common::open_fd_count(), before);
    EXPECT_EQ(stats.accepted, 1000u);
    EXPECT_EQ(stats.closed, 1000u);
}

INSTANTIATE_TEST_SUITE_P(BothSelectors, EchoServer, testing::Values(SelectorKind::epoll, SelectorKind::select),
                         [](const testing::TestParamInfo<SelectorKind>& param) {
                             return param.param == SelectorKind::epoll ? "Epoll" : "Select";
                         });

TEST(EpollEchoServer, ServesThreeThousandConnectionsAtOnce) {
    if (common::raise_fd_limit() < 7000) {
        GTEST_SKIP() << "the hard descriptor limit is below 7000";
    }
    RunningServer server;
    const auto r = common::run_echo_load({.port = server.port(), .connections = 3000, .message_size = 64}, 3);
    EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front());
    EXPECT_EQ(r.messages, 9000u);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EVLOOP_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define EVLOOP_SANITIZED 1
#endif

TEST(EpollEchoServer, OutOfDescriptorsItPausesAcceptAndKeepsServingTheOthers) {
#ifdef EVLOOP_SANITIZED
    GTEST_SKIP() << "with a full descriptor table the sanitizer runtime's own checks fail (they need "
                    "pipes); AcceptFailingWithEmfile... covers the logic in these builds";
#endif
    ch06::EchoServerOptions options;
    options.accept_pause = 20ms;
    RunningServer server(options);
    common::Fd existing = common::connect_blocking("127.0.0.1", server.port());
    EXPECT_EQ(round_trip(existing.get(), "before"), "before");

    // Fill the descriptor table: a low soft limit, and dup() until it is full.
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
    rlimit low = saved;
    low.rlim_cur = common::open_fd_count() + 16;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    std::vector<common::Fd> filler;
    for (;;) {
        const int fd = ::dup(0);
        if (fd < 0) {
            break;
        }
        filler.emplace_back(fd);
    }
    filler.pop_back();  // one free slot: the client's socket takes it, the server's accept finds none
    common::Fd waiting = common::connect_blocking("127.0.0.1", server.port());
    const std::string hello = "after the pause";
    ASSERT_EQ(::send(waiting.get(), hello.data(), hello.size(), MSG_NOSIGNAL), static_cast<ssize_t>(hello.size()));
    server.wait_for_log("pausing accept");  // the accept has failed: only now give descriptors back

    // While accept is paused, the connection it already has is served.
    EXPECT_EQ(round_trip(existing.get(), "during"), "during");

    // Give a descriptor back: after its pause the server accepts and echoes.
    filler.clear();
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
    std::string echoed(hello.size(), '\0');
    std::size_t got = 0;
    while (got < hello.size()) {
        const ssize_t n = ::recv(waiting.get(), echoed.data() + got, hello.size() - got, 0);
        ASSERT_GT(n, 0);
        got += static_cast<std::size_t>(n);
    }
    EXPECT_EQ(echoed, hello);
    server.stop();
    EXPECT_GE(server.stats().accept_pauses, 1u);
    EXPECT_TRUE(server.logged("pausing accept"));
}

TEST(EpollEchoServer, AcceptFailingWithEmfilePausesWithoutSpinningAndServesTheOthers) {
    ch06::EchoServerOptions options;
    options.accept_pause = 10ms;
    std::atomic<int> failures_left{0};
    std::atomic<int> accept_calls{0};
    options.accept = [&](int listen_fd) -> std::optional<common::Fd> {
        ++accept_calls;
        if (failures_left > 0) {
            --failures_left;
            throw common::errno_error("accept4", EMFILE);
        }
        return common::accept_connection(listen_fd);
    };
    RunningServer server(options);
    common::Fd existing = common::connect_blocking("127.0.0.1", server.port());
    EXPECT_EQ(round_trip(existing.get(), "before"), "before");
    failures_left = 3;
    common::Fd waiting = common::connect_blocking("127.0.0.1", server.port());
    EXPECT_EQ(round_trip(existing.get(), "during"), "during");
    EXPECT_EQ(round_trip(waiting.get(), "accepted at last"), "accepted at last");
    server.stop();
    EXPECT_EQ(server.stats().accept_pauses, 3u);
    // One attempt per pause (plus the successful ones): a spinning loop would
    // have called accept thousands of times in 30 ms.
    EXPECT_LE(accept_calls.load(), 3 + 2 + 2);
}

TEST(EpollEchoServer, AnIdleConnectionIsClosedAfterTheIdleTimeout) {
    ch06::EchoServerOptions options;
    options.idle_timeout = 100ms;
    RunningServer server(options);
    common::Fd client = common::connect_blocking("127.0.0.1", server.port());
    EXPECT_EQ(round_trip(client.get(), "then silence"), "then silence");
    char byte;
    EXPECT_EQ(::recv(client.get(), &byte, 1, 0), 0) << "the server should close the silent connection";
    server.stop();
    EXPECT_EQ(server.stats().idle_closed, 1u);
}

}  // namespace
