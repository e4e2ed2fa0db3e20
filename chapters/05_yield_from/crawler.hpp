// crawler.hpp: chapter 05's crawler, composed from small awaitable pieces.
//
// Same interface as chapter 04's; inside, fetch() is now connect, write_all
// and read_all awaited in turn (net.hpp), and each page is a task.
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

CrawlReport crawl(const common::http::Url& root, const CrawlOptions& options,
                  PageCallback on_page = {});

// The limit select() puts on concurrency: each fetch holds one descriptor.
inline constexpr std::size_t max_concurrency = 900;

}  // namespace ch05
