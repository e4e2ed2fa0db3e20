// main.cpp: the 06_timers executable.
//
//   06_timers
//       a demo: concurrent sleeps on a timeline, a crawl with timeouts, an echo round
//   06_timers crawl [URL] [--max-pages N] [--concurrency K] [--delay-ms D]
//                   [--timeout-ms T]
//   06_timers echo-server [--host H] [--port N] [--idle-timeout S]
//                         [--selector epoll|select]
#include <chrono>
#include <iomanip>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "chapters/06_timers/crawler.hpp"
#include "chapters/06_timers/echo_server.hpp"
#include "chapters/06_timers/task.hpp"
#include "common/cli.hpp"
#include "common/echo_load.hpp"
#include "common/http_site.hpp"
#include "common/net.hpp"

namespace {

namespace http = common::http;
using namespace std::chrono_literals;

constexpr std::string_view kUsage = R"(usage: 06_timers [COMMAND] [FLAGS]

An event loop with asyncio's rules: call_soon, call_later, sleep, timeouts,
epoll, and futures whose callbacks are scheduled rather than run inline.

commands:
  (none)        run a demo: three tasks sleeping at once, a crawl with a timeout, an echo round
  crawl         crawl URL (http://127.0.0.1:PORT/...) or, with no URL, the embedded site
                --max-pages N     fetch at most N pages (default 100000)
                --concurrency K   at most K fetches at once; 0: no bound (default: no bound on
                                  the embedded site, 20 for a URL: python3 -m http.server
                                  resets connections beyond its listen backlog of 5)
                                  K is at most 100000; the soft descriptor limit is raised to
                                  the hard one, and a fetch that finds none free waits for
                                  another to finish (the embedded site, in this process,
                                  holds the other end of each connection: two a fetch)
                --delay-ms D      the embedded site waits D ms before each response
                --pages N         pages of the embedded site (default 100)
                --timeout-ms T    abandon a fetch after T ms and count it as an error
                prints one line per URL, then "fetched N pages (E errors) in T s";
                exit 0 when the crawl ran, 1 when the root could not be fetched
  echo-server   [--host H] [--port N] [--idle-timeout S] [--selector epoll|select]
                serve the echo protocol until SIGINT or SIGTERM; the first line printed
                is "listening on HOST:PORT"; --idle-timeout closes a connection whose
                peer sends nothing, or takes none of the echo, for S seconds
  --help        this text
)";

void print_page(const ch06::PageResult& page) {
    if (page.error.empty()) {
        std::cout << page.status << " " << page.url << "\n";
    } else {
        std::cout << "ERR " << page.url << ": " << page.error << "\n";
    }
}

void print_summary(const ch06::CrawlReport& report) {
    std::cout << "fetched " << report.pages.size() << " pages (" << report.errors << " errors) in "
              << std::fixed << std::setprecision(3) << report.seconds << " s" << std::endl;
}

int crawl(const common::Args& args) {
    ch06::CrawlOptions options;
    options.max_pages = static_cast<std::size_t>(args.int_or("max-pages", 100'000, 1, 10'000'000));
    options.concurrency = static_cast<std::size_t>(
        args.int_or("concurrency", args.positionals().empty() ? 0 : http::kUrlCrawlConcurrency, 0,
                    static_cast<std::int64_t>(ch06::max_concurrency)));
    if (args.has("timeout-ms")) {
        options.timeout = std::chrono::milliseconds(args.int_or("timeout-ms", 0, 1, 3'600'000));
    }
    const auto delay = std::chrono::milliseconds(args.int_or("delay-ms", 0, 0, 60'000));
    const auto pages = static_cast<std::size_t>(args.int_or("pages", 100, 1, 100'000));
    common::ignore_sigpipe();
    // As many descriptors as the hard limit allows: epoll can watch them all.
    // A fetch that still finds none waits for another to finish.
    common::raise_fd_limit();
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
    const ch06::CrawlReport report = ch06::crawl(root, options, print_page);
    print_summary(report);
    return report.pages.empty() || !report.pages.front().error.empty() ? 1 : 0;
}

int echo_server(const common::Args& args) {
    const std::string host = args.string_or("host", "127.0.0.1");
    const auto port = static_cast<std::uint16_t>(args.int_or("port", 0, 0, 65535));
    ch06::EchoServerOptions options;
    if (args.has("idle-timeout")) {
        options.idle_timeout = std::chrono::seconds(args.int_or("idle-timeout", 0, 1, 86'400));
    }
    options.selector = args.choice_or("selector", "epoll", {"epoll", "select"}) == "select"
                           ? ch06::SelectorKind::select
                           : ch06::SelectorKind::epoll;
    common::ignore_sigpipe();
    common::StopSignal stop;
    common::notify_on_termination_signals(stop);
    const common::Listener listener = common::listen_tcp(host, port);
    std::cout << "listening on " << listener.host << ":" << listener.port << std::endl;
    ch06::serve_echo(listener.fd.get(), stop, options);
    std::cout << "stopped" << std::endl;
    return 0;
}

ch06::Coro<> sleeper(ch06::EventLoop* loop, std::string name, std::chrono::milliseconds delay,
                     ch06::TimePoint start) {
    const auto elapsed = [&] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(loop->time() - start).count();
    };
    std::cout << "  t=" << std::setw(3) << elapsed() << " ms  " << name << " goes to sleep for "
              << delay.count() << " ms\n";
    co_await loop->sleep(delay);
    std::cout << "  t=" << std::setw(3) << elapsed() << " ms  " << name << " wakes up\n";
}

ch06::Coro<> sleepers(ch06::EventLoop* loop) {
    const ch06::TimePoint start = loop->time();
    auto a = ch06::create_task(*loop, sleeper(loop, "A", 300ms, start));
    auto b = ch06::create_task(*loop, sleeper(loop, "B", 100ms, start));
    auto c = ch06::create_task(*loop, sleeper(loop, "C", 200ms, start));
    co_await *a;
    co_await *b;
    co_await *c;
}

int demo() {
    common::ignore_sigpipe();
    {
        std::cout << "== three tasks sleep at once (300, 100 and 200 ms)\n";
        ch06::EventLoop loop;
        const auto begin = std::chrono::steady_clock::now();
        ch06::run_until_complete(loop, sleepers(&loop));
        const auto total = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - begin);
        std::cout << "  total: " << total.count()
                  << " ms: the longest sleep, not the sum (600 ms)\n\n";
    }
    {
        std::cout << "== crawl with --timeout-ms 100 a site that answers after 300 ms\n";
        const common::TestSite site({.pages = 30, .delay = 300ms});
        ch06::CrawlOptions options;
        options.timeout = 100ms;
        const ch06::CrawlReport report =
            ch06::crawl(*http::parse_url(site.root_url()), options, print_page);
        print_summary(report);
        std::cout << "\n";
    }
    std::cout
        << "== echo: 1000 connections on epoll (chapter 02's select() stops at 1024 descriptors)\n";
    common::raise_fd_limit();
    const common::Listener listener = common::listen_tcp();
    common::StopSignal stop;
    ch06::EchoStats stats;
    std::thread server([&] { ch06::serve_echo(listener.fd.get(), stop, {.stats = &stats}); });
    const common::EchoLoadResult r =
        common::run_echo_load({.port = listener.port, .connections = 1000, .message_size = 64}, 20);
    stop.notify();
    server.join();
    std::cout << "  " << r.messages << " messages echoed intact over 1000 connections, "
              << r.errors.size() << " errors, "
              << static_cast<std::uint64_t>(static_cast<double>(r.messages) / r.seconds)
              << " messages/s\n\nLook at: the timeline (each task wakes at its own deadline), the\n"
                 "total time, and a thousand connections on one thread.\n";
    return r.ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    return common::run_main(argc, argv, "06_timers", kUsage, [](std::vector<std::string> args) {
        if (args.empty()) {
            return demo();
        }
        const std::string command = args.front();
        const std::vector<std::string> rest(args.begin() + 1, args.end());
        if (command == "crawl") {
            return crawl(common::Args::parse(
                rest, {{"max-pages"}, {"concurrency"}, {"delay-ms"}, {"pages"}, {"timeout-ms"}},
                1));
        }
        if (command == "echo-server") {
            return echo_server(
                common::Args::parse(rest, {{"host"}, {"port"}, {"idle-timeout"}, {"selector"}}));
        }
        throw common::UsageError("unknown command '" + command + "'");
    });
}
