// echo_server.cpp: one Task per connection, on chapter 02's selector.
#include "chapters/04_task/echo_server.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chapters/02_select_callbacks/selector.hpp"
#include "chapters/04_task/io.hpp"
#include "chapters/04_task/task.hpp"
#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/net.hpp"

namespace ch04 {
namespace {

using Clock = std::chrono::steady_clock;

// How long accepting pauses when the process is out of descriptors (asyncio
// waits a second; a tenth keeps a server that recovers responsive).
constexpr std::chrono::milliseconds kAcceptPause{100};

class EchoServer {
public:
    EchoServer(int listen_fd, const common::StopSignal& stop, const EchoServerOptions& options)
        : options_(options) {
        selector_.register_fd(stop.fd(), ch02::event_read, [this](int, unsigned) { stopping_ = true; });
        Task<Unit>::spawn(accept_loop(listen_fd));
    }

    void run() {
        while (!stopping_) {
            selector_.run_once(accept_pause_left());
            if (accept_again_ && Clock::now() >= accept_retry_at_) {
                resume_accepting();
            }
        }
        // The connections still open are closed when the selector, and with
        // it every pending registration, future and task, is destroyed.
        stats_.closed += live_;
        if (options_.stats != nullptr) {
            *options_.stats = stats_;
        }
    }

private:
    void log(const std::string& line) const {
        if (options_.log) {
            options_.log(line);
        } else {
            std::cerr << line << '\n';
        }
    }

    Coroutine<Unit> accept_loop(int listen_fd) {
        for (;;) {
            co_yield io_.ready(listen_fd, ch02::event_read);
            for (;;) {
                std::optional<common::Fd> fd;
                bool out_of_descriptors = false;
                try {
                    fd = common::accept_connection(listen_fd);
                } catch (const std::system_error& e) {
                    log(std::string("echo server: ") + e.what() +
                        "; accepting again when a connection closes, or in " +
                        std::to_string(kAcceptPause.count()) + " ms");
                    out_of_descriptors = true;
                }
                if (out_of_descriptors) {
                    // EMFILE: stop accepting instead of spinning on a listener
                    // that stays readable. A connection of ours that closes
                    // frees a descriptor; but with none open (the descriptors
                    // are held elsewhere in the process) nothing ever would,
                    // so the loop also tries again after a pause.
                    accept_again_ = std::make_shared<Future<Unit>>();
                    accept_retry_at_ = Clock::now() + kAcceptPause;
                    co_yield accept_again_;
                    continue;
                }
                if (!fd) {
                    break;
                }
                if (fd->get() >= io_.selector().max_fd()) {
                    ++stats_.refused;
                    log("echo server: refusing connection: fd " + std::to_string(fd->get()) +
                        " is beyond what select() can watch");
                    continue;
                }
                ++stats_.accepted;
                ++live_;
                Task<Unit>::spawn(echo_connection(std::move(*fd)))->add_done_callback([this](Future<Unit>& task) {
                    connection_closed(task);
                });
            }
        }
    }

    Coroutine<Unit> echo_connection(common::Fd fd) {
        std::vector<char> buffer(64 * 1024);
        for (;;) {
            co_yield io_.ready(fd.get(), ch02::event_read);
            const ssize_t n = ::recv(fd.get(), buffer.data(), buffer.size(), 0);
            if (n == 0) {
                co_return;  // EOF
            }
            if (n < 0) {
                if (common::would_block(errno) || errno == EINTR) {
                    continue;
                }
                co_return;  // ECONNRESET and friends: close this one
            }
            const auto size = static_cast<std::size_t>(n);
            std::size_t sent = 0;
            while (sent < size) {
                const ssize_t m = ::send(fd.get(), buffer.data() + sent, size - sent, MSG_NOSIGNAL);
                if (m > 0) {
                    sent += static_cast<std::size_t>(m);
                    stats_.bytes_echoed += static_cast<std::uint64_t>(m);
                } else if (m < 0 && errno == EINTR) {
                    continue;
                } else if (m < 0 && common::would_block(errno)) {
                    co_yield io_.ready(fd.get(), ch02::event_write);
                } else {
                    co_return;  // EPIPE, ECONNRESET
                }
            }
        }
    }

    void connection_closed(Future<Unit>& task) {
        --live_;
        ++stats_.closed;
        if (const std::exception_ptr error = task.exception()) {
            try {
                std::rethrow_exception(error);
            } catch (const std::exception& e) {
                log(std::string("echo server: connection failed: ") + e.what());
            } catch (...) {
                log("echo server: connection failed");
            }
        }
        if (accept_again_) {
            resume_accepting();
        }
    }

    // While accepting is paused, how long the loop may wait before it tries again.
    [[nodiscard]] std::optional<std::chrono::milliseconds> accept_pause_left() const {
        if (!accept_again_) {
            return std::nullopt;
        }
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(accept_retry_at_ - Clock::now());
        return std::max(left, std::chrono::milliseconds(0));
    }

    void resume_accepting() { std::exchange(accept_again_, nullptr)->set_result(Unit{}); }

    const EchoServerOptions& options_;
    ch02::Selector selector_;
    Io io_{selector_};
    std::shared_ptr<Future<Unit>> accept_again_;  // set while accepting is paused
    Clock::time_point accept_retry_at_;
    EchoStats stats_;
    std::uint64_t live_ = 0;
    bool stopping_ = false;
};

}  // namespace

void serve_echo(int listen_fd, const common::StopSignal& stop, const EchoServerOptions& options) {
    EchoServer server(listen_fd, stop, options);
    server.run();
}

}  // namespace ch04
