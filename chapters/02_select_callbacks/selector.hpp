// selector.hpp: ch02::Selector, Python's `selectors` shape on top of select(2).
//
// A selector remembers which descriptors we care about, for which events, and
// what to call when they are ready. select(2) itself is stateless: every call
// is handed the full set of descriptors again, and it answers with the subset
// that is ready. This class keeps that set and the callbacks.
//
// Two things here are easy to get wrong:
//   - FD_SET with a descriptor >= FD_SETSIZE (1024) writes past the end of
//     the fd_set. register_fd() refuses such descriptors with an exception
//     instead of corrupting memory.
//   - A callback may unregister or modify any descriptor, including one that
//     is ready in the same batch (a connection closed by another's callback,
//     and its number reused by accept), and including itself. run_once()
//     therefore looks each ready descriptor up again right before calling it,
//     skips it if it was unregistered or registered anew (a generation
//     number per registration tells a reused fd number from the old one),
//     and holds a reference to the callback while it runs, so a callback
//     that unregisters itself is not destroyed in the middle of its own call.
//
// It deliberately does not scale: select() is O(highest descriptor) per call
// and capped at FD_SETSIZE. Chapter 06 moves to epoll.
#pragma once

#include <sys/select.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace ch02 {

enum Event : unsigned { event_read = 1u, event_write = 2u };

// Called with the descriptor and which of its registered events are ready.
using Callback = std::function<void(int fd, unsigned ready_events)>;

struct Ready {
    int fd;
    unsigned events;
    // Which registration of `fd` select() answered for: run_once() compares
    // it with the current one, so a number closed and reused by a callback
    // of the same batch does not receive the old descriptor's readiness.
    std::uint64_t generation = 0;
};

class Selector {
public:
    explicit Selector(int max_fd = FD_SETSIZE);

    // Starts watching `fd` for `events` (event_read | event_write).
    // std::invalid_argument: already registered, or no/unknown events.
    // std::out_of_range: fd < 0 or fd >= max_fd (select() cannot watch it).
    void register_fd(int fd, unsigned events, Callback callback);
    // Changes the events (and optionally the callback) of a registered fd.
    void modify(int fd, unsigned events);
    void modify(int fd, unsigned events, Callback callback);
    // Stops watching `fd`. std::invalid_argument if it is not registered.
    void unregister(int fd);

    [[nodiscard]] bool is_registered(int fd) const;
    [[nodiscard]] unsigned events(int fd) const;  // 0 if not registered
    [[nodiscard]] std::size_t size() const { return count_; }
    [[nodiscard]] int max_fd() const { return max_fd_; }

    // Waits until a registered fd is ready or `timeout` passes (nullopt:
    // no timeout; zero: just look). EINTR is retried with the time left.
    std::vector<Ready> select(std::optional<std::chrono::milliseconds> timeout);

    // select(), then calls the callback of every ready fd that is still
    // registered (by the same registration that select() answered for),
    // with the ready events masked by its current interest.
    // Returns how many callbacks ran.
    std::size_t run_once(std::optional<std::chrono::milliseconds> timeout);

private:
    struct Key {
        unsigned events = 0;  // 0: not registered
        std::shared_ptr<Callback> callback;
        std::uint64_t generation = 0;  // which registration of this fd number
    };

    void check_fd(int fd) const;
    static void check_events(unsigned events);
    Key& registered_key(int fd);
    void set_interest(int fd, unsigned events);

    int max_fd_;
    std::size_t count_ = 0;
    std::uint64_t registrations_ = 0;  // source of Key::generation
    int highest_fd_ = -1;        // highest registered fd, for select's first argument
    std::vector<Key> keys_;      // indexed by fd: O(1) look-up
    fd_set read_set_{};          // the interest, kept up to date by register/modify
    fd_set write_set_{};
};

}  // namespace ch02
