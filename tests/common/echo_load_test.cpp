#include "common/echo_load.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <thread>
#include <vector>

#include "common/net.hpp"

namespace {

// A deliberately simple blocking echo server, one thread per connection, for
// testing the client. `corrupt_after` flips one byte after that many bytes;
// `close_after` closes the connection after echoing that many bytes.
class ThreadedEchoServer {
public:
    explicit ThreadedEchoServer(std::size_t connections, std::size_t corrupt_after = SIZE_MAX,
                                std::size_t close_after = SIZE_MAX)
        : listener_(common::listen_tcp()) {
        common::set_nonblocking(listener_.fd.get(), false);
        acceptor_ = std::thread([this, connections, corrupt_after, close_after] {
            for (std::size_t i = 0; i < connections; ++i) {
                const int fd = ::accept(listener_.fd.get(), nullptr, nullptr);
                if (fd < 0) {
                    return;
                }
                workers_.emplace_back([fd, corrupt_after, close_after] {
                    common::Fd conn(fd);
                    char buf[4096];
                    std::size_t total = 0;
                    for (;;) {
                        const ssize_t n = ::recv(conn.get(), buf, sizeof buf, 0);
                        if (n <= 0) {
                            return;
                        }
                        for (ssize_t k = 0; k < n; ++k, ++total) {
                            if (total == corrupt_after) {
                                buf[k] ^= 0x55;
                            }
                            if (total == close_after) {
                                return;
                            }
                        }
                        ::send(conn.get(), buf, static_cast<std::size_t>(n), MSG_NOSIGNAL);
                    }
                });
            }
        });
    }
    ~ThreadedEchoServer() {
        acceptor_.join();
        for (std::thread& t : workers_) {
            t.join();
        }
    }
    [[nodiscard]] std::uint16_t port() const { return listener_.port; }

private:
    common::Listener listener_;
    std::thread acceptor_;
    std::vector<std::thread> workers_;
};

TEST(EchoLoad, VerifiesEveryMessageOnEveryConnection) {
    ThreadedEchoServer server(8);
    const common::EchoLoadResult r =
        common::run_echo_load({.port = server.port(), .connections = 8, .message_size = 3000}, 20);
    EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front());
    EXPECT_EQ(r.messages, 8u * 20u);
    EXPECT_EQ(r.bytes_echoed, 8u * 20u * 3000u);
}

TEST(EchoLoad, DetectsACorruptedByte) {
    ThreadedEchoServer server(1, /*corrupt_after=*/100);
    const common::EchoLoadResult r =
        common::run_echo_load({.port = server.port(), .connections = 1, .message_size = 64}, 5);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.corrupted, 1u);
    EXPECT_EQ(r.messages, 1u);  // the first message (bytes 0..63) was intact
}

TEST(EchoLoad, ReportsAServerThatCloses) {
    ThreadedEchoServer server(1, SIZE_MAX, /*close_after=*/128);
    const common::EchoLoadResult r =
        common::run_echo_load({.port = server.port(), .connections = 1, .message_size = 64}, 5);
    EXPECT_EQ(r.failed_connections, 1u);
    EXPECT_EQ(r.messages, 2u);
    ASSERT_FALSE(r.errors.empty());
    EXPECT_NE(r.errors.front().find("closed"), std::string::npos) << r.errors.front();
}

TEST(EchoLoad, CanRunAgainOnTheSameConnections) {
    ThreadedEchoServer server(4);
    common::EchoLoad load({.port = server.port(), .connections = 4, .message_size = 16});
    EXPECT_EQ(load.run(10).messages, 40u);
    EXPECT_EQ(load.run(10).messages, 40u);
    load.close_all();
}

}  // namespace
