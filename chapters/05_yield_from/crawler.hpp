// crawler.hpp: chapter 05's crawler, composed from small awaitable pieces.
//
// Same interface as chapter 04's; inside, fetch() is now connect, write_all
// and read_response awaited in turn (net.hpp), and each page is a task.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "common/http.hpp"

namespace ch05 {

struct CrawlOptions {
    std::size_t max_pages = 100'000;  // stop starting fetches after this many
    std::size_t concurrency = 0;      // fetches at once; 0 = as many as there are URLs
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
// A fetch whose socket select() cannot watch (no descriptor below FD_SETSIZE
// is free) waits for another to finish, and the crawl keeps to as many fetches
// as fitted: the page is not lost. Only with no other fetch in flight, with
// nothing to free a descriptor, is it an error.
CrawlReport crawl(const common::http::Url& root, const CrawlOptions& options,
                  PageCallback on_page = {});

// The most fetches at once. Each holds a descriptor, and select() watches
// only those below FD_SETSIZE (1024); the crawl lowers its bound further when
// descriptors run out (the embedded test site, in the same process, holds the
// other end of every connection: two descriptors per fetch).
inline constexpr std::size_t max_concurrency = 900;

}  // namespace ch05
