// crawler.cpp: the crawler of chapter 06.
#include "chapters/06_timers/crawler.hpp"

#include <array>
#include <chrono>
#include <deque>
#include <exception>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>

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

// Reads a response: to EOF (HTTP/1.0 ends a response by closing), or until
// http::response_complete() says reading more cannot change it (complete by
// its Content-Length, malformed, or over kMaxResponseBytes): a server may send
// a whole response and keep the connection open.
Coro<std::string> read_response(AsyncSocket& socket, std::optional<TimePoint> deadline) {
    std::string raw;
    std::array<char, 16 * 1024> buffer;
    while (!http::response_complete(raw)) {
        const std::size_t n = co_await socket.read_some(buffer, deadline);
        if (n == 0) {
            break;  // EOF
        }
        raw.append(buffer.data(), n);
    }
    co_return raw;
}

Coro<Fetched> fetch(EventLoop* loop, http::Url url, std::optional<TimePoint> deadline) {
    AsyncSocket socket(*loop, co_await connect(*loop, url.host, url.port, deadline));
    const std::string request = http::get_request(url);
    co_await socket.write_all(request, deadline);
    const http::Response response = http::parse_response(co_await read_response(socket, deadline));
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
        // The crawl is over when no task is pending: no "stopped" flag.
        while (pending_ > 0) {
            loop_.run_once();
        }
        if (page_callback_error_) {
            std::rethrow_exception(page_callback_error_);
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
        while (!todo_.empty() && started_ < options_.max_pages && !page_callback_error_ &&
               (options_.concurrency == 0 || pending_ < options_.concurrency) &&
               pending_ < descriptor_bound_) {
            const http::Url url = todo_.front();
            todo_.pop_front();
            ++started_;
            ++pending_;
            // The deadline starts now: a page put back by postpone() gets a
            // new one when it starts again.
            std::optional<TimePoint> deadline;
            if (options_.timeout) {
                deadline = loop_.time() + *options_.timeout;
            }
            create_task(loop_, fetch(&loop_, url, deadline))->add_done_callback([this, url](Future<Fetched>& task) {
                on_fetched(url, task);
            });
        }
    }

    // Scheduled by the loop once the task is done.
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
        } catch (const common::OutOfDescriptors& e) {
            if (postpone(url)) {
                return;
            }
            page.error = e.what();
        } catch (const std::exception& e) {
            page.error = e.what();
        } catch (...) {
            page.error = "an exception not derived from std::exception";
        }
        report_.errors += page.error.empty() ? 0 : 1;
        // Caught here, not left to the loop that runs this callback: it would
        // report it and go on, this page would stay pending, and the crawl
        // would wait for it forever.
        if (on_page_ && !page_callback_error_) {
            try {
                on_page_(page);
            } catch (...) {
                page_callback_error_ = std::current_exception();
            }
        }
        report_.pages.push_back(std::move(page));
        --pending_;
        start_fetches();
    }

    // The fetch of `url` found no descriptor for its socket. Another fetch in
    // flight frees one when it ends, so the page goes back to the front of the
    // queue and the crawl keeps to as many fetches as fitted. With none in
    // flight nothing would free one: false, and the page is an error.
    bool postpone(const http::Url& url) {
        if (pending_ <= 1) {  // counts this fetch
            return false;
        }
        --pending_;
        --started_;
        descriptor_bound_ = pending_;
        todo_.push_front(url);
        return true;
    }

    CrawlOptions options_;
    PageCallback on_page_;
    EventLoop loop_;
    std::set<std::string> seen_;
    std::deque<http::Url> todo_;
    std::size_t started_ = 0;
    std::size_t pending_ = 0;
    std::size_t descriptor_bound_ = max_concurrency;  // lowered when descriptors run out
    std::exception_ptr page_callback_error_;           // on_page_ threw: start nothing more
    CrawlReport report_;
};

}  // namespace

CrawlReport crawl(const http::Url& root, const CrawlOptions& options, PageCallback on_page) {
    Crawler crawler(options, std::move(on_page));
    return crawler.run(root);
}

}  // namespace ch06
