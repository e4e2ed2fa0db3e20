#include "chapters/06_timers/crawler.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
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
using testing_support::HangGuard;
using testing_support::RefusingPort;

// Crawls `root` in a child process (squeezed_crawl.cpp) that has `leave`
// descriptors free, its limit lowered so that raising it finds no more, and
// reads back its report. The site stays in this process: only the crawler
// runs short.
ch06::CrawlReport crawl_with_descriptors_left(const http::Url& root, int leave) {
    int ends[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
        throw std::system_error(errno, std::generic_category(), "socketpair");
    }
    const common::Fd ours(ends[0]);
    common::Fd theirs(ends[1]);
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    ::posix_spawn_file_actions_adddup2(&actions, theirs.get(), 1);  // stderr stays the test's
    std::string program = CH06_SQUEEZED_CRAWL;
    std::string url = http::to_string(root);
    std::string left = std::to_string(leave);
    char* argv[] = {program.data(), url.data(), left.data(), nullptr};
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv, environ);
    ::posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        throw std::system_error(rc, std::generic_category(), "posix_spawn " + program);
    }
    theirs = common::Fd();  // EOF comes when the child's copy closes
    const std::optional<std::string> out = testing_support::read_to_eof(ours.get());  // bounded by hang_guard
    if (!out) {
        ::kill(pid, SIGKILL);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the crawl's process failed: " << status;
    ch06::CrawlReport report;
    std::istringstream lines(out.value_or(""));
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string kind;
        fields >> kind;
        if (kind == "errors") {
            fields >> report.errors;
        } else if (kind == "page") {
            ch06::PageResult page;
            fields >> page.status >> page.url;
            fields.get();  // the space before the error
            std::getline(fields, page.error);
            report.pages.push_back(page);
        }
    }
    return report;
}

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
    const TestSite site({.pages = 40,
                         .misbehave = {{"/page/4", Misbehaviour::not_found},
                                       {"/page/9", Misbehaviour::malformed_status},
                                       {"/page/14", Misbehaviour::close_mid_body},
                                       {"/page/19", Misbehaviour::trickle},
                                       {"/page/24", Misbehaviour::reset},
                                       {"/page/29", Misbehaviour::keep_open},
                                       {"/page/34", Misbehaviour::endless_body}}});
    // No timeout: a crawler that reads keep_open or endless_body to EOF never ends.
    const HangGuard guard;
    const ch06::CrawlReport report = ch06::crawl(root_of(site), {});
    std::map<std::string, ch06::PageResult> by_path;
    for (const ch06::PageResult& page : report.pages) {
        by_path[http::parse_url(page.url)->path] = page;
    }
    EXPECT_EQ(by_path["/page/4"].status, 404);
    EXPECT_NE(by_path["/page/9"].error.find("malformed status line"), std::string::npos);
    EXPECT_NE(by_path["/page/14"].error.find("truncated body"), std::string::npos);
    EXPECT_TRUE(by_path["/page/19"].error.empty()) << "a trickled page is slow, not broken";
    EXPECT_EQ(by_path["/page/19"].status, 200);
    EXPECT_NE(by_path["/page/24"].error.find("reset"), std::string::npos) << by_path["/page/24"].error;
    EXPECT_TRUE(by_path["/page/29"].error.empty()) << "a complete response ends the read, not EOF";
    EXPECT_EQ(by_path["/page/29"].status, 200);
    EXPECT_NE(by_path["/page/34"].error.find("larger than 8 MiB"), std::string::npos) << by_path["/page/34"].error;
    // Every page of the site is still reached, around the broken ones.
    EXPECT_EQ(fetched_paths(report), site.reachable_paths());
    EXPECT_EQ(report.errors, 5u + (site.reachable_paths().size() - site.page_paths().size()));
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

TEST(Crawl, LeavesNoDescriptorOpen) {
    const std::size_t before = common::open_fd_count();
    {
        // The site's count is in it too: a client may close before the site's
        // thread has closed the other end, so count once the site is gone.
        const TestSite site({.pages = 40,
                             .misbehave = {{"/page/3", Misbehaviour::close_mid_body},
                                           {"/page/5", Misbehaviour::keep_open},
                                           {"/page/7", Misbehaviour::reset}}});
        const HangGuard guard;
        ch06::crawl(root_of(site), {});
    }
    EXPECT_EQ(common::open_fd_count(), before);
}

TEST(Crawl, ARefusedRootIsAnErrorNotACrash) {
    const RefusingPort refusing;
    const ch06::CrawlReport report = ch06::crawl(http::Url{"127.0.0.1", refusing.port, "/"}, {});
    ASSERT_EQ(report.pages.size(), 1u);
    EXPECT_NE(report.pages[0].error.find("refused"), std::string::npos) << report.pages[0].error;
    EXPECT_EQ(report.errors, 1u);
}

TEST(Crawl, AnExceptionFromOnPageComesOutOfTheCrawl) {
    const TestSite site({.pages = 50});
    // Reported by the loop and swallowed, it would leave its page pending for good.
    const HangGuard guard;
    int calls = 0;
    const auto on_page = [&](const ch06::PageResult&) {
        if (++calls == 5) {
            throw std::runtime_error("disk full");
        }
    };
    EXPECT_THROW(ch06::crawl(root_of(site), {}, on_page), std::runtime_error);
    EXPECT_EQ(calls, 5) << "no page is reported after the callback failed";
    EXPECT_LT(site.stats().requests, site.reachable_paths().size()) << "no fetch starts after it";
}

TEST(ConcurrentCrawl, TheSiteSeesThreeConnectionsOpenAtOnce) {
    // The root links to three URLs; the site answers none of them until all
    // three are open, so only a crawler that fetches them together ends.
    const TestSite site({.pages = 40, .hold_until_open = 3});
    const HangGuard guard;
    const ch06::CrawlReport report = ch06::crawl(root_of(site), {});
    EXPECT_EQ(fetched_paths(report), site.reachable_paths());
    EXPECT_GE(site.stats().max_open_connections, 3u);
}

TEST(ConcurrentCrawl, TheBoundHoldsAtThree) {
    // Held until three are open, so the crawler reaches its bound; with a
    // delay after that, an unbounded crawler would go well past it.
    const TestSite site({.pages = 40, .delay = 5ms, .hold_until_open = 3});
    const HangGuard guard;
    ch06::CrawlOptions options;
    options.concurrency = 3;
    const ch06::CrawlReport report = ch06::crawl(root_of(site), options);
    EXPECT_EQ(fetched_paths(report), site.reachable_paths());
    EXPECT_EQ(site.stats().max_open_connections, 3u);
}

TEST(ConcurrentCrawl, ABigCrawlLosesNoPageWhenDescriptorsRunOut) {
    // epoll has no FD_SETSIZE, but a process has a descriptor limit. With 100
    // descriptors left, an unbounded crawl of 2000 pages runs out of them
    // (EMFILE): each fetch that finds none must wait for another to finish,
    // not fail its page.
    const TestSite site({.pages = 2000, .delay = 2ms});
    const HangGuard guard;
    const ch06::CrawlReport report = crawl_with_descriptors_left(root_of(site), 100);
    EXPECT_EQ(fetched_paths(report), site.reachable_paths());
    EXPECT_EQ(report.pages.size(), site.reachable_paths().size());
    for (const auto& [path, count] : site.stats().requests_by_path) {
        EXPECT_EQ(count, 1u) << path << " was requested more than once";
    }
    EXPECT_EQ(report.errors, site.reachable_paths().size() - site.page_paths().size());
}

TEST(ConcurrentCrawl, WithThreeDescriptorsLeftPagesWaitTheirTurn) {
    // The loop's epoll takes one; the root's three links start together, and
    // the third finds none, every time. The site answers none of them until
    // two are open: the crawler must keep the two it could open.
    const TestSite site({.pages = 100, .hold_until_open = 2});
    const HangGuard guard;
    const ch06::CrawlReport report = crawl_with_descriptors_left(root_of(site), 3);
    EXPECT_EQ(fetched_paths(report), site.reachable_paths());
    EXPECT_EQ(report.pages.size(), site.reachable_paths().size());
    EXPECT_EQ(report.errors, site.reachable_paths().size() - site.page_paths().size());
    EXPECT_EQ(site.stats().max_open_connections, 2u) << "two fetches fit, never a third";
}

}  // namespace
