// crawler.cpp: the crawler of chapter 04.
//
// fetch() is chapter 03's fetch with two differences: `co_yield` now
// *evaluates to* the future's result, and the fetch *returns* what it found
// (or throws) instead of reporting it through a side effect. The crawler
// spawns one Task per URL and treats each task as a future.
#include "chapters/04_task/crawler.hpp"

#include <sys/socket.h>

#include <chrono>
#include <deque>
#include <exception>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>

#include "chapters/02_select_callbacks/selector.hpp"
#include "chapters/04_task/io.hpp"
#include "chapters/04_task/task.hpp"
#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/net.hpp"

namespace ch04 {
namespace {

namespace http = common::http;
using Clock = std::chrono::steady_clock;

struct Fetched {
    int status = 0;
    std::string reason;
    std::vector<http::Url> links;
};

// One page. Network and protocol errors are thrown: they travel through the
// Task's future to whoever waits for it. `io` is a pointer, not a reference:
// the Io outlives every task, and a pointer parameter makes no promise the
// coroutine frame could break (PITFALLS 2).
Coroutine<Fetched> fetch(Io* io, http::Url url) {
    common::Connecting connecting = common::start_connect(url.host, url.port, io->selector().max_fd());
    const common::Fd fd = std::move(connecting.fd);
    if (connecting.in_progress) {
        co_yield io->ready(fd.get(), ch02::event_write);
        if (const std::error_code ec = common::connect_error(fd.get())) {
            throw std::system_error(ec, "connect");
        }
    }
    const std::string request = http::get_request(url);
    std::size_t sent = 0;
    while (sent < request.size()) {
        const ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n >= 0) {
            sent += static_cast<std::size_t>(n);
        } else if (common::would_block(errno)) {
            co_yield io->ready(fd.get(), ch02::event_write);
        } else if (errno != EINTR) {
            common::throw_errno("send");
        }
    }
    // To EOF, or until the response is whole by its Content-Length: a server
    // may send all of it and keep the connection open.
    std::string raw;
    while (!http::response_complete(raw)) {
        const std::string bytes = co_yield io->read_chunk(fd.get());  // a recv error throws here
        if (bytes.empty()) {
            break;  // EOF
        }
        raw += bytes;
    }
    const http::Response response = http::parse_response(raw);
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
            selector_.run_once(std::nullopt);
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
            // Nobody needs to keep the task: the future it waits on does.
            Task<Fetched>::spawn(fetch(&io_, url))->add_done_callback([this, url](Future<Fetched>& task) {
                on_fetched(url, task);
            });
        }
    }

    // The task is done: read its result like any future's.
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
        // Caught here, not left to the task that calls this: it would report
        // it and go on, and the caller of crawl() would never know.
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

    // The fetch of `url` found no descriptor it could use. Another fetch in
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
    ch02::Selector selector_;
    Io io_{selector_};
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

}  // namespace ch04
