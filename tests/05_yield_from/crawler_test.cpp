#include "chapters/05_yield_from/crawler.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

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

ch05::CrawlReport run(const http::Url& root, const ch05::CrawlOptions& options = {}) {
    return ch05::crawl(root, options);
}

TEST(Crawl, FetchesExactlyTheReachablePagesOnceEach) {
    const TestSite site({.pages = 50});
    const ch05::CrawlReport report = run(root_of(site));
    EXPECT_EQ(fetched_paths(report), site.reachable_paths());
    EXPECT_EQ(report.pages.size(), site.reachable_paths().size());
    for (const auto& [path, count] : site.stats().requests_by_path) {
        EXPECT_EQ(count, 1u) << path << " was requested more than once";
    }
    // Only the links to missing pages fail.
    EXPECT_EQ(report.errors, site.reachable_paths().size() - site.page_paths().size());
}

TEST(Crawl, MisbehavingPagesAreErrorsAndEverythingElseIsFetched) {
    const TestSite site({.pages = 30,
                         .misbehave = {{"/page/4", Misbehaviour::not_found},
                                       {"/page/9", Misbehaviour::malformed_status},
                                       {"/page/14", Misbehaviour::close_mid_body},
                                       {"/page/19", Misbehaviour::trickle}}});
    const ch05::CrawlReport report = run(root_of(site));
    std::map<std::string, ch05::PageResult> by_path;
    for (const ch05::PageResult& page : report.pages) {
        by_path[http::parse_url(page.url)->path] = page;
    }
    EXPECT_EQ(by_path["/page/4"].status, 404);
    EXPECT_NE(by_path["/page/9"].error.find("malformed status line"), std::string::npos);
    EXPECT_NE(by_path["/page/14"].error.find("truncated body"), std::string::npos);
    EXPECT_TRUE(by_path["/page/19"].error.empty()) << "a trickled page is slow, not broken";
    EXPECT_EQ(by_path["/page/19"].status, 200);
    // Every page of the site is still reached, around the broken ones.
    EXPECT_EQ(fetched_paths(report), site.reachable_paths());
    EXPECT_EQ(report.errors, 3u + (site.reachable_paths().size() - site.page_paths().size()));
}

TEST(Crawl, MaxPagesCapsTheFetches) {
    const TestSite site({.pages = 50});
    ch05::CrawlOptions options;
    options.max_pages = 10;
    EXPECT_EQ(run(root_of(site), options).pages.size(), 10u);
    EXPECT_EQ(site.stats().requests, 10u);
}

TEST(Crawl, ARefusedRootIsAnErrorNotACrash) {
    std::uint16_t port;
    {
        const common::Listener closed = common::listen_tcp();
        port = closed.port;
    }
    const ch05::CrawlReport report = run(http::Url{"127.0.0.1", port, "/"});
    ASSERT_EQ(report.pages.size(), 1u);
    EXPECT_FALSE(report.pages.front().error.empty());
    EXPECT_EQ(report.errors, 1u);
}

TEST(Crawl, LeavesNoDescriptorOpen) {
    const TestSite site({.pages = 40, .misbehave = {{"/page/3", Misbehaviour::close_mid_body}}});
    const std::size_t before = common::open_fd_count();
    run(root_of(site));
    EXPECT_EQ(common::open_fd_count(), before);
}

TEST(ConcurrentCrawl, WithADelayTheSiteSeesManyConnectionsAtOnce) {
    const TestSite site({.pages = 40, .delay = 20ms});
    ch05::crawl(root_of(site), {});
    EXPECT_GT(site.stats().max_open_connections, 1u);
}

TEST(ConcurrentCrawl, ConcurrencyOneNeverOpensASecondConnection) {
    const TestSite site({.pages = 20, .delay = 5ms});
    ch05::CrawlOptions options;
    options.concurrency = 1;
    const ch05::CrawlReport report = ch05::crawl(root_of(site), options);
    EXPECT_EQ(fetched_paths(report), site.reachable_paths());
    EXPECT_EQ(site.stats().max_open_connections, 1u);
}

TEST(ConcurrentCrawl, TheBoundHoldsAtThree) {
    const TestSite site({.pages = 40, .delay = 5ms});
    ch05::CrawlOptions options;
    options.concurrency = 3;
    const ch05::CrawlReport report = ch05::crawl(root_of(site), options);
    EXPECT_EQ(fetched_paths(report), site.reachable_paths());
    EXPECT_LE(site.stats().max_open_connections, 3u);
    EXPECT_GT(site.stats().max_open_connections, 1u);
}

}  // namespace
