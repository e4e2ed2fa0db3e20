// crawler.cpp: the crawler of chapter 03.
//
// Read fetch() first: it is the whole conversation with one server, written
// top to bottom, with a `co_yield` wherever it must wait. Then step(): the
// hand-written stepping that resumes a fetch whenever the future it yielded
// completes. Then Crawler::run(): the loop.
#include "chapters/03_future/crawler.hpp"

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
#include "chapters/03_future/fetch_coroutine.hpp"
#include "chapters/03_future/future.hpp"
#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/net.hpp"

namespace ch03 {
namespace {

namespace http = common::http;
using Clock = std::chrono::steady_clock;

// What a finished fetch turns into: a result line, and links on a 200.
PageResult page_result(const http::Url& url, const http::Response& response) {
    PageResult page{http::to_string(url), response.status, ""};
    if (response.status != 200) {
        page.error = "HTTP " + std::to_string(response.status) + " " + response.reason;
    }
    return page;
}

class Crawler {
public:
    Crawler(const CrawlOptions& options, PageCallback on_page)
        : options_(options), on_page_(std::move(on_page)) {}

    CrawlReport run(const http::Url& root) {
        const auto begin = Clock::now();
        enqueue(root);
        start_fetches();
        // No "stopped" flag: the crawl is over when nothing is in flight.
        while (in_flight_ > 0) {
            selector_.run_once(std::nullopt);
        }
        if (page_callback_error_) {
            std::rethrow_exception(page_callback_error_);
        }
        report_.seconds = std::chrono::duration<double>(Clock::now() - begin).count();
        return std::move(report_);
    }

private:
    // A future that completes when `fd` is ready for `events`. The selector
    // registration owns the future (a shared_ptr in the callback), so it
    // cannot be destroyed while registered, and unregisters itself before
    // completing it: the fetch's next wait may register the same fd again.
    std::shared_ptr<Future<Unit>> ready(int fd, unsigned events) {
        auto future = std::make_shared<Future<Unit>>();
        selector_.register_fd(fd, events, [this, future](int ready_fd, unsigned) {
            selector_.unregister(ready_fd);
            future->set_result(Unit{});  // runs the fetch's next step, inline
        });
        return future;
    }

    // A future for the next chunk of bytes from `fd` ("" at EOF). The recv
    // happens in the callback, as in the source texts.
    std::shared_ptr<Future<std::string>> read_chunk(int fd) {
        auto future = std::make_shared<Future<std::string>>();
        selector_.register_fd(fd, ch02::event_read, [this, future](int ready_fd, unsigned) {
            char buffer[16 * 1024];
            const ssize_t n = ::recv(ready_fd, buffer, sizeof buffer, 0);
            if (n < 0 && (common::would_block(errno) || errno == EINTR)) {
                return;  // not really ready: keep waiting
            }
            selector_.unregister(ready_fd);
            if (n < 0) {
                future->set_exception(std::make_exception_ptr(common::errno_error("recv")));
            } else {
                future->set_result(std::string(buffer, static_cast<std::size_t>(n)));
            }
        });
        return future;
    }

    // One page: connect, send the request, read the response, parse. Every
    // error becomes this page's result; the crawl goes on. Parameters by
    // value: they live in the coroutine frame.
    FetchCoroutine fetch(http::Url url) {
        PageResult page{http::to_string(url), 0, ""};
        try {
            std::string raw;
            {
                common::Connecting connecting = common::start_connect(url.host, url.port, selector_.max_fd());
                const common::Fd fd = std::move(connecting.fd);
                if (connecting.in_progress) {
                    co_yield ready(fd.get(), ch02::event_write);
                    // Writable does not mean connected: a refused connect is
                    // writable too. SO_ERROR says which.
                    if (const std::error_code ec = common::connect_error(fd.get())) {
                        throw std::system_error(ec, "connect " + page.url);
                    }
                }
                const std::string request = http::get_request(url);
                std::size_t sent = 0;
                while (sent < request.size()) {
                    const ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
                    if (n >= 0) {
                        sent += static_cast<std::size_t>(n);
                    } else if (common::would_block(errno)) {
                        co_yield ready(fd.get(), ch02::event_write);
                    } else if (errno != EINTR) {
                        common::throw_errno("send");
                    }
                }
                // To EOF, or until the response is whole by its Content-Length:
                // a server may send all of it and keep the connection open.
                while (!http::response_complete(raw)) {
                    // A weak_ptr, so that the frame does not own the future
                    // it waits on (see FetchCoroutine::resume). The future is
                    // alive when this fetch resumes: its own callback resumes
                    // it, while the selector callback completing it holds it.
                    const std::weak_ptr<Future<std::string>> chunk = read_chunk(fd.get());
                    co_yield chunk.lock();
                    const std::string bytes = chunk.lock()->result();  // rethrows a recv error
                    if (bytes.empty()) {
                        break;  // EOF: HTTP/1.0 ends the response by closing
                    }
                    raw += bytes;
                }
            }  // the socket closes here, before finish() starts other fetches
            const http::Response response = http::parse_response(raw);
            page = page_result(url, response);
            if (response.status == 200) {
                for (const http::Url& link : http::extract_links(url, response.body)) {
                    enqueue(link);
                }
            }
        } catch (const common::OutOfDescriptors& e) {
            if (postpone(url)) {
                co_return;
            }
            page.error = e.what();
        } catch (const std::exception& e) {
            page.error = e.what();
        } catch (...) {
            // Escaping, it would end in the future's callback loop, which
            // reports it and goes on: the crawl would wait for this page forever.
            page.error = "an exception not derived from std::exception";
        }
        finish(std::move(page));
    }

    // The hand-written driver: resume the fetch; if it yielded a future, ask
    // that future to call step() again when it completes. The callback holds
    // the coroutine alive until then.
    void step(const std::shared_ptr<FetchCoroutine>& coroutine) {
        const std::shared_ptr<FutureBase> next = coroutine->resume();
        if (next) {
            next->on_done([this, coroutine] { step(coroutine); });
        }
    }

    void enqueue(const http::Url& url) {
        if (seen_.insert(http::to_string(url)).second) {
            todo_.push_back(url);
        }
    }

    void start_fetches() {
        while (!todo_.empty() && started_ < options_.max_pages && !page_callback_error_ &&
               (options_.concurrency == 0 || in_flight_ < options_.concurrency) &&
               in_flight_ < descriptor_bound_) {
            const http::Url url = todo_.front();
            todo_.pop_front();
            ++started_;
            ++in_flight_;
            step(std::make_shared<FetchCoroutine>(fetch(url)));
        }
    }

    // The fetch of `url` found no descriptor it could use. Another fetch in
    // flight frees one when it ends, so the page goes back to the front of the
    // queue and the crawl keeps to as many fetches as fitted. With none in
    // flight nothing would free one: false, and the page is an error.
    bool postpone(const http::Url& url) {
        if (in_flight_ <= 1) {  // counts this fetch
            return false;
        }
        --in_flight_;
        --started_;
        descriptor_bound_ = in_flight_;
        todo_.push_front(url);
        return true;
    }

    void finish(PageResult page) {
        if (!page.error.empty()) {
            ++report_.errors;
        }
        // Caught here, not left to the future that runs this step: that one
        // would report it and go on, and the caller of crawl() would never know.
        if (on_page_ && !page_callback_error_) {
            try {
                on_page_(page);
            } catch (...) {
                page_callback_error_ = std::current_exception();
            }
        }
        report_.pages.push_back(std::move(page));
        --in_flight_;
        start_fetches();
    }

    CrawlOptions options_;
    PageCallback on_page_;
    ch02::Selector selector_;
    std::set<std::string> seen_;
    std::deque<http::Url> todo_;
    std::size_t started_ = 0;
    std::size_t in_flight_ = 0;
    std::size_t descriptor_bound_ = max_concurrency;  // lowered when descriptors run out
    std::exception_ptr page_callback_error_;           // on_page_ threw: start nothing more
    CrawlReport report_;
};

// A blocking GET: connect, send, read to EOF or to the end of the Content-Length.
std::string fetch_blocking(const http::Url& url) {
    const common::Fd fd = common::connect_blocking(url.host, url.port);
    const std::string request = http::get_request(url);
    std::size_t sent = 0;
    while (sent < request.size()) {
        const ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            common::throw_errno("send");
        }
        sent += static_cast<std::size_t>(n);
    }
    std::string raw;
    char buffer[16 * 1024];
    while (!http::response_complete(raw)) {
        const ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
        if (n == 0) {
            return raw;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            common::throw_errno("recv");
        }
        raw.append(buffer, static_cast<std::size_t>(n));
    }
    return raw;
}

}  // namespace

CrawlReport crawl(const http::Url& root, const CrawlOptions& options, PageCallback on_page) {
    Crawler crawler(options, std::move(on_page));
    return crawler.run(root);
}

CrawlReport crawl_sequential(const http::Url& root, const CrawlOptions& options,
                             PageCallback on_page) {
    const auto begin = Clock::now();
    CrawlReport report;
    std::set<std::string> seen{http::to_string(root)};
    std::deque<http::Url> todo{root};
    while (!todo.empty() && report.pages.size() < options.max_pages) {
        const http::Url url = todo.front();
        todo.pop_front();
        PageResult page{http::to_string(url), 0, ""};
        try {
            const http::Response response = http::parse_response(fetch_blocking(url));
            page = page_result(url, response);
            if (response.status == 200) {
                for (const http::Url& link : http::extract_links(url, response.body)) {
                    if (seen.insert(http::to_string(link)).second) {
                        todo.push_back(link);
                    }
                }
            }
        } catch (const std::exception& e) {
            page.error = e.what();
        }
        report.errors += page.error.empty() ? 0 : 1;
        if (on_page) {
            on_page(page);
        }
        report.pages.push_back(std::move(page));
    }
    report.seconds = std::chrono::duration<double>(Clock::now() - begin).count();
    return report;
}

}  // namespace ch03
