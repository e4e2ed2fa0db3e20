#include "chapters/04_task/crawler.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/select.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "common/http_site.hpp"
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
using testing_support::DescriptorSqueeze;

ch04::CrawlReport run(const http::Url& root, const ch04::CrawlOptions& options = {}) {
    return ch04::crawl(root, options);
}

TEST(Crawl, FetchesExactlyTheReachablePagesOnceEach) {
    const TestSite site({.pages = 50});
    const ch04::CrawlReport report = run(root_of(site));
    EXPECT_EQ(fetched_paths(report), site.reachable_paths());
    EXPECT_EQ(report.pages.size(), site.reachable_paths().size());
    for (const auto& [path, count] : site.stats().requests_by_path) {
        EXPECT_EQ(count, 1u) << path << " was requested more than once";
    }
    // Only the links to missing pages fail.
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
    const HangGuard guard;  // a crawler that reads keep_open or endless_body to EOF never ends
    const ch04::CrawlReport report = run(root_of(site));
    std::map<std::string, ch04::PageResult> by_path;
    for (const ch04::PageResult& page : report.pages) {
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

TEST(Crawl, MaxPagesCapsTheFetches) {
    const TestSite site({.pages = 50});
    ch04::CrawlOptions options;
    options.max_pages = 10;
    EXPECT_EQ(run(root_of(site), options).pages.size(), 10u);
    EXPECT_EQ(site.stats().requests, 10u);
}

TEST(Crawl, ARefusedRootIsAnErrorNotACrash) {
    const RefusingPort refusing;
    const ch04::CrawlReport report = run(http::Url{"127.0.0.1", refusing.port, "/"});
    ASSERT_EQ(report.pages.size(), 1u);
    EXPECT_NE(report.pages.front().error.find("refused"), std::string::npos) << report.pages.front().error;
    EXPECT_EQ(report.errors, 1u);
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
        run(root_of(site));
    }
    EXPECT_EQ(common::open_fd_count(), before);
}

TEST(Crawl, AnExceptionFromOnPageComesOutOfTheCrawl) {
    const TestSite site({.pages = 50});
    int calls = 0;
    const auto on_page = [&](const ch04::PageResult&) {
        if (++calls == 5) {
            throw std::runtime_error("disk full");
        }
    };
    EXPECT_THROW(ch04::crawl(root_of(site), {}, on_page), std::runtime_error);
    EXPECT_EQ(calls, 5) << "no page is reported after the callback failed";
}

TEST(ConcurrentCrawl, TheSiteSeesThreeConnectionsOpenAtOnce) {
    // The root links to three URLs; the site answers none of them until all
    // three are open, so only a crawler that fetches them together ends.
    const TestSite site({.pages = 40, .hold_until_open = 3});
    const HangGuard guard;
    const ch04::CrawlReport report = ch04::crawl(root_of(site), {});
    EXPECT_EQ(fetched_paths(report), site.reachable_paths());
    EXPECT_GE(site.stats().max_open_connections, 3u);
}

TEST(ConcurrentCrawl, ConcurrencyOneNeverOpensASecondConnection) {
    const TestSite site({.pages = 20, .delay = 5ms});
    ch04::CrawlOptions options;
    options.concurrency = 1;
    const ch04::CrawlReport report = ch04::crawl(root_of(site), options);
    EXPECT_EQ(fetched_paths(report), site.reachable_paths());
    EXPECT_EQ(site.stats().max_open_connections, 1u);
}

TEST(ConcurrentCrawl, TheBoundHoldsAtThree) {
    // Held until three are open, so the crawler reaches its bound; with a
    // delay after that, an unbounded crawler would go well past it.
    const TestSite site({.pages = 40, .delay = 5ms, .hold_until_open = 3});
    const HangGuard guard;
    ch04::CrawlOptions options;
    options.concurrency = 3;
    const ch04::CrawlReport report = ch04::crawl(root_of(site), options);
    EXPECT_EQ(fetched_paths(report), site.reachable_paths());
    EXPECT_EQ(site.stats().max_open_connections, 3u);
}

TEST(ConcurrentCrawl, ABigCrawlLosesNoPageWhenDescriptorsRunOut) {
    // With the site in this process, each fetch takes two descriptors; with
    // only 100 left below FD_SETSIZE, sockets beyond it come soon. Each such
    // fetch must wait for another to finish, not fail its page.
    const TestSite site({.pages = 2000, .delay = 2ms});
    const DescriptorSqueeze squeeze(100);
    const ch04::CrawlReport report = ch04::crawl(root_of(site), {});
    EXPECT_EQ(fetched_paths(report), site.reachable_paths());
    EXPECT_EQ(report.pages.size(), site.reachable_paths().size());
    for (const auto& [path, count] : site.stats().requests_by_path) {
        EXPECT_EQ(count, 1u) << path << " was requested more than once";
    }
    EXPECT_EQ(report.errors, site.reachable_paths().size() - site.page_paths().size());
}

TEST(ConcurrentCrawl, WithTwoDescriptorsLeftPagesWaitTheirTurn) {
    // The root's three links start together: the third socket at the latest
    // is beyond what select() watches, every time.
    const TestSite site({.pages = 100});
    const DescriptorSqueeze squeeze(2);
    const ch04::CrawlReport report = ch04::crawl(root_of(site), {});
    EXPECT_EQ(fetched_paths(report), site.reachable_paths());
    EXPECT_EQ(report.pages.size(), site.reachable_paths().size());
    EXPECT_EQ(report.errors, site.reachable_paths().size() - site.page_paths().size());
}

}  // namespace
