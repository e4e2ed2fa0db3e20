#include "common/http_site.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <mutex>
#include <optional>
#include <queue>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/net.hpp"
#include "common/stop_signal.hpp"

namespace common {
namespace {

using Clock = std::chrono::steady_clock;

std::string page_path(std::size_t k) { return k == 0 ? "/" : "/page/" + std::to_string(k); }


// The links of page k, as written in its HTML. Every page is reachable from
// "/": "/" links to 1 and 2, page k links to k+1, k+2, 2k and k/2, so no
// single misbehaving page cuts the others off. The forms vary so a
// crawler's URL resolution is exercised.
std::vector<std::string> page_links(std::size_t k, std::size_t pages, const std::string& self) {
    std::vector<std::string> links;
    const auto add_page = [&](std::size_t target, int form) {
        if (target == 0 || target >= pages) {
            return;
        }
        const std::string n = std::to_string(target);
        switch (form % 4) {
            case 0: links.push_back("/page/" + n); break;
            case 1: links.push_back(k == 0 ? "page/" + n : n); break;              // relative
            case 2: links.push_back(k == 0 ? "./page/" + n : "../page/" + n); break;
            default: links.push_back(self + "/page/" + n + "#top"); break;          // absolute, fragment
        }
    };
    if (k == 0) {
        add_page(1, 0);
        add_page(2, 1);
        links.push_back("#content");                  // the page itself
        links.push_back("/missing/1");                // 404
        links.push_back("mailto:webmaster@example.invalid");
        links.push_back("http://example.invalid/elsewhere");  // another host
    } else {
        add_page(k + 1, static_cast<int>(k));
        add_page(k + 2, static_cast<int>(k) + 3);     // so one broken page cuts nothing off
        add_page(2 * k, static_cast<int>(k) + 1);
        add_page(k / 2, static_cast<int>(k) + 2);     // back up the tree
        links.push_back("/");
        if (k == 3) {
            links.push_back("/missing/2");
            links.push_back("http://127.0.0.1:1/other-port");  // another port
        }
    }
    return links;
}

std::string page_html(std::size_t k, std::size_t pages, const std::string& self) {
    std::string html = "<!DOCTYPE html>\n<html><head><title>Page " + std::to_string(k) +
                       "</title></head>\n<body><h1 id=\"top\">Page " + std::to_string(k) +
                       "</h1>\n<p>A page of the evloop test site.</p>\n<ul>\n";
    for (const std::string& link : page_links(k, pages, self)) {
        html += "  <li><a href=\"" + link + "\">" + link + "</a></li>\n";
    }
    return html + "</ul>\n</body></html>\n";
}

std::string response(int status, std::string_view reason, std::string_view body) {
    return "HTTP/1.0 " + std::to_string(status) + " " + std::string(reason) +
           "\r\nContent-Type: text/html\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n\r\n" + std::string(body);
}

}  // namespace

struct TestSite::Impl {
    struct Connection {
        Fd fd;
        std::string in;
        std::string out;
        std::size_t sent = 0;
        bool responding = false;  // request complete; response scheduled or sending
        bool lingering = false;   // response sent, connection kept open (keep_open)
        std::optional<Misbehaviour> misbehaviour;
        std::uint64_t id = 0;
    };
    struct Timer {
        Clock::time_point when;
        int fd;
        std::uint64_t id;
        bool operator>(const Timer& o) const { return when > o.when; }
    };

    SiteOptions options;
    Listener listener;
    StopSignal stop;
    Fd epoll;
    std::thread thread;
    std::string self;  // "http://host:port"

    std::unordered_map<int, Connection> connections;
    std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;
    std::uint64_t next_id = 1;
    bool listener_paused = false;
    std::size_t max_open = 0;  // the thread's own copy of stats.max_open_connections
    // Requests whose responses wait for options.hold_until_open (fd, id).
    std::vector<std::pair<int, std::uint64_t>> held;

    mutable std::mutex mutex;
    SiteStats stats;

    explicit Impl(SiteOptions o) : options(std::move(o)), listener(listen_tcp(options.host, options.port)) {
        raise_fd_limit();
        self = "http://" + options.host + ":" + std::to_string(listener.port);
        epoll = Fd(::epoll_create1(EPOLL_CLOEXEC));
        if (!epoll) {
            throw_errno("epoll_create1");
        }
        watch(listener.fd.get(), EPOLLIN, EPOLL_CTL_ADD);
        watch(stop.fd(), EPOLLIN, EPOLL_CTL_ADD);
        thread = std::thread([this] { run(); });
    }

    ~Impl() {
        stop.notify();
        thread.join();
    }

    void watch(int fd, std::uint32_t events, int op) {
        epoll_event ev{};
        ev.events = events;
        ev.data.fd = fd;
        if (::epoll_ctl(epoll.get(), op, fd, &ev) != 0) {
            throw_errno("epoll_ctl");
        }
    }

    void run() {
        std::vector<epoll_event> events(256);
        for (;;) {
            int timeout = -1;
            if (!timers.empty()) {
                const auto wait = std::chrono::ceil<std::chrono::milliseconds>(timers.top().when - Clock::now());
                timeout = static_cast<int>(std::max<std::int64_t>(0, wait.count()));
            }
            if (listener_paused && (timeout < 0 || timeout > 10)) {
                timeout = 10;  // out of descriptors: look again soon
            }
            const int n = ::epoll_wait(epoll.get(), events.data(), static_cast<int>(events.size()), timeout);
            if (n < 0 && errno != EINTR) {
                throw_errno("epoll_wait");
            }
            for (int i = 0; i < n; ++i) {
                const int fd = events[i].data.fd;
                if (fd == stop.fd()) {
                    connections.clear();
                    record_open();
                    return;
                }
                if (fd == listener.fd.get()) {
                    accept_all();
                } else {
                    on_event(fd, events[i].events);
                }
            }
            fire_timers();
            if (listener_paused) {
                listener_paused = false;
                watch(listener.fd.get(), EPOLLIN, EPOLL_CTL_MOD);
            }
        }
    }

    void record_open() {
        max_open = std::max(max_open, connections.size());
        {
            std::lock_guard lock(mutex);
            stats.open_connections = connections.size();
            stats.max_open_connections = max_open;
        }
        if (!holding()) {
            for (const auto& [fd, id] : std::exchange(held, {})) {
                timers.push({Clock::now() + options.delay, fd, id});
            }
        }
    }

    [[nodiscard]] bool holding() const { return options.hold_until_open > max_open; }

    void accept_all() {
        for (;;) {
            std::optional<Fd> fd;
            try {
                fd = accept_connection(listener.fd.get());
            } catch (const std::system_error&) {
                // EMFILE/ENFILE: stop watching the listener until the next round
                // instead of spinning on a level-triggered readable socket.
                listener_paused = true;
                watch(listener.fd.get(), 0, EPOLL_CTL_MOD);
                return;
            }
            if (!fd) {
                return;
            }
            const int raw = fd->get();
            watch(raw, EPOLLIN, EPOLL_CTL_ADD);
            Connection& c = connections[raw];
            c.fd = std::move(*fd);
            c.id = next_id++;
            {
                std::lock_guard lock(mutex);
                ++stats.connections;
            }
            record_open();
        }
    }

    void close(int fd) {
        connections.erase(fd);  // closing removes it from the epoll set
        record_open();
    }

    void on_event(int fd, std::uint32_t events) {
        const auto it = connections.find(fd);
        if (it == connections.end()) {
            return;
        }
        Connection& c = it->second;
        if ((events & EPOLLOUT) != 0) {
            send_some(c);
            return;
        }
        if (c.lingering) {
            drain_until_closed(c);
            return;
        }
        if (c.responding) {
            // Request already read; the client half-closed or sent more. Ignore
            // reads; an error shows up on send.
            if ((events & (EPOLLHUP | EPOLLERR)) != 0) {
                close(fd);
            }
            return;
        }
        char buf[4096];
        for (;;) {
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n > 0) {
                c.in.append(buf, static_cast<std::size_t>(n));
                if (c.in.size() > 64 * 1024) {
                    close(fd);
                    return;
                }
                continue;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0 && would_block(errno)) {
                break;
            }
            close(fd);  // EOF before a complete request, or a reset
            return;
        }
        const std::size_t end = std::min(c.in.find("\r\n\r\n"), c.in.find("\n\n"));
        if (end == std::string::npos) {
            return;
        }
        const bool root = prepare_response(c);
        c.responding = true;
        watch(fd, 0, EPOLL_CTL_MOD);
        if (holding() && !root) {
            held.emplace_back(fd, c.id);
        } else {
            timers.push({Clock::now() + options.delay, fd, c.id});
        }
    }

    // A keep_open connection after its response: reads and discards until the
    // client closes (or resets) it, then closes this end too.
    void drain_until_closed(Connection& c) {
        char buf[4096];
        for (;;) {
            const ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
            if (n > 0 || (n < 0 && errno == EINTR)) {
                continue;
            }
            if (n < 0 && would_block(errno)) {
                return;
            }
            close(c.fd.get());
            return;
        }
    }

    // Fills c.out with the answer to the request in c.in; true for the root.
    bool prepare_response(Connection& c) {
        const std::string_view request(c.in);
        const std::size_t line_end = request.find_first_of("\r\n");
        const std::string_view line = request.substr(0, line_end);
        const std::size_t sp1 = line.find(' ');
        const std::size_t sp2 = line.find(' ', sp1 == std::string_view::npos ? sp1 : sp1 + 1);
        if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || line.substr(0, sp1) != "GET") {
            c.out = response(400, "Bad Request", "<p>bad request</p>\n");
            return false;
        }
        std::string path(line.substr(sp1 + 1, sp2 - sp1 - 1));
        {
            std::lock_guard lock(mutex);
            ++stats.requests;
            ++stats.requests_by_path[path];
        }
        std::string ok;
        const std::size_t pages = std::max<std::size_t>(options.pages, 1);
        if (path == "/") {
            ok = page_html(0, pages, self);
        } else if (path.rfind("/page/", 0) == 0) {
            std::size_t k = 0;
            const std::string digits = path.substr(6);
            const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), k);
            if (!digits.empty() && ec == std::errc{} && end == digits.data() + digits.size() &&
                k >= 1 && k < pages && digits[0] != '0') {
                ok = page_html(k, pages, self);
            }
        }
        const bool root = path == "/";
        const auto misbehave = options.misbehave.find(path);
        if (misbehave != options.misbehave.end()) {
            c.misbehaviour = misbehave->second;
            switch (misbehave->second) {
                case Misbehaviour::not_found:
                    c.out = response(404, "Not Found", "<p>not found</p>\n");
                    return root;
                case Misbehaviour::malformed_status:
                    c.out = "HTTX/1.0 ??? nonsense\r\nContent-Length: 5\r\n\r\nhello";
                    return root;
                case Misbehaviour::close_mid_body: {
                    std::string full = response(200, "OK", ok.empty() ? std::string(200, 'x') : ok);
                    c.out = full.substr(0, full.size() - std::min<std::size_t>(full.size() / 4, 100));
                    return root;
                }
                case Misbehaviour::endless_body:
                    c.out = "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + ok;
                    return root;
                case Misbehaviour::trickle:
                case Misbehaviour::reset:
                case Misbehaviour::keep_open:
                    break;  // the answer is the normal one; how it is sent differs
            }
        }
        c.out = ok.empty() ? response(404, "Not Found", "<p>not found</p>\n") : response(200, "OK", ok);
        return root;
    }

    void fire_timers() {
        const auto now = Clock::now();
        while (!timers.empty() && timers.top().when <= now) {
            const Timer t = timers.top();
            timers.pop();
            const auto it = connections.find(t.fd);
            if (it == connections.end() || it->second.id != t.id) {
                continue;  // closed meanwhile; the fd may even be reused
            }
            send_some(it->second);
        }
    }

    void send_some(Connection& c) {
        const int fd = c.fd.get();
        if (c.misbehaviour == Misbehaviour::reset) {
            const linger lg{1, 0};
            ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            close(fd);  // with a zero linger time, close() sends RST
            return;
        }
        const bool trickle = c.misbehaviour == Misbehaviour::trickle;
        for (;;) {
            if (c.sent == c.out.size()) {
                if (c.misbehaviour != Misbehaviour::endless_body) {
                    break;
                }
                // More body, until the client gives up; a chunk per turn of
                // the loop, so the other connections are served meanwhile.
                c.out.assign(64 * 1024, 'x');
                c.sent = 0;
                watch(fd, EPOLLOUT, EPOLL_CTL_MOD);
                return;
            }
            const std::size_t chunk = trickle ? 1 : c.out.size() - c.sent;
            const ssize_t n = ::send(fd, c.out.data() + c.sent, chunk, MSG_NOSIGNAL);
            if (n > 0) {
                c.sent += static_cast<std::size_t>(n);
                if (trickle && c.sent < c.out.size()) {
                    // one byte per turn of the loop: the client sees many short reads
                    watch(fd, EPOLLOUT, EPOLL_CTL_MOD);
                    return;
                }
                continue;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0 && would_block(errno)) {
                watch(fd, EPOLLOUT, EPOLL_CTL_MOD);
                return;
            }
            close(fd);  // peer gone
            return;
        }
        if (c.misbehaviour == Misbehaviour::keep_open) {
            c.lingering = true;
            watch(fd, EPOLLIN, EPOLL_CTL_MOD);
            return;
        }
        close(fd);  // HTTP/1.0: the end of the body is the end of the connection
    }
};

TestSite::TestSite(SiteOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
TestSite::~TestSite() = default;

std::uint16_t TestSite::port() const { return impl_->listener.port; }
std::string TestSite::root_url() const { return impl_->self + "/"; }

std::set<std::string> TestSite::page_paths() const {
    std::set<std::string> paths;
    const std::size_t pages = std::max<std::size_t>(impl_->options.pages, 1);
    for (std::size_t k = 0; k < pages; ++k) {
        paths.insert(page_path(k));
    }
    return paths;
}

std::set<std::string> TestSite::reachable_paths() const {
    std::set<std::string> paths = page_paths();
    paths.insert("/missing/1");
    if (impl_->options.pages > 3) {
        paths.insert("/missing/2");
    }
    return paths;
}

SiteStats TestSite::stats() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->stats;
}

}  // namespace common
