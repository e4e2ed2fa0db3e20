#include "chapters/02_select_callbacks/echo_server.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
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

// Bytes whose position can be checked: a shifted or dropped block shows.
std::string pattern(std::size_t size) {
    std::string data(size, '\0');
    for (std::size_t i = 0; i < size; ++i) {
        data[i] = static_cast<char>((i * 7 + i / 4096) & 0xff);
    }
    return data;
}

void set_receive_buffer(int fd, int bytes) {
    ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes), 0);
}

// Sends `data` on blocking socket `fd` from a thread of its own (a client
// that writes while the test reads), half-closes, then calls `done`. The destructor shuts the socket down before joining: a sender
// blocked in send() by a server that stopped reading then ends, and the test
// fails instead of hanging.
class Sender {
public:
    Sender(int fd, std::string_view data, std::function<void()> done = {})
        : fd_(fd), thread_([this, data, done = std::move(done)] {
              std::size_t sent = 0;
              while (sent < data.size()) {
                  const ssize_t n = ::send(fd_, data.data() + sent, std::min<std::size_t>(data.size() - sent, 65536),
                                           MSG_NOSIGNAL);
                  if (n <= 0) {
                      return;  // shut down by the destructor, or the server is gone: the test reports it
                  }
                  sent += static_cast<std::size_t>(n);
              }
              ::shutdown(fd_, SHUT_WR);
              if (done) {
                  done();
              }
          }) {}
    Sender(const Sender&) = delete;
    Sender& operator=(const Sender&) = delete;
    ~Sender() {
        ::shutdown(fd_, SHUT_RDWR);
        thread_.join();
    }

private:
    int fd_;
    std::thread thread_;
};

// A one-shot event for the server's on_reads_paused hook and the test.
class Once {
public:
    void set() {
        std::call_once(flag_, [this] { promise_.set_value(); });
    }
    // True once set(); false (a hang guard, not a timing check) if it never was.
    bool wait() { return future_.wait_for(testing_support::hang_guard) == std::future_status::ready; }

private:
    std::once_flag flag_;
    std::promise<void> promise_;
    std::future<void> future_ = promise_.get_future();
};

// Sends `total` bytes but reads nothing until the server has stopped reading
// from this client; then reads the echo back 1 KiB at a time. The echo must
// be every byte in order, then EOF. Returns the server's stats.
ch02::EchoStats round_trip_through_backpressure(ch02::EchoServerOptions options, std::size_t total) {
    Once paused;
    options.on_reads_paused = [&paused] { paused.set(); };
    RunningServer server(options);
    const common::Fd client = common::connect_blocking("127.0.0.1", server.port());
    set_receive_buffer(client.get(), 64 * 1024);
    const std::string data = pattern(total);
    {
        const Sender sender(client.get(), data);
        if (!paused.wait()) {
            ADD_FAILURE() << "the server never stopped reading from a client that does not read";
            return {};
        }
        const std::optional<std::string> echoed = testing_support::read_to_eof(client.get(), 1024);
        EXPECT_TRUE(echoed.has_value());
        if (echoed) {
            EXPECT_EQ(echoed->size(), total);
            EXPECT_TRUE(*echoed == data) << "bytes came back out of order or changed";
        }
    }
    server.stop();
    return server.stats();
}

TEST_P(EchoServer, ASlowReaderGetsEveryByteBackInOrderAndBackpressureHoldsTheBuffer) {
    auto options = with_style(GetParam());
    options.high_water = 32 * 1024;
    options.low_water = 8 * 1024;
    const ch02::EchoStats stats = round_trip_through_backpressure(options, 8 * 1024 * 1024);
    if (GetParam() == Style::callbacks) {
        // Reading stops only above the high-water mark, and the buffer stops
        // there plus at most one read.
        EXPECT_GT(stats.peak_pending_output, options.high_water);
        EXPECT_LE(stats.peak_pending_output, options.high_water + ch02::read_size);
        // Stopped, resumed below the low-water mark, stopped again: 8 MiB
        // cannot pass a 32 KiB window in one go.
        EXPECT_GE(stats.reads_paused, 2u);
    } else {
        // No water marks: each chunk goes back before the next is read, so
        // one read is all the server ever holds for a connection.
        EXPECT_LE(stats.peak_pending_output, ch02::read_size);
        EXPECT_GE(stats.reads_paused, 2u);
    }
}

TEST_P(EchoServer, ALowWaterMarkOfZeroResumesReadingOnceAllIsSent) {
    auto options = with_style(GetParam());
    options.high_water = 16 * 1024;
    options.low_water = 0;
    // Big enough that the kernel's socket buffers cannot take it all: the
    // server has to stop reading, and then start again from an empty buffer.
    constexpr std::size_t total = 8 * 1024 * 1024;
    const ch02::EchoStats stats = round_trip_through_backpressure(options, total);
    EXPECT_EQ(stats.bytes_echoed, total);
}

TEST_P(EchoServer, ALowWaterMarkAboveTheHighWaterMarkIsRejected) {
    auto options = with_style(GetParam());
    options.high_water = 1024;
    options.low_water = 4096;
    const common::Listener listener = common::listen_tcp();
    const common::StopSignal stop;
    stop.notify();  // a server that accepted the options returns at once instead of serving forever
    try {
        ch02::serve_echo(listener.fd.get(), stop, options);
        FAIL() << "serve_echo accepted low_water > high_water";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("low_water (4096) must not exceed high_water (1024)"),
                  std::string::npos)
            << e.what();
    }
}

// shutdown(SHUT_WR) says "I will send nothing more", not "stop answering":
// the echo of everything sent before it is still owed, and only then EOF.
TEST_P(EchoServer, AClientThatHalfClosesGetsAllOfItsEchoThenEof) {
    auto options = with_style(GetParam());
    // Room for the whole upload: the callback server reads all of it and is
    // still holding most of it when the EOF arrives.
    options.high_water = 64 * 1024 * 1024;
    Once can_read;
    options.on_reads_paused = [&can_read] { can_read.set(); };
    RunningServer server(options);
    const common::Fd client = common::connect_blocking("127.0.0.1", server.port());
    set_receive_buffer(client.get(), 16 * 1024);
    const std::string data = pattern(8 * 1024 * 1024);
    // Read only once the upload and the half-close are done (the callback
    // server takes it all) or the server has stopped reading (the generator
    // server does as soon as a send would block).
    const Sender sender(client.get(), data, [&can_read] { can_read.set(); });
    ASSERT_TRUE(can_read.wait()) << "neither the upload finished nor the server stopped reading";
    const std::optional<std::string> echoed = testing_support::read_to_eof(client.get());
    ASSERT_TRUE(echoed.has_value());
    EXPECT_EQ(echoed->size(), data.size());
    EXPECT_TRUE(*echoed == data) << "bytes came back out of order or changed";
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
        EXPECT_EQ(testing_support::recv_guarded(c.get(), &byte, 1), 0) << "expected EOF";
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
    // However the test ends, the tests after it get their descriptors back.
    struct RestoreLimit {
        rlimit limit;
        ~RestoreLimit() { ::setrlimit(RLIMIT_NOFILE, &limit); }
    } const restore{saved};
    std::vector<common::Fd> filler;
    for (int fd = ::dup(0); fd >= 0; fd = ::dup(0)) {
        filler.emplace_back(fd);
    }
    filler.pop_back();  // one free slot: the client's socket takes it, the server's accept finds none
    common::Fd waiting = common::connect_blocking("127.0.0.1", server.port());
    const std::string hello = "after a close";
    ASSERT_EQ(::send(waiting.get(), hello.data(), hello.size(), MSG_NOSIGNAL), static_cast<ssize_t>(hello.size()));
    ASSERT_TRUE(server.wait_for_log("accepting again when a connection closes"));

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
        const ssize_t n = testing_support::recv_guarded(waiting.get(), echoed.data() + got, hello.size() - got);
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
