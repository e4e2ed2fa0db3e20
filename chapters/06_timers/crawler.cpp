// crawler.cpp: the crawler of chapter 06.
#include "chapters/06_timers/crawler.hpp"

#include <array>
#include <chrono>
#include <deque>
#include <set>

#include "chapters/06_timers/socket.hpp"
#include "chapters/06_timers/task.hpp"
#include "common/net.hpp"

namespace ch06 {
namespace {

namespace http = common::http;

struct Fetched {
    int status = 0;
    std::string reason;
    std::vector<http::Url> links;
};

// Reads to EOF: HTTP/1.0 ends a response by closing the connection.
Coro<std::string> read_all(AsyncSocket& socket, std::optional<TimePoint> deadline) {
    std::string raw;
    std::array<char, 16 * 1024> buffer;
    for (;;) {
        const std::size_t n = co_await socket.read_some(buffer, deadline);
        if (n == 0) {
            co_return raw;
        }
        raw.append(buffer.data(), n);
    }
}

Coro<Fetched> fetch(EventLoop* loop, http::Url url, std::optional<TimePoint> deadline) {
    AsyncSocket socket(*loop, co_await connect(*loop, url.host, url.port, deadline));
    const std::string request = http::get_request(url);
    co_await socket.write_all(request, deadline);
    const http::Response response = http::parse_response(co_await read_all(socket, deadline));
    Fetched fetched{response.status, response.reason, {}};
    if (response.status == 200) {
        fetched.links = http::extract_links(url, response.body);
    }
    co_return fetched;
}

class Crawler {
public:
    Crawler(const CrawlOptions& options, PageCallback on_page)
        : options_(options), on_page_(std::move(on_page)) {}

    CrawlReport run(const http::Url& root) {
        const auto begin = Clock::now();
        enqueue(root);
        start_fetches();
        while (pending_ > 0) {
            loop_.run_once();
        }
        report_.seconds = std::chrono::duration<double>(Clock::now() - begin).count();
        return std::move(report_);
    }

private:
    void enqueue(const http::Url& url) {
        if (seen_.insert(http::to_string(url)).second) {
            todo_.push_back(url);
        }
    }

    void start_fetches() {
        while (!todo_.empty() && started_ < options_.max_pages &&
               (options_.concurrency == 0 || pending_ < options_.concurrency)) {
            const http::Url url = todo_.front();
            todo_.pop_front();
            ++started_;
            ++pending_;
            std::optional<TimePoint> deadline;
            if (options_.timeout) {
                deadline = loop_.time() + *options_.timeout;
            }
            create_task(loop_, fetch(&loop_, url, deadline))->add_done_callback([this, url](Future<Fetched>& task) {
                on_fetched(url, task);
            });
        }
    }

    void on_fetched(const http::Url& url, Future<Fetched>& task) {
        PageResult page{http::to_string(url), 0, ""};
        try {
            const Fetched& fetched = task.result();
            page.status = fetched.status;
            if (fetched.status != 200) {
                page.error = "HTTP " + std::to_string(fetched.status) + " " + fetched.reason;
            }
            for (const http::Url& link : fetched.links) {
                enqueue(link);
            }
        } catch (const TimeoutError&) {
            page.error = "timed out after " + std::to_string(options_.timeout->count()) + " ms";
        } catch (const std::exception& e) {
            page.error = e.what();
        } catch (...) {
            page.error = "unknown error";
        }
        report_.errors += page.error.empty() ? 0 : 1;
        if (on_page_) {
            on_page_(page);
        }
        report_.pages.push_back(std::move(page));
        --pending_;
        start_fetches();
    }

    CrawlOptions options_;
    PageCallback on_page_;
    EventLoop loop_;
    std::set<std::string> seen_;
    std::deque<http::Url> todo_;
    std::size_t started_ = 0;
    std::size_t pending_ = 0;
    CrawlReport report_;
};

}  // namespace

CrawlReport crawl(const http::Url& root, const CrawlOptions& options, PageCallback on_page) {
    common::raise_fd_limit();
    Crawler crawler(options, std::move(on_page));
    return crawler.run(root);
}

}  // namespace ch06
