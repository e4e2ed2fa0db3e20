// main.cpp: the 03_future executable.
//
//   03_future                 a demo: the embedded site, sequential vs concurrent
//   03_future crawl [URL] [--max-pages N] [--concurrency K] [--delay-ms D] [--sequential]
#include <chrono>
#include <iomanip>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "chapters/03_future/crawler.hpp"
#include "common/cli.hpp"
#include "common/http_site.hpp"
#include "common/net.hpp"

namespace {

namespace http = common::http;

constexpr std::string_view kUsage = R"(usage: 03_future [crawl [URL] [FLAGS]]

A web crawler whose fetches are coroutines that yield futures, stepped by
hand from the futures' callbacks, on chapter 02's select() loop.

commands:
  (none)   run a demo: crawl the embedded test site sequentially, then concurrently
  crawl    crawl URL (http://127.0.0.1:PORT/...) or, with no URL, the embedded site
           --max-pages N     fetch at most N pages (default 100000)
           --concurrency K   at most K fetches at once; 0: no bound (default: no bound on
                             the embedded site, 20 for a URL: python3 -m http.server
                             resets connections beyond its listen backlog of 5)
                             K is at most 900; select() watches descriptors below 1024
                             only, so a fetch that gets a higher one waits for another
                             to finish (the embedded site, in this process, holds the
                             other end of each connection: two descriptors a fetch)
           --delay-ms D      the embedded site waits D ms before each response (default 0)
           --pages N         pages of the embedded site (default 100)
           --sequential      blocking sockets, one page at a time: the baseline
           prints one line per URL, then "fetched N pages (E errors) in T s";
           exit 0 when the crawl ran, 1 when the root could not be fetched
  --help   this text
)";

void print_page(const ch03::PageResult& page) {
    if (page.error.empty()) {
        std::cout << page.status << " " << page.url << "\n";
    } else {
        std::cout << "ERR " << page.url << ": " << page.error << "\n";
    }
}

void print_summary(const ch03::CrawlReport& report) {
    std::cout << "fetched " << report.pages.size() << " pages (" << report.errors << " errors) in "
              << std::fixed << std::setprecision(3) << report.seconds << " s" << std::endl;
}

int crawl(const common::Args& args) {
    ch03::CrawlOptions options;
    options.max_pages = static_cast<std::size_t>(args.int_or("max-pages", 100'000, 1, 10'000'000));
    options.concurrency = static_cast<std::size_t>(
        args.int_or("concurrency", args.positionals().empty() ? 0 : http::kUrlCrawlConcurrency, 0,
                    static_cast<std::int64_t>(ch03::max_concurrency)));
    const auto delay = std::chrono::milliseconds(args.int_or("delay-ms", 0, 0, 60'000));
    const auto pages = static_cast<std::size_t>(args.int_or("pages", 100, 1, 100'000));
    common::ignore_sigpipe();

    std::optional<common::TestSite> site;
    http::Url root;
    if (args.positionals().empty()) {
        site.emplace(common::SiteOptions{.pages = pages, .delay = delay});
        root = *http::parse_url(site->root_url());
        std::cout << "crawling the embedded test site at " << site->root_url() << std::endl;
    } else {
        const std::optional<http::Url> url = http::parse_url(args.positionals().front());
        if (!url) {
            throw common::UsageError("not an http:// URL: '" + args.positionals().front() + "'");
        }
        root = *url;
    }
    const ch03::CrawlReport report = args.has("sequential")
                                         ? ch03::crawl_sequential(root, options, print_page)
                                         : ch03::crawl(root, options, print_page);
    print_summary(report);
    // The root is always the first page to complete: until it does, it is
    // the only URL the crawler knows.
    const bool root_failed = report.pages.empty() || !report.pages.front().error.empty();
    return root_failed ? 1 : 0;
}

int demo() {
    common::ignore_sigpipe();
    const common::TestSite site({.pages = 60, .delay = std::chrono::milliseconds(20)});
    const http::Url root = *http::parse_url(site.root_url());
    std::cout << "The embedded test site: 60 pages that link to each other, a few links to\n"
                 "missing pages, and a 20 ms delay before every response.\n\n";
    std::cout << "== sequential (blocking sockets, one page at a time)\n";
    const ch03::CrawlReport sequential = ch03::crawl_sequential(root, {});
    print_summary(sequential);
    std::cout << "\n== concurrent (futures and callbacks on one select() loop)\n";
    const ch03::CrawlReport concurrent = ch03::crawl(root, {}, print_page);
    print_summary(concurrent);
    std::cout << "\nThe site held up to " << site.stats().max_open_connections
              << " connections open at once.\n"
                 "Look at: the same pages (missing pages are the errors), fetched in a\n"
                 "different order and in a fraction of the time, on one thread: while one\n"
                 "fetch waits for its 20 ms, the others run.\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return common::run_main(argc, argv, "03_future", kUsage, [](std::vector<std::string> args) {
        if (args.empty()) {
            return demo();
        }
        const std::string command = args.front();
        const std::vector<std::string> rest(args.begin() + 1, args.end());
        if (command == "crawl") {
            return crawl(common::Args::parse(
                rest,
                {{"max-pages"}, {"concurrency"}, {"delay-ms"}, {"pages"}, {"sequential", false}},
                1));
        }
        throw common::UsageError("unknown command '" + command + "'");
    });
}
