#include "common/net.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <memory>

#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/stop_signal.hpp"

namespace {

using common::Fd;

TEST(Fd, ClosesOnDestructionAndMovesOwnership) {
    const std::size_t before = common::open_fd_count();
    {
        Fd a(::dup(0));
        ASSERT_TRUE(a.valid());
        EXPECT_EQ(common::open_fd_count(), before + 1);
        Fd b = std::move(a);
        EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): checking the moved-from state
        EXPECT_TRUE(b.valid());
        Fd c(::dup(0));
        c = std::move(b);  // closes c's old descriptor
        EXPECT_EQ(common::open_fd_count(), before + 1);
    }
    EXPECT_EQ(common::open_fd_count(), before);
}

TEST(Fd, ReleaseHandsOnWithoutClosing) {
    Fd a(::dup(0));
    const int raw = a.release();
    EXPECT_FALSE(a.valid());
    EXPECT_EQ(::close(raw), 0);  // still open: release() did not close it
}

TEST(Errors, NameTheFailingCall) {
    const std::system_error e = common::errno_error("accept4", EMFILE);
    EXPECT_EQ(e.code(), std::errc::too_many_files_open);
    EXPECT_EQ(std::string(e.what()).rfind("accept4: ", 0), 0u) << e.what();
}

TEST(Net, PortZeroReportsTheRealPort) {
    const common::Listener l = common::listen_tcp("127.0.0.1", 0);
    EXPECT_NE(l.port, 0);
    EXPECT_EQ(l.host, "127.0.0.1");
}

TEST(Net, BadHostIsRejected) {
    EXPECT_THROW(common::listen_tcp("not-an-address", 0), std::invalid_argument);
}

TEST(Net, BindingABusyPortNamesTheCall) {
    const common::Listener l = common::listen_tcp("127.0.0.1", 0);
    try {
        // SO_REUSEADDR does not allow two listeners on one port.
        common::listen_tcp("127.0.0.1", l.port);
        FAIL() << "second bind succeeded";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), std::errc::address_in_use);
        EXPECT_NE(std::string(e.what()).find("bind"), std::string::npos);
    }
}

TEST(Net, ASocketAboveTheCallersLimitIsOutOfDescriptorsAndIsClosed) {
    const common::Listener l = common::listen_tcp();
    const std::size_t before = common::open_fd_count();
    // Every descriptor is at least 0: with max_fd 0, no socket is one the caller can watch.
    try {
        common::start_connect("127.0.0.1", l.port, 0);
        FAIL() << "start_connect returned a socket at or above max_fd";
    } catch (const common::OutOfDescriptors& e) {
        EXPECT_EQ(e.code(), std::errc::too_many_files_open);
        EXPECT_NE(std::string(e.what()).find("below 0"), std::string::npos) << e.what();
    }
    EXPECT_EQ(common::open_fd_count(), before) << "the refused socket was not closed";
    // Without a limit the same connect goes ahead.
    EXPECT_TRUE(common::start_connect("127.0.0.1", l.port).fd.valid());
}

TEST(Net, AcceptWithNothingPendingIsNullopt) {
    const common::Listener l = common::listen_tcp();
    EXPECT_FALSE(common::accept_connection(l.fd.get()).has_value());
}

TEST(Net, ConnectAcceptAndExchangeBytes) {
    const common::Listener l = common::listen_tcp();
    Fd client = common::connect_blocking("127.0.0.1", l.port);
    std::optional<Fd> server;
    while (!server) {  // the connection is queued already; accept may race only with EINTR
        server = common::accept_connection(l.fd.get());
    }
    ASSERT_EQ(::send(client.get(), "ping", 4, MSG_NOSIGNAL), 4);
    char buf[8] = {};
    ssize_t n;
    do {
        n = ::recv(server->get(), buf, sizeof buf, 0);
    } while (n < 0 && common::would_block(errno));
    ASSERT_EQ(n, 4);
    EXPECT_EQ(std::memcmp(buf, "ping", 4), 0);
}

TEST(Net, NonBlockingConnectToAClosedPortReportsRefused) {
    std::uint16_t port;
    {
        const common::Listener l = common::listen_tcp();
        port = l.port;
    }  // closed: nothing listens there now
    common::Connecting c = common::start_connect("127.0.0.1", port);
    if (c.in_progress) {
        pollfd p{c.fd.get(), POLLOUT, 0};
        ASSERT_EQ(::poll(&p, 1, 10'000), 1);
        EXPECT_EQ(common::connect_error(c.fd.get()), std::errc::connection_refused);
    }
    // Refused synchronously is also a correct outcome on loopback: start_connect throws.
}

TEST(Net, ResetConnectionMakesThePeerSeeEconnreset) {
    const common::Listener l = common::listen_tcp();
    Fd client = common::connect_blocking("127.0.0.1", l.port);
    std::optional<Fd> server;
    while (!server) {
        server = common::accept_connection(l.fd.get());
    }
    common::reset_connection(std::move(client));
    common::set_nonblocking(server->get(), false);
    char buf[4];
    EXPECT_EQ(::recv(server->get(), buf, sizeof buf, 0), -1);
    EXPECT_EQ(errno, ECONNRESET);
}

TEST(StopSignal, NotifyMakesItReadable) {
    common::StopSignal stop;
    EXPECT_FALSE(stop.notified());
    stop.notify();
    EXPECT_TRUE(stop.notified());
    EXPECT_TRUE(stop.notified());  // not consumed by looking
}

// A handler that only counts, to stand for whatever was installed before.
volatile std::sig_atomic_t g_previous_handler_calls = 0;
extern "C" void count_signal(int) { g_previous_handler_calls = g_previous_handler_calls + 1; }

// Installs count_signal for `sig` and puts back what was there on destruction.
class CountingHandler {
public:
    explicit CountingHandler(int sig) : sig_(sig) {
        struct sigaction action {};
        action.sa_handler = count_signal;
        ::sigemptyset(&action.sa_mask);
        EXPECT_EQ(::sigaction(sig_, &action, &saved_), 0);
        g_previous_handler_calls = 0;
    }
    CountingHandler(const CountingHandler&) = delete;
    CountingHandler& operator=(const CountingHandler&) = delete;
    ~CountingHandler() { ::sigaction(sig_, &saved_, nullptr); }

private:
    int sig_;
    struct sigaction saved_ {};
};

class TerminationSignal : public testing::TestWithParam<int> {};

TEST_P(TerminationSignal, NotifiesTheRegisteredStopUntilItIsDestroyedThenThePreviousHandlerRuns) {
    const CountingHandler previous(GetParam());
    // On the heap: a handler that still reached it after destruction would
    // be a use-after-free that AddressSanitizer reports.
    auto stop = std::make_unique<common::StopSignal>();
    common::notify_on_termination_signals(*stop);
    ASSERT_EQ(::raise(GetParam()), 0);  // handled before raise() returns
    EXPECT_TRUE(stop->notified());
    EXPECT_EQ(g_previous_handler_calls, 0);

    stop.reset();
    ASSERT_EQ(::raise(GetParam()), 0);
    EXPECT_EQ(g_previous_handler_calls, 1);
}

TEST_P(TerminationSignal, RegisteringAnotherStopMovesTheRegistrationToIt) {
    const CountingHandler previous(GetParam());
    auto first = std::make_unique<common::StopSignal>();
    auto second = std::make_unique<common::StopSignal>();
    common::notify_on_termination_signals(*first);
    common::notify_on_termination_signals(*second);
    first.reset();  // no longer the registered one: the handlers stay
    ASSERT_EQ(::raise(GetParam()), 0);
    EXPECT_TRUE(second->notified());
    EXPECT_EQ(g_previous_handler_calls, 0);

    second.reset();  // and the handlers from before the first registration are back
    ASSERT_EQ(::raise(GetParam()), 0);
    EXPECT_EQ(g_previous_handler_calls, 1);
}

INSTANTIATE_TEST_SUITE_P(StopSignal, TerminationSignal, testing::Values(SIGINT, SIGTERM),
                         [](const testing::TestParamInfo<int>& param) {
                             return param.param == SIGINT ? "Sigint" : "Sigterm";
                         });

}  // namespace
