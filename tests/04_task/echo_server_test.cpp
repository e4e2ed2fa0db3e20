#include "chapters/04_task/echo_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "common/echo_load.hpp"
#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/net.hpp"
#include "tests/support/testing_support.hpp"

namespace {

using testing_support::round_trip;
using RunningServer = testing_support::RunningServer<ch04::EchoServerOptions, ch04::EchoStats, ch04::serve_echo>;

TEST(TaskEchoServer, HundredConcurrentClientsGetTheirBytesBackIntact) {
    RunningServer server;
    const common::EchoLoadResult r =
        common::run_echo_load({.port = server.port(), .connections = 100, .message_size = 4096}, 20);
    EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front());
    EXPECT_EQ(r.messages, 2000u);
}

TEST(TaskEchoServer, LargeMessagesArriveWhole) {
    RunningServer server;
    const common::EchoLoadResult r =
        common::run_echo_load({.port = server.port(), .connections = 4, .message_size = 1 << 20}, 4);
    EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front());
    EXPECT_EQ(r.bytes_echoed, 16u << 20);
}

TEST(TaskEchoServer, AResetClientDoesNotDisturbTheOthers) {
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

TEST(TaskEchoServer, StoppingClosesOpenConnectionsAndReturns) {
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

TEST(TaskEchoServer, NoDescriptorIsLeftOpenAfterAThousandConnections) {
    common::Listener listener = common::listen_tcp();
    common::StopSignal stop;
    ch04::EchoStats stats;
    const std::size_t before = common::open_fd_count();
    std::thread server([&] { ch04::serve_echo(listener.fd.get(), stop, {.stats = &stats}); });
    for (int batch = 0; batch < 10; ++batch) {
        EXPECT_TRUE(common::run_echo_load({.port = listener.port, .connections = 100, .message_size = 32}, 1).ok());
    }
    stop.notify();
    server.join();
    EXPECT_EQ(common::open_fd_count(), before);
    EXPECT_EQ(stats.accepted, 1000u);
    EXPECT_EQ(stats.closed, 1000u);
}

// Leaves the process without a free descriptor while it lives: lowers the
// soft RLIMIT_NOFILE and takes every descriptor still free below it. The
// limit and the descriptors are given back on destruction.
class OutOfDescriptors {
public:
    OutOfDescriptors() {
        if (::getrlimit(RLIMIT_NOFILE, &saved_) != 0) {
            throw std::system_error(errno, std::generic_category(), "getrlimit");
        }
        rlimit low = saved_;
        low.rlim_cur = std::min<rlim_t>(saved_.rlim_cur, 256);
        if (::setrlimit(RLIMIT_NOFILE, &low) != 0) {
            throw std::system_error(errno, std::generic_category(), "setrlimit");
        }
        for (;;) {
            common::Fd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
            if (!fd) {
                break;  // EMFILE: none left
            }
            held_.push_back(std::move(fd));
        }
    }
    OutOfDescriptors(const OutOfDescriptors&) = delete;
    OutOfDescriptors& operator=(const OutOfDescriptors&) = delete;
    ~OutOfDescriptors() {
        held_.clear();
        ::setrlimit(RLIMIT_NOFILE, &saved_);
    }

private:
    rlimit saved_{};
    std::vector<common::Fd> held_;
};

TEST(TaskEchoServer, OutOfDescriptorsWithNoConnectionOpenItAcceptsAgainLater) {
    // With connections of its own open, one of them closing frees a
    // descriptor. With none, nothing the server does ever will: it must try
    // again by itself, after a pause, instead of waiting forever.
    RunningServer server;
    // The client's socket comes first: without descriptors it could not exist.
    const common::Fd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(client.valid());
    const timeval guard{60, 0};  // a server that never answers fails the test instead of hanging it
    ASSERT_EQ(::setsockopt(client.get(), SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof guard), 0);
    // UBSan checks an object's dynamic type the first time a member is called
    // through a given type, probing memory with a pipe(): with no descriptor
    // left, the probe fails and it reports a bad vptr that is not there. Let
    // it check the accept error's type (the server logs e.what()) while
    // descriptors remain; it remembers the answer.
    try {
        common::throw_errno("accept4", EMFILE);
    } catch (const std::system_error& e) {
        EXPECT_NE(std::string(e.what()).find("Too many open files"), std::string::npos);
    }
    {
        const OutOfDescriptors exhausted;
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(server.port());
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        // The kernel completes the handshake; the connection waits in the
        // listen queue for an accept that fails with EMFILE.
        ASSERT_EQ(::connect(client.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
        server.wait_for_log("Too many open files");
    }
    EXPECT_EQ(round_trip(client.get(), "after the drought"), "after the drought");
    server.stop();
    EXPECT_EQ(server.stats().accepted, 1u);
}

}  // namespace
