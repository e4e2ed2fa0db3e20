#include "chapters/02_select_callbacks/echo_server.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/echo_load.hpp"
#include "common/fd.hpp"
#include "common/net.hpp"
#include "tests/support/testing_support.hpp"

namespace {

using ch02::Style;
using testing_support::round_trip;
using RunningServer = testing_support::RunningServer<ch02::EchoServerOptions, ch02::EchoStats, ch02::serve_echo>;

ch02::EchoServerOptions with_style(Style style) {
    ch02::EchoServerOptions options;
    options.style = style;
    return options;
}

class EchoServer : public testing::TestWithParam<Style> {};

TEST_P(EchoServer, HundredConcurrentClientsGetTheirBytesBackIntact) {
    RunningServer server(with_style(GetParam()));
    const common::EchoLoadResult r =
        common::run_echo_load({.port = server.port(), .connections = 100, .message_size = 4096}, 20);
    EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front());
    EXPECT_EQ(r.messages, 100u * 20u);
    server.stop();
    EXPECT_EQ(server.stats().accepted, 100u);
    EXPECT_EQ(server.stats().bytes_echoed, 100u * 20u * 4096u);
}

TEST_P(EchoServer, ASlowReaderGetsEveryByteBackInOrderAndBackpressureHoldsTheBuffer) {
    auto options = with_style(GetParam());
    options.high_water = 32 * 1024;
    options.low_water = 8 * 1024;
    std::promise<void> paused;
    std::once_flag once;
    options.on_reads_paused = [&] { std::call_once(once, [&] { paused.set_value(); }); };
    RunningServer server(options);

    common::Fd client = common::connect_blocking("127.0.0.1", server.port());
    const int small = 64 * 1024;
    ::setsockopt(client.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    constexpr std::size_t total = 8 * 1024 * 1024;
    std::string data(total, '\0');
    for (std::size_t i = 0; i < total; ++i) {
        data[i] = static_cast<char>((i * 7 + i / 4096) & 0xff);
    }
    std::thread writer([&] {
        std::size_t sent = 0;
        while (sent < total) {
            const ssize_t n = ::send(client.get(), data.data() + sent, std::min<std::size_t>(total - sent, 65536), MSG_NOSIGNAL);
            if (n <= 0) {
                return;
            }
            sent += static_cast<std::size_t>(n);
        }
    });
    // Do not read until the server has had to stop reading from us: then
    // read slowly, a little at a time.
    paused.get_future().wait();
    std::string echoed;
    echoed.reserve(total);
    char buffer[1024];
    while (echoed.size() < total) {
        const ssize_t n = ::recv(client.get(), buffer, sizeof buffer, 0);
        if (n <= 0) {
            break;
        }
        echoed.append(buffer, static_cast<std::size_t>(n));
    }
    writer.join();
    ASSERT_EQ(echoed.size(), total);
    EXPECT_TRUE(echoed == data) << "bytes came back out of order or changed";
    client.reset();
    server.stop();
    EXPECT_GE(server.stats().reads_paused, 1u);
    // The output buffer stays bounded: the high-water mark plus one read.
    EXPECT_LE(server.stats().peak_pending_output, 32u * 1024u + 64u * 1024u);
}

TEST_P(EchoServer, AResetClientDoesNotDisturbTheOthers) {
    RunningServer server(with_style(GetParam()));
    common::EchoLoad others({.port = server.port(), .connections = 10, .message_size = 512});
    EXPECT_EQ(others.run(5).messages, 50u);
    {
        // Leave unread echo behind, then reset: the server's next send or
        // recv on it fails with ECONNRESET.
        common::Fd victim = common::connect_blocking("127.0.0.1", server.port());
        EXPECT_EQ(round_trip(victim.get(), "hello"), "hello");
        const std::string junk(100'000, 'j');
        ::send(victim.get(), junk.data(), junk.size(), MSG_NOSIGNAL);
        common::reset_connection(std::move(victim));
    }
    const common::EchoLoadResult after = others.run(20);
    EXPECT_TRUE(after.ok()) << (after.errors.empty() ? "" : after.errors.front());
    EXPECT_EQ(after.messages, 200u);
    // And the server still accepts new clients.
    common::Fd late = common::connect_blocking("127.0.0.1", server.port());
    EXPECT_EQ(round_trip(late.get(), "still here"), "still here");
}

TEST_P(EchoServer, AConnectionBeyondMaxFdIsRefusedWithALogLineWhileOthersAreServed) {
    auto options = with_style(GetParam());
    // The next descriptors this process opens are the lowest free numbers:
    // allow the server only a few more than are open now.
    common::Fd probe(::dup(0));
    options.max_fd = probe.get() + 6;
    probe.reset();
    RunningServer server(options);

    std::vector<common::Fd> served;
    bool refused = false;
    for (int attempt = 0; attempt < 20 && !refused; ++attempt) {
        common::Fd client = common::connect_blocking("127.0.0.1", server.port());
        if (round_trip(client.get(), "ping") == "ping") {
            served.push_back(std::move(client));
        } else {
            refused = true;  // the server closed it: EOF instead of the echo
        }
    }
    ASSERT_TRUE(refused);
    ASSERT_FALSE(served.empty());
    for (const common::Fd& c : served) {
        EXPECT_EQ(round_trip(c.get(), "still served"), "still served");
    }
    served.clear();
    server.stop();
    EXPECT_GE(server.stats().refused, 1u);
    EXPECT_TRUE(server.logged("refusing connection"));
}

TEST_P(EchoServer, NoDescriptorIsLeftOpenAfterAThousandConnections) {
    common::Listener listener = common::listen_tcp();
    common::StopSignal stop;
    ch02::EchoStats stats;
    auto options = with_style(GetParam());
    options.stats = &stats;
    const std::size_t before = common::open_fd_count();
    std::thread server([&] { ch02::serve_echo(listener.fd.get(), stop, options); });
    for (int batch = 0; batch < 10; ++batch) {
        const auto r = common::run_echo_load({.port = listener.port, .connections = 100, .message_size = 32}, 1);
        EXPECT_TRUE(r.ok());
    }
    stop.notify();
    server.join();
    EXPECT_EQ(common::open_fd_count(), before);
    EXPECT_EQ(stats.accepted, 1000u);
    EXPECT_EQ(stats.closed, 1000u);
}

TEST_P(EchoServer, StoppingClosesOpenConnectionsAndReturns) {
    RunningServer server(with_style(GetParam()));
    std::vector<common::Fd> clients;
    for (int i = 0; i < 5; ++i) {
        clients.push_back(common::connect_blocking("127.0.0.1", server.port()));
        EXPECT_EQ(round_trip(clients.back().get(), "hi"), "hi");
    }
    server.stop();  // returns only once serve_echo has returned
    for (const common::Fd& c : clients) {
        char byte;
        EXPECT_EQ(::recv(c.get(), &byte, 1, 0), 0) << "expected EOF";
    }
    EXPECT_EQ(server.stats().closed, 5u);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EVLOOP_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define EVLOOP_SANITIZED 1
#endif

TEST_P(EchoServer, OutOfDescriptorsItStopsAcceptingUntilAConnectionClosesAndServesTheOthers) {
#ifdef EVLOOP_SANITIZED
    GTEST_SKIP() << "with a full descriptor table the sanitizer runtime's own checks fail (they need "
                    "pipes); the plain g++ and clang++ builds run this test";
#endif
    RunningServer server(with_style(GetParam()));
    common::Fd existing = common::connect_blocking("127.0.0.1", server.port());
    EXPECT_EQ(round_trip(existing.get(), "before"), "before");

    // Fill the descriptor table: a low soft limit, and dup() until it is full.
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
    rlimit low = saved;
    low.rlim_cur = common::open_fd_count() + 16;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    std::vector<common::Fd> filler;
    for (int fd = ::dup(0); fd >= 0; fd = ::dup(0)) {
        filler.emplace_back(fd);
    }
    filler.pop_back();  // one free slot: the client's socket takes it, the server's accept finds none
    common::Fd waiting = common::connect_blocking("127.0.0.1", server.port());
    const std::string hello = "after a close";
    ASSERT_EQ(::send(waiting.get(), hello.data(), hello.size(), MSG_NOSIGNAL), static_cast<ssize_t>(hello.size()));
    server.wait_for_log("accepting again when a connection closes");

    // The listener stays readable (the connection is still queued), yet the
    // server neither spins on accept nor stops serving the connection it has.
    EXPECT_EQ(round_trip(existing.get(), "during"), "during");
    EXPECT_EQ(round_trip(existing.get(), "and again"), "and again");
    EXPECT_EQ(server.log_count("accepting again"), 1u);

    // A connection closes: its descriptor is free, and the queued one is accepted and served.
    filler.clear();
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
    existing.reset();
    std::string echoed(hello.size(), '\0');
    std::size_t got = 0;
    while (got < hello.size()) {
        const ssize_t n = ::recv(waiting.get(), echoed.data() + got, hello.size() - got, 0);
        ASSERT_GT(n, 0);
        got += static_cast<std::size_t>(n);
    }
    EXPECT_EQ(echoed, hello);
    server.stop();
    EXPECT_EQ(server.stats().accepted, 2u);
    EXPECT_EQ(server.log_count("accepting again"), 1u);
}

INSTANTIATE_TEST_SUITE_P(BothStyles, EchoServer, testing::Values(Style::callbacks, Style::generators),
                         [](const testing::TestParamInfo<Style>& param) {
                             return param.param == Style::callbacks ? "Callbacks" : "Generators";
                         });

}  // namespace
