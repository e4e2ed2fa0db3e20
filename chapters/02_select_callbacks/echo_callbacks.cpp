// echo_callbacks.cpp: the echo server as callbacks on a Selector.
//
// Three callbacks do all the work: the stop signal's (readable: stop),
// on_accept (listener readable), and on_ready for a connection (readable:
// read and echo; writable: flush what is left; after the client's EOF, close
// once nothing is left). Each connection's state lives in a Connection object
// owned by the server's table; the callbacks find it by descriptor.
#include <sys/socket.h>

#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "chapters/02_select_callbacks/echo_server.hpp"
#include "chapters/02_select_callbacks/selector.hpp"
#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/net.hpp"

namespace ch02 {
namespace {

class CallbackEchoServer {
public:
    CallbackEchoServer(int listen_fd, const common::StopSignal& stop, const EchoServerOptions& options)
        : listen_fd_(listen_fd), options_(options), selector_(options.max_fd) {
        selector_.register_fd(listen_fd_, event_read, [this](int, unsigned) { on_accept(); });
        selector_.register_fd(stop.fd(), event_read, [this](int, unsigned) { stopping_ = true; });
    }

    void run() {
        while (!stopping_) {
            selector_.run_once(std::nullopt);
        }
        stats_.closed += connections_.size();
        connections_.clear();  // Fd destructors close every connection
        if (options_.stats != nullptr) {
            *options_.stats = stats_;
        }
    }

private:
    struct Connection {
        common::Fd fd;
        std::vector<char> output;  // bytes received but not yet sent back
        std::size_t sent = 0;      // output[0, sent) is already sent
        bool reading = true;       // false while backpressure holds reads, and after EOF
        bool peer_done = false;    // the client sent EOF: echo what is left, then close
        [[nodiscard]] std::size_t pending() const { return output.size() - sent; }
    };

    void log(const std::string& line) const {
        if (options_.log) {
            options_.log(line);
        } else {
            std::cerr << line << '\n';
        }
    }

    void on_accept() {
        for (;;) {
            std::optional<common::Fd> fd;
            try {
                fd = common::accept_connection(listen_fd_);
            } catch (const std::system_error& e) {
                // Out of descriptors (EMFILE/ENFILE). The pending connection
                // keeps the listener readable, so select() would report it
                // again at once: stop accepting until a connection closes.
                log(std::string("echo server: ") + e.what() + "; accepting again when a connection closes");
                selector_.unregister(listen_fd_);
                accept_paused_ = true;
                return;
            }
            if (!fd) {
                return;  // nothing more to accept now
            }
            const int raw = fd->get();
            if (raw >= selector_.max_fd()) {
                ++stats_.refused;
                log("echo server: refusing connection: fd " + std::to_string(raw) +
                    " is beyond what select() can watch (" + std::to_string(selector_.max_fd()) + ")");
                continue;  // *fd closes here
            }
            ++stats_.accepted;
            auto& connection = connections_[raw];
            connection = std::make_unique<Connection>();
            connection->fd = std::move(*fd);
            selector_.register_fd(raw, event_read, [this](int ready_fd, unsigned events) {
                on_ready(ready_fd, events);
            });
        }
    }

    void on_ready(int fd, unsigned events) {
        Connection& c = *connections_.at(fd);
        if ((events & event_write) != 0 && !flush(c)) {
            return close(fd);
        }
        if ((events & event_read) != 0 && c.reading && !read(c)) {
            return close(fd);
        }
        if (c.peer_done && c.pending() == 0) {
            return close(fd);  // a half-closed client has all of its echo
        }
        update_interest(c);
    }

    // Reads what is there and sends it straight back. False: close it.
    bool read(Connection& c) {
        char buffer[read_size];
        const ssize_t n = ::recv(c.fd.get(), buffer, sizeof buffer, 0);
        if (n == 0) {
            // EOF means the client will send nothing more, not that it
            // stopped reading (shutdown(SHUT_WR)): what is still in `output`
            // is owed to it. Stop reading for good, close once it is sent.
            c.peer_done = true;
            c.reading = false;
            return true;
        }
        if (n < 0) {
            // EAGAIN: select() said readable but another reader won; EINTR:
            // a signal. Both: wait again. Anything else (ECONNRESET): close.
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        }
        if (c.sent == c.output.size()) {
            c.output.clear();
            c.sent = 0;
        }
        c.output.insert(c.output.end(), buffer, buffer + n);
        stats_.peak_pending_output = std::max(stats_.peak_pending_output, c.pending());
        return flush(c);
    }

    // Sends as much pending output as the socket takes. False: close it.
    bool flush(Connection& c) {
        while (c.pending() > 0) {
            const ssize_t n = ::send(c.fd.get(), c.output.data() + c.sent, c.pending(), MSG_NOSIGNAL);
            if (n > 0) {
                c.sent += static_cast<std::size_t>(n);
                stats_.bytes_echoed += static_cast<std::uint64_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0 && common::would_block(errno)) {
                break;  // a short write: the rest waits for writability
            }
            return false;  // EPIPE, ECONNRESET: the client is gone
        }
        if (c.pending() == 0) {
            c.output.clear();
            c.sent = 0;
        } else if (c.sent > c.output.size() / 2) {
            // Drop what is sent so the buffer does not grow forever; moving
            // the rest only when it is the smaller half keeps this linear.
            c.output.erase(c.output.begin(), c.output.begin() + static_cast<std::ptrdiff_t>(c.sent));
            c.sent = 0;
        }
        return true;
    }

    // Write interest only while output is pending (otherwise select() would
    // report the socket writable on every call); read interest unless the
    // client's unsent output is over the high-water mark, or it sent EOF.
    // Never both off: with nothing pending, reading resumes (low_water >= 0)
    // or, after EOF, on_ready has closed the connection already.
    void update_interest(Connection& c) {
        if (c.reading && c.pending() > options_.high_water) {
            c.reading = false;
            ++stats_.reads_paused;
            if (options_.on_reads_paused) {
                options_.on_reads_paused();
            }
        } else if (!c.reading && !c.peer_done && c.pending() <= options_.low_water) {
            c.reading = true;
        }
        const unsigned wanted = (c.reading ? event_read : 0u) | (c.pending() > 0 ? event_write : 0u);
        if (wanted != selector_.events(c.fd.get())) {
            selector_.modify(c.fd.get(), wanted);
        }
    }

    void close(int fd) {
        selector_.unregister(fd);
        connections_.erase(fd);  // closes the descriptor
        ++stats_.closed;
        if (accept_paused_) {
            accept_paused_ = false;
            selector_.register_fd(listen_fd_, event_read, [this](int, unsigned) { on_accept(); });
        }
    }

    int listen_fd_;
    const EchoServerOptions& options_;
    Selector selector_;
    std::unordered_map<int, std::unique_ptr<Connection>> connections_;
    EchoStats stats_;
    bool stopping_ = false;
    bool accept_paused_ = false;
};

}  // namespace

void serve_echo_with_callbacks(int listen_fd, const common::StopSignal& stop,
                               const EchoServerOptions& options) {
    CallbackEchoServer server(listen_fd, stop, options);
    server.run();
}

}  // namespace ch02
