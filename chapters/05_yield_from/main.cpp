// main.cpp: the 05_yield_from executable.
//
//   05_yield_from                 a demo: a chain of coroutines, the crawler, the echo server
//   05_yield_from crawl [URL] [--max-pages N] [--concurrency K] [--delay-ms D]
//   05_yield_from echo-server [--host H] [--port N]
#include <chrono>
#include <iomanip>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "chapters/05_yield_from/crawler.hpp"
#include "chapters/05_yield_from/echo_server.hpp"
#include "chapters/05_yield_from/io.hpp"
#include "common/cli.hpp"
#include "common/echo_load.hpp"
#include "common/http_site.hpp"
#include "common/net.hpp"

namespace {

namespace http = common::http;

constexpr std::string_view kUsage = R"(usage: 05_yield_from [COMMAND] [FLAGS]

Coroutines that await coroutines (Python's `yield from`): a crawler built
from connect, write_all and read_response, and an echo server built from read
and write_all, on chapter 02's select() loop.

commands:
  (none)        run a demo: the outer/phase1/phase2 chain, a crawl, 50 echo clients
  crawl         crawl URL (http://127.0.0.1:PORT/...) or, with no URL, the embedded site
                --max-pages N     fetch at most N pages (default 100000)
                --concurrency K   at most K fetches at once; 0: no bound (default: no bound on
                                  the embedded site, 20 for a URL: python3 -m http.server
                                  resets connections beyond its listen backlog of 5)
                                  K is at most 900; select() watches descriptors below 1024
                                  only, so a fetch that gets a higher one waits for another
                                  to finish (the embedded site, in this process, holds the
                                  other end of each connection: two descriptors a fetch)
                --delay-ms D      the embedded site waits D ms before each response
                --pages N         pages of the embedded site (default 100)
                prints one line per URL, then "fetched N pages (E errors) in T s";
                exit 0 when the crawl ran, 1 when the root could not be fetched
  echo-server   [--host H] [--port N]: serve the echo protocol until SIGINT or SIGTERM;
                the first line printed is "listening on HOST:PORT"
  --help        this text
)";

void print_page(const ch05::PageResult& page) {
    if (page.error.empty()) {
        std::cout << page.status << " " << page.url << "\n";
    } else {
        std::cout << "ERR " << page.url << ": " << page.error << "\n";
    }
}

void print_summary(const ch05::CrawlReport& report) {
    std::cout << "fetched " << report.pages.size() << " pages (" << report.errors << " errors) in "
              << std::fixed << std::setprecision(3) << report.seconds << " s" << std::endl;
}

int crawl(const common::Args& args) {
    ch05::CrawlOptions options;
    options.max_pages = static_cast<std::size_t>(args.int_or("max-pages", 100'000, 1, 10'000'000));
    options.concurrency = static_cast<std::size_t>(
        args.int_or("concurrency", args.positionals().empty() ? 0 : http::kUrlCrawlConcurrency, 0,
                    static_cast<std::int64_t>(ch05::max_concurrency)));
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
    const ch05::CrawlReport report = ch05::crawl(root, options, print_page);
    print_summary(report);
    // The root is the first page to complete: until it does, it is the only URL known.
    return report.pages.empty() || !report.pages.front().error.empty() ? 1 : 0;
}

int echo_server(const common::Args& args) {
    const std::string host = args.string_or("host", "127.0.0.1");
    const auto port = static_cast<std::uint16_t>(args.int_or("port", 0, 0, 65535));
    common::ignore_sigpipe();
    common::StopSignal stop;
    common::notify_on_termination_signals(stop);
    const common::Listener listener = common::listen_tcp(host, port);
    std::cout << "listening on " << listener.host << ":" << listener.port << std::endl;
    ch05::serve_echo(listener.fd.get(), stop);
    std::cout << "stopped" << std::endl;
    return 0;
}

// The chain of the source texts: outer awaits phase1, then phase2 with
// phase1's result. Each prints when it starts and what it returns.
ch05::Coro<std::string> phase1() {
    std::cout << "  phase1 starts\n";
    co_return "result1";
}

ch05::Coro<std::string> phase2(std::string argument) {
    std::cout << "  phase2 starts with \"" << argument << "\"\n";
    co_return "result2 (derived from " + argument + ")";
}

ch05::Coro<std::string> outer() {
    std::cout << "  outer starts, awaits phase1\n";
    const std::string result1 = co_await phase1();
    std::cout << "  outer got \"" << result1 << "\", awaits phase2\n";
    const std::string result2 = co_await phase2(result1);
    std::cout << "  outer got \"" << result2 << "\" and returns\n";
    co_return result1 + " + " + result2;
}

int demo() {
    common::ignore_sigpipe();
    {
        std::cout << "== a chain of coroutines: outer awaits phase1, then phase2\n";
        ch05::Io io;
        const std::string value = ch05::run_until_complete(io, outer());
        std::cout << "  run_until_complete returned \"" << value << "\"\n\n";
    }
    {
        const common::TestSite site({.pages = 60, .delay = std::chrono::milliseconds(20)});
        std::cout << "== crawl: fetch = connect, write_all, read_response (60 pages, 20 ms delay)\n";
        const ch05::CrawlReport report =
            ch05::crawl(*http::parse_url(site.root_url()), {}, print_page);
        print_summary(report);
        std::cout << "The site held up to " << site.stats().max_open_connections
                  << " connections at once.\n\n";
    }
    std::cout << "== echo: read and write_all awaited in a loop, one task per connection\n";
    const common::Listener listener = common::listen_tcp();
    common::StopSignal stop;
    ch05::EchoStats stats;
    std::thread server([&] { ch05::serve_echo(listener.fd.get(), stop, {.stats = &stats}); });
    const common::EchoLoadResult r = common::run_echo_load(
        {.port = listener.port, .connections = 50, .message_size = 1000}, 200);
    stop.notify();
    server.join();
    std::cout << "50 clients x 200 round trips: " << r.messages << " messages echoed intact, "
              << r.errors.size() << " errors; server accepted " << stats.accepted << " and closed "
              << stats.closed << "\n\n"
              << "Look at: the chain's order (each coroutine runs when awaited and hands its\n"
                 "value back to the one that awaited it), and fetch() as three awaits.\n";
    return r.ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    return common::run_main(argc, argv, "05_yield_from", kUsage, [](std::vector<std::string> args) {
        if (args.empty()) {
            return demo();
        }
        const std::string command = args.front();
        const std::vector<std::string> rest(args.begin() + 1, args.end());
        if (command == "crawl") {
            return crawl(common::Args::parse(
                rest, {{"max-pages"}, {"concurrency"}, {"delay-ms"}, {"pages"}}, 1));
        }
        if (command == "echo-server") {
            return echo_server(common::Args::parse(rest, {{"host"}, {"port"}}));
        }
        throw common::UsageError("unknown command '" + command + "'");
    });
}
