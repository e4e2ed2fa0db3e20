#include "chapters/05_yield_from/echo_server.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>
#include <thread>
#include <vector>

#include "common/echo_load.hpp"
#include "common/fd.hpp"
#include "common/net.hpp"

namespace {

class RunningServer {
public:
    RunningServer() {
        thread_ = std::thread([this] { ch05::serve_echo(listener_.fd.get(), stop_, {.stats = &stats_}); });
    }
    ~RunningServer() { stop(); }
    void stop() {
        if (thread_.joinable()) {
            stop_.notify();
            thread_.join();
        }
    }
    [[nodiscard]] std::uint16_t port() const { return listener_.port; }
    [[nodiscard]] const ch05::EchoStats& stats() const { return stats_; }

private:
    common::Listener listener_ = common::listen_tcp();
    common::StopSignal stop_;
    ch05::EchoStats stats_;
    std::thread thread_;
};

std::string round_trip(int fd, const std::string& message) {
    EXPECT_EQ(::send(fd, message.data(), message.size(), MSG_NOSIGNAL), static_cast<ssize_t>(message.size()));
    std::string echoed(message.size(), '\0');
    std::size_t got = 0;
    while (got < message.size()) {
        const ssize_t n = ::recv(fd, echoed.data() + got, message.size() - got, 0);
        if (n <= 0) {
            break;
        }
        got += static_cast<std::size_t>(n);
    }
    echoed.resize(got);
    return echoed;
}

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
