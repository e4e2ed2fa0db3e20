// socket.hpp: ch06::AsyncSocket, a descriptor the loop can wait on.
//
// It owns the descriptor and its registration with the loop, and it
// unregisters before it closes: destroying the coroutine frame that holds an
// AsyncSocket can never leave the selector watching a closed (and perhaps
// already reused) descriptor (PITFALLS 3).
//
// Waits take an optional deadline. A timeout is how a crawl gives up on a
// slow server and how the echo server drops an idle client: the wait then
// throws TimeoutError, which the caller handles like any other error.
#pragma once

#include <coroutine>
#include <cstddef>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>

#include "chapters/06_timers/coro.hpp"
#include "chapters/06_timers/event_loop.hpp"
#include "common/fd.hpp"

namespace ch06 {

struct TimeoutError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class AsyncSocket {
public:
    AsyncSocket(EventLoop& loop, common::Fd fd) : loop_(loop), fd_(std::move(fd)) { watcher_.fd = fd_.get(); }
    ~AsyncSocket() { loop_.forget(watcher_); }  // unregister, then fd_ closes
    AsyncSocket(const AsyncSocket&) = delete;  // the selector holds our address
    AsyncSocket& operator=(const AsyncSocket&) = delete;

    [[nodiscard]] int fd() const { return fd_.get(); }

    // Unregisters and hands the descriptor back (connect() does, once connected).
    common::Fd release() {
        loop_.forget(watcher_);
        return std::move(fd_);
    }

    // `co_await socket.readable(deadline)`: resumes when the descriptor is
    // readable (errors and hang-ups count: the next recv reports them), or
    // throws TimeoutError at the deadline.
    //
    // The awaiter lives in the waiting frame, and the socket outlives it (the
    // socket is what the frame waits on). If the frame is destroyed while it
    // waits, the destructor cancels the deadline's timer and empties the
    // socket's slot: neither can resume a freed frame (PITFALLS 3).
    class WaitAwaiter {
    public:
        WaitAwaiter(AsyncSocket& socket, unsigned interest, std::optional<TimePoint> deadline)
            : socket_(socket), interest_(interest), deadline_(deadline) {}
        WaitAwaiter(const WaitAwaiter&) = delete;  // the timer's callback points at this awaiter
        WaitAwaiter& operator=(const WaitAwaiter&) = delete;
        ~WaitAwaiter();

        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> awaiting);
        void await_resume() const;

    private:
        std::coroutine_handle<>& slot() {
            return interest_ == interest_read ? socket_.watcher_.reader : socket_.watcher_.writer;
        }
        void on_deadline();

        AsyncSocket& socket_;
        unsigned interest_;
        std::optional<TimePoint> deadline_;
        std::coroutine_handle<> awaiting_;
        Handle timer_;
        bool timed_out_ = false;
    };
    WaitAwaiter readable(std::optional<TimePoint> deadline = std::nullopt) {
        return {*this, interest_read, deadline};
    }
    WaitAwaiter writable(std::optional<TimePoint> deadline = std::nullopt) {
        return {*this, interest_write, deadline};
    }

    // Waits until readable, then reads what is there: the byte count, 0 at
    // EOF. Throws std::system_error (ECONNRESET...) or TimeoutError.
    Coro<std::size_t> read_some(std::span<char> buffer, std::optional<TimePoint> deadline = std::nullopt);
    // Sends everything, waiting for writability only when the kernel's
    // buffer is full (a short write). Throws std::system_error, or
    // TimeoutError if the peer leaves no room until the deadline.
    Coro<> write_all(std::span<const char> bytes, std::optional<TimePoint> deadline = std::nullopt);

private:
    EventLoop& loop_;
    common::Fd fd_;
    IoWatcher watcher_;
};

// Connects a non-blocking socket to host:port, checking SO_ERROR once it is
// writable (writable means finished, not succeeded).
Coro<common::Fd> connect(EventLoop& loop, std::string host, std::uint16_t port,
                         std::optional<TimePoint> deadline = std::nullopt);

}  // namespace ch06
