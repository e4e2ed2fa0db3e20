// crawler.hpp: chapter 06's crawler: composed coroutines on the asyncio-shaped loop.
//
// Chapter 05's pieces (connect, write_all, read_all, fetch) with a deadline
// per fetch: a page that takes longer than `timeout` is abandoned and counted
// as "timed out". epoll instead of select: no 1024-descriptor cap.
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

CrawlReport crawl(const common::http::Url& root, const CrawlOptions& options,
                  PageCallback on_page = {});

// Each fetch holds one descriptor; epoll has no cap of its own.
inline constexpr std::size_t max_concurrency = 100'000;

}  // namespace ch06
