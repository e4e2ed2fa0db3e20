// testing_support.hpp: fixtures the chapters' test suites share.
//
// Not a lesson: a server on a thread with its log captured, blocking reads
// that fail the test instead of hanging it, and the set of paths a crawl
// fetched. Each chapter's tests use these
// with that chapter's own types.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/select.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "common/fd.hpp"
#include "common/http.hpp"
#include "common/http_site.hpp"
#include "common/net.hpp"
#include "common/stop_signal.hpp"

namespace testing_support {

// How long a test waits for something that should happen promptly before it
// fails instead of hanging. A guard, not a timing assertion: no correct run
// comes near it, even in a sanitizer build on a loaded machine.
inline constexpr std::chrono::seconds hang_guard{60};

// Waits until `fd` is readable (data, EOF or an error to report), at most
// hang_guard. False, with a test failure recorded, if it never became so.
inline bool wait_readable(int fd) {
    const auto deadline = std::chrono::steady_clock::now() + hang_guard;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{fd, POLLIN, 0};
        const int n = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
        if (n > 0) {
            return true;
        }
        if (n == 0 || errno != EINTR) {
            ADD_FAILURE() << "fd " << fd << ": nothing to read after " << hang_guard.count() << " s";
            return false;
        }
    }
}

// recv() on a blocking socket that fails the test instead of hanging when
// nothing arrives: -1 with errno ETIMEDOUT then.
inline ssize_t recv_guarded(int fd, void* buffer, std::size_t size) {
    if (!wait_readable(fd)) {
        errno = ETIMEDOUT;
        return -1;
    }
    return ::recv(fd, buffer, size, 0);
}

// Everything the peer sends until EOF, read `chunk` bytes at a time (small:
// a slow reader). nullopt, with a test failure recorded, on an error or a
// stall.
inline std::optional<std::string> read_to_eof(int fd, std::size_t chunk = 64 * 1024) {
    std::string data;
    std::string buffer(chunk, '\0');
    for (;;) {
        const ssize_t n = recv_guarded(fd, buffer.data(), buffer.size());
        if (n == 0) {
            return data;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            ADD_FAILURE() << "recv after " << data.size() << " bytes: " << std::strerror(errno);
            return std::nullopt;
        }
        data.append(buffer.data(), static_cast<std::size_t>(n));
    }
}

// One blocking round trip on a blocking client socket: what came back (a
// short string if the server closed the connection first).
inline std::string round_trip(int fd, const std::string& message) {
    EXPECT_EQ(::send(fd, message.data(), message.size(), MSG_NOSIGNAL), static_cast<ssize_t>(message.size()));
    std::string echoed(message.size(), '\0');
    std::size_t got = 0;
    while (got < message.size()) {
        const ssize_t n = recv_guarded(fd, echoed.data() + got, message.size() - got);
        if (n <= 0) {
            break;
        }
        got += static_cast<std::size_t>(n);
    }
    echoed.resize(got);
    return echoed;
}

// A chapter's echo server on its own thread, stopped and joined by stop() or
// the destructor. Its stats and log lines can be read once it has stopped.
template <typename Options, typename Stats, void (*Serve)(int, const common::StopSignal&, const Options&)>
class RunningServer {
public:
    explicit RunningServer(Options options = {}) : options_(std::move(options)) {
        options_.stats = &stats_;
        options_.log = [this](std::string_view line) {
            {
                std::lock_guard lock(mutex_);
                log_.emplace_back(line);
            }
            logged_.notify_all();
        };
        thread_ = std::thread([this] { Serve(listener_.fd.get(), stop_, options_); });
    }
    RunningServer(const RunningServer&) = delete;
    RunningServer& operator=(const RunningServer&) = delete;
    ~RunningServer() { stop(); }

    void stop() {
        if (thread_.joinable()) {
            stop_.notify();
            thread_.join();
        }
    }
    [[nodiscard]] std::uint16_t port() const { return listener_.port; }
    [[nodiscard]] const Stats& stats() const { return stats_; }
    [[nodiscard]] bool logged(std::string_view fragment) { return log_count(fragment) > 0; }
    // How many log lines contain `fragment`.
    [[nodiscard]] std::size_t log_count(std::string_view fragment) {
        std::lock_guard lock(mutex_);
        return count_locked(fragment);
    }
    // Blocks until the server has logged a line containing `fragment`: an
    // event to wait on instead of a sleep. False, with a test failure
    // recorded, if that has not happened within hang_guard.
    bool wait_for_log(std::string_view fragment) {
        std::unique_lock lock(mutex_);
        if (logged_.wait_for(lock, hang_guard, [&] { return count_locked(fragment) > 0; })) {
            return true;
        }
        ADD_FAILURE() << "the server did not log '" << fragment << "' within " << hang_guard.count() << " s";
        return false;
    }

private:
    std::size_t count_locked(std::string_view fragment) const {
        std::size_t n = 0;
        for (const std::string& line : log_) {
            n += line.find(fragment) != std::string::npos ? 1 : 0;
        }
        return n;
    }

    common::Listener listener_ = common::listen_tcp();
    common::StopSignal stop_;
    Options options_;
    Stats stats_;
    std::mutex mutex_;
    std::condition_variable logged_;
    std::vector<std::string> log_;
    std::thread thread_;
};

inline common::http::Url root_of(const common::TestSite& site) { return *common::http::parse_url(site.root_url()); }

// The paths a crawl report lists, for comparing with TestSite::reachable_paths().
template <typename Report>
std::set<std::string> fetched_paths(const Report& report) {
    std::set<std::string> paths;
    for (const auto& page : report.pages) {
        paths.insert(common::http::parse_url(page.url)->path);
    }
    return paths;
}

// --- for the crawler tests of chapters 03 to 06 ---

// Aborts the test program if it is still alive after `limit`: a guard that
// turns a crawl that hangs (the bug some tests look for) into a quick failure
// instead of a wait for meson's timeout. Not a measurement: a correct crawl
// ends in well under a second. A hung crawl cannot be cancelled, hence abort.
class HangGuard {
public:
    explicit HangGuard(std::chrono::seconds limit = std::chrono::seconds(120))
        : thread_([this, limit] {
              std::unique_lock lock(mutex_);
              if (!finished_.wait_for(lock, limit, [this] { return done_; })) {
                  std::fputs("HangGuard: the test hung; aborting\n", stderr);
                  std::abort();
              }
          }) {}
    HangGuard(const HangGuard&) = delete;
    HangGuard& operator=(const HangGuard&) = delete;
    ~HangGuard() {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        finished_.notify_one();
        thread_.join();
    }

private:
    std::mutex mutex_;
    std::condition_variable finished_;
    bool done_ = false;
    std::thread thread_;
};

// A port where nothing listens, for as long as this lives: a socket bound to
// it without listen() makes every connect to it refused, and no other socket
// can take the port meanwhile.
struct RefusingPort {
    common::Fd fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    std::uint16_t port = 0;
    RefusingPort() {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            throw std::system_error(errno, std::generic_category(), "RefusingPort");
        }
        port = ntohs(addr.sin_port);
    }
};

// Takes every free descriptor below FD_SETSIZE except the top `leave`, as a
// process busy with other files would: the crawler's sockets soon get
// descriptors that select() cannot watch.
class DescriptorSqueeze {
public:
    explicit DescriptorSqueeze(int leave) {
        common::raise_fd_limit();
        for (;;) {
            common::Fd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
            if (!fd) {
                throw std::system_error(errno, std::generic_category(), "open /dev/null");
            }
            if (fd.get() >= FD_SETSIZE - leave) {
                return;  // every lower one is taken; this one is closed again
            }
            held_.push_back(std::move(fd));
        }
    }

private:
    std::vector<common::Fd> held_;
};

}  // namespace testing_support
