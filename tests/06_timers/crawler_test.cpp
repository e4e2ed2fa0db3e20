#include "chapters/06_timers/crawler.hpp"

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

TEST(Crawl, APageSlowerThanTheTimeoutIsCountedAsTimedOut) {
    const TestSite site({.pages = 5, .delay = 2s});
    ch06::CrawlOptions options;
    options.timeout = 50ms;
    const ch06::CrawlReport report = ch06::crawl(root_of(site), options);
    ASSERT_EQ(report.pages.size(), 1u);  // the root timed out: no links to follow
    EXPECT_EQ(report.pages[0].error, "timed out after 50 ms");
    EXPECT_EQ(report.errors, 1u);
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
