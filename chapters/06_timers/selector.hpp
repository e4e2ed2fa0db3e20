// selector.hpp: the loop's view of the kernel's readiness API.
//
// Chapter 02 was built on select(2): O(highest fd) per call, and capped at
// FD_SETSIZE (1024) descriptors. Production loops use the best mechanism the
// platform has (asyncio's DefaultSelector is epoll on Linux, libuv and Asio
// use epoll too). epoll keeps the interest set in the kernel: a descriptor is
// registered once and each wait costs O(ready), not O(registered).
//
// Both live behind this interface; the loop picks epoll unless told
// otherwise, and the tests run the echo server on both.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

namespace ch06 {

enum Interest : unsigned { interest_read = 1u, interest_write = 2u };

struct IoEvent {
    void* token;      // what was registered with the fd
    unsigned events;  // interest_read / interest_write; errors and hang-ups wake both
};

class Selector {
public:
    virtual ~Selector() = default;
    // `token` comes back in IoEvent; the caller keeps it valid until remove().
    virtual void add(int fd, unsigned interest, void* token) = 0;
    virtual void modify(int fd, unsigned interest, void* token) = 0;
    virtual void remove(int fd) = 0;
    // Waits up to `timeout` (nullopt: no limit) and appends what is ready to
    // `events`. A signal (EINTR) returns early with nothing: the loop
    // recomputes its timeout and waits again.
    virtual void wait(std::optional<std::chrono::nanoseconds> timeout, std::vector<IoEvent>& events) = 0;
    // False for a descriptor add() would refuse (select: fd >= FD_SETSIZE).
    [[nodiscard]] virtual bool can_watch(int fd) const = 0;
    [[nodiscard]] virtual const char* name() const = 0;
};

enum class SelectorKind { best, epoll, select };

std::unique_ptr<Selector> make_selector(SelectorKind kind = SelectorKind::best);

}  // namespace ch06
