// crawler.cpp: the crawler of chapter 05.
#include "chapters/05_yield_from/crawler.hpp"

#include <chrono>
#include <deque>
#include <exception>
#include <set>
#include <string>

#include "chapters/05_yield_from/io.hpp"
#include "chapters/05_yield_from/net.hpp"
#include "common/net.hpp"

namespace ch05 {
namespace {

namespace http = common::http;
using Clock = std::chrono::steady_clock;

struct Fetched {
    int status = 0;
    std::string reason;
    std::vector<http::Url> links;
};

// One page: fetch it, then find its links. Compare with chapter 04's fetch:
// the waiting is all inside the pieces it awaits.
Coro<Fetched> visit(Io& io, http::Url url) {
    const http::Response response = co_await fetch(io, url);
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
            io_.run_once();
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
            io_.spawn(visit(io_, url))->add_done_callback([this, url](Future<Fetched>& task) { on_fetched(url, task); });
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
        // Caught here, not left to the future that runs this callback: it
        // would report it and go on, and the caller of crawl() would never know.
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

    // The fetch of `url` found no descriptor it could use (connect() threw
    // OutOfDescriptors). Another fetch in flight frees one when it ends, so
    // the page goes back to the front of the queue and the crawl keeps to as
    // many fetches as fitted. With none in flight nothing would free one:
    // false, and the page is an error.
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
    Io io_;
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

}  // namespace ch05
