#include "chapters/05_yield_from/echo_server.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>
#include <thread>
#include <vector>

#include "common/echo_load.hpp"
#include "common/fd.hpp"
#include "common/net.hpp"
#include "tests/support/testing_support.hpp"

namespace {

using testing_support::round_trip;
using RunningServer = testing_support::RunningServer<ch05::EchoServerOptions, ch05::EchoStats, ch05::serve_echo>;

TEST(ComposedEchoServer, HundredConcurrentClientsGetTheirBytesBackIntact) {
    RunningServer server;
    const common::EchoLoadResult r =
        common::run_echo_load({.port = server.port(), .connections = 100, .message_size = 4096}, 20);
    EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front());
    EXPECT_EQ(r.messages, 2000u);
}

TEST(ComposedEchoServer, LargeMessagesArriveWhole) {
    RunningServer server;
    const common::EchoLoadResult r =
        common::run_echo_load({.port = server.port(), .connections = 4, .message_size = 1 << 20}, 4);
    EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front());
    EXPECT_EQ(r.bytes_echoed, 16u << 20);
}

TEST(ComposedEchoServer, AResetClientDoesNotDisturbTheOthers) {
    RunningServer server;
    common::EchoLoad others({.port = server.port(), .connections = 10, .message_size = 512});
    EXPECT_EQ(others.run(5).messages, 50u);
    {
        common::Fd victim = common::connect_blocking("127.0.0.1", server.port());
        EXPECT_EQ(round_trip(victim.get(), "hello"), "hello");
        const std::string junk(100'000, 'j');
        ::send(victim.get(), junk.data(), junk.size(), MSG_NOSIGNAL);
        common::reset_connection(std::move(victim));
    }
    const common::EchoLoadResult after = others.run(20);
    EXPECT_TRUE(after.ok()) << (after.errors.empty() ? "" : after.errors.front());
    common::Fd late = common::connect_blocking("127.0.0.1", server.port());
    EXPECT_EQ(round_trip(late.get(), "still here"), "still here");
}

TEST(ComposedEchoServer, StoppingClosesOpenConnectionsAndReturns) {
    RunningServer server;
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

TEST(ComposedEchoServer, NoDescriptorIsLeftOpenAfterAThousandConnections) {
    common::Listener listener = common::listen_tcp();
    common::StopSignal stop;
    ch05::EchoStats stats;
    const std::size_t before = common::open_fd_count();
    std::thread server([&] { ch05::serve_echo(listener.fd.get(), stop, {.stats = &stats}); });
    for (int batch = 0; batch < 10; ++batch) {
        EXPECT_TRUE(common::run_echo_load({.port = listener.port, .connections = 100, .message_size = 32}, 1).ok());
    }
    stop.notify();
    server.join();
    EXPECT_EQ(common::open_fd_count(), before);
    EXPECT_EQ(stats.accepted, 1000u);
    EXPECT_EQ(stats.closed, 1000u);
}

}  // namespace
