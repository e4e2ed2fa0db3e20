#include "chapters/06_timers/socket.hpp"

#include <sys/socket.h>

#include <system_error>

#include "common/error.hpp"
#include "common/net.hpp"

namespace ch06 {

void AsyncSocket::WaitAwaiter::await_suspend(std::coroutine_handle<> awaiting) {
    // Register first: if the selector refuses the descriptor, the exception
    // leaves nothing behind that could resume this frame later.
    socket_.loop_.want(socket_.watcher_, interest_);  // no system call when already watched
    if (deadline_) {
        timer_ = socket_.loop_.call_at(*deadline_, [this] { on_deadline(); });
    }
    awaiting_ = awaiting;
    slot() = awaiting;
}

void AsyncSocket::WaitAwaiter::on_deadline() {
    if (slot() != awaiting_) {
        return;  // the descriptor was ready first: we are already queued
    }
    slot() = nullptr;
    timed_out_ = true;
    awaiting_.resume();
}

void AsyncSocket::WaitAwaiter::await_resume() const {
    if (timed_out_) {
        throw TimeoutError("timed out");
    }
}

AsyncSocket::WaitAwaiter::~WaitAwaiter() {
    timer_.cancel();  // the descriptor won, or the frame is being destroyed
    if (awaiting_ && slot() == awaiting_) {
        slot() = nullptr;  // destroyed while waiting: dispatch must not resume us
    }
}

Coro<std::size_t> AsyncSocket::read_some(std::span<char> buffer, std::optional<TimePoint> deadline) {
    for (;;) {
        co_await readable(deadline);
        const ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), 0);
        if (n >= 0) {
            co_return static_cast<std::size_t>(n);
        }
        if (!common::would_block(errno) && errno != EINTR) {
            common::throw_errno("recv");
        }
        // EAGAIN after readiness (another reader won, a spurious wake-up): wait again.
    }
}

Coro<> AsyncSocket::write_all(std::span<const char> bytes, std::optional<TimePoint> deadline) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(fd_.get(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n >= 0) {
            sent += static_cast<std::size_t>(n);
        } else if (common::would_block(errno)) {
            co_await writable(deadline);  // a short write: wait for room
        } else if (errno != EINTR) {
            common::throw_errno("send");
        }
    }
}

Coro<common::Fd> connect(EventLoop& loop, std::string host, std::uint16_t port, std::optional<TimePoint> deadline) {
    common::Connecting connecting = common::start_connect(host, port);
    if (!connecting.in_progress) {
        co_return std::move(connecting.fd);  // loopback often connects at once
    }
    AsyncSocket socket(loop, std::move(connecting.fd));
    co_await socket.writable(deadline);
    if (const std::error_code ec = common::connect_error(socket.fd())) {
        throw std::system_error(ec, "connect " + host + ":" + std::to_string(port));
    }
    co_return socket.release();
}

}  // namespace ch06
