// io.hpp: ch04::Io, futures for "this socket is ready" on chapter 02's selector.
//
// The same two helpers as chapter 03's crawler, now shared by the crawler and
// the echo server. Each wait is a one-shot registration that owns its
// future, unregisters itself, then completes the future (which, through the
// Task's callback, resumes the coroutine inline).
#pragma once

#include <sys/socket.h>

#include <cerrno>
#include <memory>
#include <string>

#include "chapters/02_select_callbacks/selector.hpp"
#include "chapters/04_task/future.hpp"
#include "common/error.hpp"

namespace ch04 {

class Io {
public:
    explicit Io(ch02::Selector& selector) : selector_(selector) {}

    // Completes when fd is ready for `events` (ch02::event_read / event_write).
    std::shared_ptr<Future<Unit>> ready(int fd, unsigned events) {
        auto future = std::make_shared<Future<Unit>>();
        selector_.register_fd(fd, events, [this, future](int ready_fd, unsigned) {
            selector_.unregister(ready_fd);
            future->set_result(Unit{});
        });
        return future;
    }

    // Completes with the next bytes from fd, "" at EOF, or the recv error.
    std::shared_ptr<Future<std::string>> read_chunk(int fd) {
        auto future = std::make_shared<Future<std::string>>();
        selector_.register_fd(fd, ch02::event_read, [this, future](int ready_fd, unsigned) {
            char buffer[16 * 1024];
            const ssize_t n = ::recv(ready_fd, buffer, sizeof buffer, 0);
            if (n < 0 && (common::would_block(errno) || errno == EINTR)) {
                return;  // spurious: keep waiting
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

    [[nodiscard]] ch02::Selector& selector() { return selector_; }

private:
    ch02::Selector& selector_;
};

}  // namespace ch04
