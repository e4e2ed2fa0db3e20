#include "common/http_site.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <deque>
#include <set>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/http.hpp"
#include "common/net.hpp"

namespace {

using namespace std::chrono_literals;
using common::Misbehaviour;
using common::TestSite;
namespace http = common::http;

// A blocking client whose reads give up after a minute: a guard that turns a
// site that never answers into a failed test instead of a hung one.
common::Fd connect_to(const TestSite& site) {
    common::Fd fd = common::connect_blocking("127.0.0.1", site.port());
    const timeval guard{60, 0};
    EXPECT_EQ(::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof guard), 0);
    return fd;
}

void send_all(int fd, const std::string& data) {
    ASSERT_EQ(::send(fd, data.data(), data.size(), MSG_NOSIGNAL), static_cast<ssize_t>(data.size()));
}

void send_request(int fd, const TestSite& site, const std::string& path) {
    send_all(fd, http::get_request(http::Url{"127.0.0.1", site.port(), path}));
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

// Reads until the response is complete by its Content-Length (or EOF).
std::string read_response(int fd) {
    std::string raw;
    char buffer[4096];
    while (!http::response_complete(raw)) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) {
            break;
        }
        raw.append(buffer, static_cast<std::size_t>(n));
    }
    return raw;
}

std::string fetch(const TestSite& site, const std::string& path) {
    const common::Fd fd = connect_to(site);
    send_request(fd.get(), site, path);
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

TEST(TestSite, AResetPageResetsTheConnectionAfterReadingTheRequest) {
    TestSite site({.pages = 10, .misbehave = {{"/page/5", Misbehaviour::reset}}});
    const common::Fd fd = connect_to(site);
    send_request(fd.get(), site, "/page/5");
    char byte;
    const ssize_t n = ::recv(fd.get(), &byte, 1, 0);
    const int error = errno;
    EXPECT_EQ(n, -1);
    EXPECT_EQ(error, ECONNRESET);
    EXPECT_EQ(site.stats().requests_by_path.at("/page/5"), 1u) << "the request was read first";
}

TEST(TestSite, AKeepOpenPageSendsAWholeResponseAndWaitsForTheClientToClose) {
    TestSite site({.pages = 10, .misbehave = {{"/page/6", Misbehaviour::keep_open}}});
    const common::Fd fd = connect_to(site);
    send_request(fd.get(), site, "/page/6");
    const http::Response r = http::parse_response(read_response(fd.get()));
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("Page 6"), std::string::npos);
    // Still open: nothing to read, and no EOF.
    char byte;
    const ssize_t n = ::recv(fd.get(), &byte, 1, MSG_DONTWAIT);
    const int error = errno;
    EXPECT_EQ(n, -1);
    EXPECT_TRUE(common::would_block(error)) << error;
    // Once the client is done sending, the site closes its end.
    ASSERT_EQ(::shutdown(fd.get(), SHUT_WR), 0);
    EXPECT_EQ(::recv(fd.get(), &byte, 1, 0), 0);
}

TEST(TestSite, AnEndlessBodyGoesPastTheResponseLimit) {
    TestSite site({.pages = 10, .misbehave = {{"/page/7", Misbehaviour::endless_body}}});
    const common::Fd fd = connect_to(site);
    send_request(fd.get(), site, "/page/7");
    const std::string raw = read_response(fd.get());
    EXPECT_GT(raw.size(), http::kMaxResponseBytes) << "the site stopped sending";
    EXPECT_THROW(http::parse_response(raw), http::ProtocolError);
}

TEST(TestSite, HeldResponsesWaitUntilTwentyConnectionsAreOpen) {
    TestSite site({.pages = 10, .delay = 5ms, .hold_until_open = 20});
    std::vector<common::Fd> clients;
    for (int i = 0; i < 20; ++i) {
        clients.push_back(connect_to(site));
        send_request(clients.back().get(), site, "/page/1");
    }
    for (const common::Fd& c : clients) {
        EXPECT_EQ(http::parse_response(read_to_eof(c.get())).status, 200);
    }
    // The first answer waited for the twentieth connection: exactly 20 were
    // open together, whatever the timing.
    EXPECT_EQ(site.stats().max_open_connections, 20u);
}

TEST(TestSite, TheRootIsNeverHeld) {
    // A crawler learns of the other pages from the root: holding it would
    // leave the crawler nothing to open connections for.
    TestSite site({.pages = 10, .hold_until_open = 5});
    EXPECT_EQ(http::parse_response(fetch(site, "/")).status, 200);
    EXPECT_EQ(site.stats().max_open_connections, 1u);
}

TEST(TestSite, ServesFiveHundredConnectionsOpenAtOnce) {
    common::raise_fd_limit();
    TestSite site({.pages = 5, .hold_until_open = 500});
    std::vector<common::Fd> clients;
    for (int i = 0; i < 500; ++i) {
        clients.push_back(connect_to(site));
        send_request(clients.back().get(), site, "/page/1");
    }
    std::size_t ok = 0;
    for (const common::Fd& c : clients) {
        ok += http::parse_response(read_to_eof(c.get())).status == 200 ? 1 : 0;
    }
    EXPECT_EQ(ok, 500u);
    EXPECT_EQ(site.stats().requests, 500u);
    EXPECT_EQ(site.stats().max_open_connections, 500u);
}

TEST(TestSite, GarbageRequestsGet400AndTheSiteKeepsServing) {
    TestSite site({.pages = 3});
    {
        const common::Fd fd = connect_to(site);
        send_all(fd.get(), "BREW /pot HTCPCP/1.0\r\n\r\n");
        EXPECT_EQ(http::parse_response(read_to_eof(fd.get())).status, 400);
    }
    {
        common::Fd fd = connect_to(site);
        common::reset_connection(std::move(fd));
    }
    EXPECT_EQ(http::parse_response(fetch(site, "/")).status, 200);
}

TEST(TestSite, LeavesNoDescriptorOpen) {
    const std::size_t before = common::open_fd_count();
    {
        common::Fd client;
        {
            TestSite site({.pages = 5, .misbehave = {{"/page/1", Misbehaviour::keep_open}}});
            fetch(site, "/");
            client = connect_to(site);
            send_request(client.get(), site, "/page/1");
            EXPECT_EQ(http::parse_response(read_response(client.get())).status, 200);
        }  // the site stops with that keep_open connection still open: it closes it
    }
    EXPECT_EQ(common::open_fd_count(), before);
}

}  // namespace
