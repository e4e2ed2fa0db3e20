#include "common/http_site.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <deque>
#include <set>
#include <string>
#include <vector>

#include "common/http.hpp"
#include "common/net.hpp"

namespace {

using namespace std::chrono_literals;
using common::Misbehaviour;
using common::TestSite;
namespace http = common::http;

void send_all(int fd, const std::string& data) {
    ASSERT_EQ(::send(fd, data.data(), data.size(), MSG_NOSIGNAL), static_cast<ssize_t>(data.size()));
}

std::string read_to_eof(int fd) {
    std::string raw;
    char buffer[4096];
    ssize_t n;
    while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) {
        raw.append(buffer, static_cast<std::size_t>(n));
    }
    return raw;
}

std::string fetch(const TestSite& site, const std::string& path) {
    common::Fd fd = common::connect_blocking("127.0.0.1", site.port());
    send_all(fd.get(), http::get_request(http::Url{"127.0.0.1", site.port(), path}));
    return read_to_eof(fd.get());
}

TEST(TestSite, ServesTheRootWithLinks) {
    TestSite site({.pages = 10});
    const http::Response r = http::parse_response(fetch(site, "/"));
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(http::extract_links(*http::parse_url(site.root_url()), r.body).empty());
}

TEST(TestSite, AnUnknownPathIs404) {
    TestSite site({.pages = 10});
    EXPECT_EQ(http::parse_response(fetch(site, "/missing/1")).status, 404);
    EXPECT_EQ(http::parse_response(fetch(site, "/page/10")).status, 404);  // pages are 0..9
}

TEST(TestSite, ABreadthFirstCrawlVisitsExactlyTheReachablePaths) {
    TestSite site({.pages = 40});
    std::set<std::string> seen{"/"};
    std::deque<http::Url> queue{*http::parse_url(site.root_url())};
    std::size_t ok = 0;
    while (!queue.empty()) {
        const http::Url u = queue.front();
        queue.pop_front();
        const http::Response r = http::parse_response(fetch(site, u.path));
        ok += r.status == 200 ? 1 : 0;
        for (const http::Url& link : http::extract_links(u, r.body)) {
            if (seen.insert(link.path).second) {
                queue.push_back(link);
            }
        }
    }
    EXPECT_EQ(seen, site.reachable_paths());
    EXPECT_EQ(ok, site.page_paths().size());
    EXPECT_EQ(site.stats().requests, seen.size());
}

TEST(TestSite, EachMisbehaviourGivesItsFailure) {
    TestSite site({.pages = 10,
                   .misbehave = {{"/page/1", Misbehaviour::not_found},
                                 {"/page/2", Misbehaviour::malformed_status},
                                 {"/page/3", Misbehaviour::close_mid_body},
                                 {"/page/4", Misbehaviour::trickle}}});
    EXPECT_EQ(http::parse_response(fetch(site, "/page/1")).status, 404);
    EXPECT_THROW(http::parse_response(fetch(site, "/page/2")), http::ProtocolError);
    EXPECT_THROW(http::parse_response(fetch(site, "/page/3")), http::ProtocolError);
    // Trickled one byte per write, it is still a complete, correct page.
    const http::Response trickled = http::parse_response(fetch(site, "/page/4"));
    EXPECT_EQ(trickled.status, 200);
    EXPECT_NE(trickled.body.find("Page 4"), std::string::npos);
}

TEST(TestSite, WithADelayItHoldsManyConnectionsOpenAtOnce) {
    TestSite site({.pages = 10, .delay = 50ms});
    std::vector<common::Fd> clients;
    for (int i = 0; i < 20; ++i) {
        clients.push_back(common::connect_blocking("127.0.0.1", site.port()));
        send_all(clients.back().get(), http::get_request(http::Url{"127.0.0.1", site.port(), "/"}));
    }
    for (const common::Fd& c : clients) {
        EXPECT_EQ(http::parse_response(read_to_eof(c.get())).status, 200);
    }
    // The site answers only after the delay, and all 20 requests were sent
    // before the first answer was read: at some point it held all 20.
    EXPECT_EQ(site.stats().max_open_connections, 20u);
}

TEST(TestSite, ServesFiveHundredConnectionsAtOnce) {
    common::raise_fd_limit();
    TestSite site({.pages = 5});
    std::vector<common::Fd> clients;
    for (int i = 0; i < 500; ++i) {
        clients.push_back(common::connect_blocking("127.0.0.1", site.port()));
    }
    for (const common::Fd& c : clients) {
        send_all(c.get(), http::get_request(http::Url{"127.0.0.1", site.port(), "/page/1"}));
    }
    std::size_t ok = 0;
    for (const common::Fd& c : clients) {
        ok += http::parse_response(read_to_eof(c.get())).status == 200 ? 1 : 0;
    }
    EXPECT_EQ(ok, 500u);
    EXPECT_EQ(site.stats().requests, 500u);
}

TEST(TestSite, GarbageRequestsGet400AndTheSiteKeepsServing) {
    TestSite site({.pages = 3});
    {
        common::Fd fd = common::connect_blocking("127.0.0.1", site.port());
        send_all(fd.get(), "BREW /pot HTCPCP/1.0\r\n\r\n");
        EXPECT_EQ(http::parse_response(read_to_eof(fd.get())).status, 400);
    }
    {
        common::Fd fd = common::connect_blocking("127.0.0.1", site.port());
        common::reset_connection(std::move(fd));
    }
    EXPECT_EQ(http::parse_response(fetch(site, "/")).status, 200);
}

TEST(TestSite, LeavesNoDescriptorOpen) {
    const std::size_t before = common::open_fd_count();
    {
        TestSite site({.pages = 5});
        fetch(site, "/");
    }
    EXPECT_EQ(common::open_fd_count(), before);
}

}  // namespace
