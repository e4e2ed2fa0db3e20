#include "chapters/06_timers/crawler.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/http_site.hpp"
#include "common/stop_signal.hpp"
#include "common/net.hpp"
#include "tests/support/testing_support.hpp"

namespace {

using namespace std::chrono_literals;
using common::Misbehaviour;
using common::TestSite;
namespace http = common::http;
using testing_support::fetched_paths;
using testing_support::root_of;

TEST(Crawl, FetchesExactlyTheReachablePagesOnceEach) {
    const TestSite site({.pages = 80});
    const ch06::CrawlReport report = ch06::crawl(root_of(site), {});
    EXPECT_EQ(fetched_paths(report), site.reachable_paths());
    for (const auto& [path, count] : site.stats().requests_by_path) {
        EXPECT_EQ(count, 1u) << path;
    }
    EXPECT_EQ(report.errors, site.reachable_paths().size() - site.page_paths().size());
}

TEST(Crawl, MisbehavingPagesAreErrorsAndEverythingElseIsFetched) {
    const TestSite site({.pages = 30,
                         .misbehave = {{"/page/4", Misbehaviour::not_found},
                                       {"/page/9", Misbehaviour::malformed_status},
                                       {"/page/14", Misbehaviour::close_mid_body},
                                       {"/page/19", Misbehaviour::trickle}}});
    const ch06::CrawlReport report = ch06::crawl(root_of(site), {});
    std::map<std::string, ch06::PageResult> by_path;
    for (const ch06::PageResult& page : report.pages) {
        by_path[http::parse_url(page.url)->path] = page;
    }
    EXPECT_EQ(by_path["/page/4"].status, 404);
    EXPECT_NE(by_path["/page/9"].error.find("malformed status line"), std::string::npos);
    EXPECT_NE(by_path["/page/14"].error.find("truncated body"), std::string::npos);
    EXPECT_TRUE(by_path["/page/19"].error.empty());
    EXPECT_EQ(fetched_paths(report), site.reachable_paths());
}

// A site whose root links to two pages that answer at once and one that
// never does: it keeps the request unanswered until the client gives up.
// (TestSite delays every page alike; this test needs one slow page among
// fast ones.) One thread, one request at a time: each is small.
class OneSlowPageSite {
public:
    OneSlowPageSite() : thread_([this] { serve(); }) {}
    ~OneSlowPageSite() {
        stop_.notify();
        thread_.join();
    }
    OneSlowPageSite(const OneSlowPageSite&) = delete;
    OneSlowPageSite& operator=(const OneSlowPageSite&) = delete;

    [[nodiscard]] http::Url root() const { return {"127.0.0.1", listener_.port, "/"}; }
    [[nodiscard]] std::vector<std::string> requested() {
        std::lock_guard lock(mutex_);
        return requested_;
    }

private:
    void serve() {
        std::vector<common::Fd> unanswered;
        for (;;) {
            pollfd fds[2] = {{.fd = listener_.fd.get(), .events = POLLIN, .revents = 0},
                             {.fd = stop_.fd(), .events = POLLIN, .revents = 0}};
            if (::poll(fds, 2, -1) < 0 || fds[1].revents != 0) {
                return;
            }
            std::optional<common::Fd> fd = common::accept_connection(listener_.fd.get());
            if (!fd) {
                continue;
            }
            common::set_nonblocking(fd->get(), false);
            const timeval guard{.tv_sec = 20, .tv_usec = 0};  // a client that sends no request cannot hang us
            ::setsockopt(fd->get(), SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof guard);
            const std::string path = read_request_path(fd->get());
            {
                std::lock_guard lock(mutex_);
                requested_.push_back(path);
            }
            if (path == "/slow") {
                unanswered.push_back(std::move(*fd));
                continue;
            }
            const std::string body = path == "/" ? R"(<a href="/fast/1">1</a> <a href="/slow">s</a> <a href="/fast/2">2</a>)"
                                                 : "<p>fast</p>";
            const std::string response =
                "HTTP/1.0 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
            ::send(fd->get(), response.data(), response.size(), MSG_NOSIGNAL);
        }  // closing the connection ends the response (HTTP/1.0)
    }

    static std::string read_request_path(int fd) {
        std::string request;
        char buffer[1024];
        while (request.find("\r\n\r\n") == std::string::npos) {
            const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n <= 0) {
                return "";
            }
            request.append(buffer, static_cast<std::size_t>(n));
        }
        const std::size_t start = request.find(' ') + 1;
        return request.substr(start, request.find(' ', start) - start);
    }

    common::Listener listener_ = common::listen_tcp();
    common::StopSignal stop_;
    std::mutex mutex_;
    std::vector<std::string> requested_;
    std::thread thread_;  // last: starts once the rest exists
};

TEST(Crawl, APageSlowerThanTheTimeoutIsCountedAsTimedOutAndTheFastOnesAreFetched) {
    OneSlowPageSite site;
    ch06::CrawlOptions options;
    // The slow page never answers, so the test lasts this long. Fast pages
    // answer in well under a millisecond on loopback: a second leaves a wide
    // margin for a loaded machine or a sanitizer build.
    options.timeout = 1000ms;
    const ch06::CrawlReport report = ch06::crawl(site.root(), options);
    std::map<std::string, ch06::PageResult> by_path;
    for (const ch06::PageResult& page : report.pages) {
        by_path[http::parse_url(page.url)->path] = page;
    }
    ASSERT_EQ(by_path.size(), 4u);
    EXPECT_EQ(by_path["/slow"].error, "timed out after 1000 ms");
    for (const char* fast : {"/", "/fast/1", "/fast/2"}) {
        EXPECT_EQ(by_path[fast].status, 200) << fast;
        EXPECT_TRUE(by_path[fast].error.empty()) << fast << ": " << by_path[fast].error;
    }
    EXPECT_EQ(report.errors, 1u);
    const std::vector<std::string> requested = site.requested();
    EXPECT_EQ(std::set<std::string>(requested.begin(), requested.end()),
              (std::set<std::string>{"/", "/fast/1", "/fast/2", "/slow"}));
    EXPECT_EQ(requested.size(), 4u) << "each page is fetched once";
}

TEST(Crawl, WithADelayTheSiteSeesManyConnectionsAtOnceAndTheBoundHolds) {
    const TestSite site({.pages = 40, .delay = 10ms});
    ch06::CrawlOptions options;
    options.concurrency = 4;
    const ch06::CrawlReport report = ch06::crawl(root_of(site), options);
    EXPECT_EQ(fetched_paths(report), site.reachable_paths());
    EXPECT_GT(site.stats().max_open_connections, 1u);
    EXPECT_LE(site.stats().max_open_connections, 4u);
}

TEST(Crawl, LeavesNoDescriptorOpen) {
    const TestSite site({.pages = 40, .misbehave = {{"/page/3", Misbehaviour::close_mid_body}}});
    const std::size_t before = common::open_fd_count();
    ch06::crawl(root_of(site), {});
    EXPECT_EQ(common::open_fd_count(), before);
}

TEST(Crawl, ARefusedRootIsAnErrorNotACrash) {
    std::uint16_t port;
    {
        const common::Listener closed = common::listen_tcp();
        port = closed.port;
    }
    const ch06::CrawlReport report = ch06::crawl(http::Url{"127.0.0.1", port, "/"}, {});
    ASSERT_EQ(report.pages.size(), 1u);
    EXPECT_NE(report.pages[0].error.find("refused"), std::string::npos) << report.pages[0].error;
}

}  // namespace
