// crawler.hpp: chapter 06's crawler: composed coroutines on the asyncio-shaped loop.
//
// Chapter 05's pieces (connect, write_all, read_response, fetch) with a
// deadline per fetch: a page that takes longer than `timeout` is abandoned and
// counted as "timed out". epoll instead of select: no 1024-descriptor cap, but
// the process's own descriptor limit (RLIMIT_NOFILE) still holds.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <functional>
#include <string>
#include <vector>

#include "common/http.hpp"

namespace ch06 {

struct CrawlOptions {
    std::size_t max_pages = 100'000;  // stop starting fetches after this many
    std::size_t concurrency = 0;      // fetches at once; 0 = as many as there are URLs
    std::optional<std::chrono::milliseconds> timeout;  // per fetch; none by default
};

struct PageResult {
    std::string url;
    int status = 0;     // 0 when no response was parsed
    std::string error;  // empty when the page was fetched with status 200
};

struct CrawlReport {
    std::vector<PageResult> pages;  // in the order they completed
    std::size_t errors = 0;
    double seconds = 0;
};

using PageCallback = std::function<void(const PageResult&)>;

// `on_page` is called once per page as it completes. If it throws, crawl()
// starts no more fetches, lets those in flight finish, and rethrows.
// A fetch that finds the process out of descriptors (EMFILE, ENFILE) waits
// for another to finish, and the crawl keeps to as many fetches as fitted:
// the page is not lost. Only with no other fetch in flight, with nothing to
// free a descriptor, is it an error. crawl() works within the descriptor limit
// it is given and does not change it: raising it is the program's decision
// (the 06_timers command does, with common::raise_fd_limit()).
CrawlReport crawl(const common::http::Url& root, const CrawlOptions& options,
                  PageCallback on_page = {});

// The most fetches at once, and the largest --concurrency. Each holds a
// descriptor; epoll has no cap of its own, so the bound that matters is the
// process's descriptor limit, which the crawl finds when it runs out.
inline constexpr std::size_t max_concurrency = 100'000;

}  // namespace ch06
