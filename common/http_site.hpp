// http_site.hpp: a loopback HTTP/1.0 site to crawl, for demos, tests and benchmarks.
//
// A deterministic site of N pages that link to each other, plus a few links
// that leave the site and a few to pages that do not exist. It runs its own
// epoll loop on a background thread (it is a fixture, not a lesson), serves
// hundreds of connections at once, can delay every response so that
// concurrency becomes visible, can hold its responses until a number of
// connections is open (so a test sees concurrency without counting on timing),
// and can be told to misbehave on chosen paths. It counts what it saw, so
// tests can assert on behaviour, not on timing.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace common {

enum class Misbehaviour {
    not_found,         // 404 with a small body
    malformed_status,  // a status line that is not HTTP
    close_mid_body,    // Content-Length larger than the bytes sent, then close
    trickle,           // a correct response, sent one byte per write
    reset,             // reads the request, then resets the connection (the client sees ECONNRESET)
    keep_open,         // a correct response with Content-Length, then the connection stays
                       // open until the client closes it: only Content-Length ends the read
    endless_body,      // a 200 with no Content-Length and a body that never ends
};

struct SiteOptions {
    std::size_t pages = 50;                  // pages "/", "/page/1" .. "/page/{pages-1}"
    std::chrono::milliseconds delay{0};      // before each response is sent
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;                  // 0: pick a free port
    std::map<std::string, Misbehaviour> misbehave;  // path -> how to answer it
    // When not 0, every response except the root's waits until this many
    // connections have been open at the same time; from then on nothing
    // waits (but for `delay`). A test can then see connections open together
    // without counting on timing; a client that never opens that many hangs.
    // The root answers at once: until it has, a crawler knows no other URL.
    std::size_t hold_until_open = 0;
};

struct SiteStats {
    std::size_t requests = 0;               // complete requests received
    std::size_t connections = 0;            // connections accepted
    std::size_t max_open_connections = 0;   // most connections open at one time
    std::size_t open_connections = 0;       // open now
    std::map<std::string, std::size_t> requests_by_path;
};

class TestSite {
public:
    explicit TestSite(SiteOptions options = {});  // listening when it returns
    ~TestSite();                                   // stops the thread, closes everything
    TestSite(const TestSite&) = delete;
    TestSite& operator=(const TestSite&) = delete;

    [[nodiscard]] std::uint16_t port() const;
    [[nodiscard]] std::string root_url() const;  // "http://127.0.0.1:PORT/"

    // Paths a correct crawler starting at "/" fetches, exactly once each:
    // every page, and every same-site link that leads nowhere (404).
    [[nodiscard]] std::set<std::string> reachable_paths() const;
    // The subset that answers 200 when nothing misbehaves.
    [[nodiscard]] std::set<std::string> page_paths() const;

    [[nodiscard]] SiteStats stats() const;  // a consistent snapshot

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace common
