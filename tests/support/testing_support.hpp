// testing_support.hpp: fixtures the chapters' test suites share.
//
// Not a lesson: a server on a thread with its log captured, a blocking round
// trip, and the set of paths a crawl fetched. Each chapter's tests use these
// with that chapter's own types.
#pragma once

#include <sys/socket.h>

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/http.hpp"
#include "common/http_site.hpp"
#include "common/net.hpp"
#include "common/stop_signal.hpp"

namespace testing_support {

// One blocking round trip on a blocking client socket: what came back (a
// short string if the server closed the connection first).
inline std::string round_trip(int fd, const std::string& message) {
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
    // event to wait on instead of a sleep. (A server that never logs it
    // hangs the test until meson's timeout fails it.)
    void wait_for_log(std::string_view fragment) {
        std::unique_lock lock(mutex_);
        logged_.wait(lock, [&] { return count_locked(fragment) > 0; });
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

}  // namespace testing_support
