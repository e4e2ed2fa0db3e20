// echo_server.hpp: chapter 02's echo protocol on chapter 06's loop.
//
// One task per connection, composed from read_some and write_all, on epoll
// (or select, for comparison). It serves thousands of connections: it raises
// its descriptor limit at start, and when accept fails with EMFILE it keeps
// serving the connections it has and tries again after a pause instead of
// spinning. With select, a descriptor above FD_SETSIZE is refused and logged.
// With an idle timeout, a connection is closed when its peer lets that long
// pass after a message (or after connecting) without taking the echo and
// sending the next one: a silent peer, and also one that sends but never
// reads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "chapters/06_timers/clock.hpp"
#include "chapters/06_timers/selector.hpp"
#include "common/fd.hpp"
#include "common/stop_signal.hpp"

namespace ch06 {

struct EchoStats {
    std::uint64_t accepted = 0;
    std::uint64_t refused = 0;        // beyond what the selector can watch (select: fd >= FD_SETSIZE)
    std::uint64_t closed = 0;
    std::uint64_t idle_closed = 0;    // closed by the idle timeout
    std::uint64_t accept_pauses = 0;  // times accept ran out of descriptors
    std::uint64_t bytes_echoed = 0;
};

struct EchoServerOptions {
    SelectorKind selector = SelectorKind::best;
    std::optional<std::chrono::milliseconds> idle_timeout;
    std::chrono::milliseconds accept_pause{100};  // after EMFILE
    std::function<void(std::string_view)> log;     // default: a line on stderr
    // How to accept (default common::accept_connection). Tests replace it to
    // make accept fail with EMFILE without exhausting the process's table.
    std::function<std::optional<common::Fd>(int listen_fd)> accept;
    // Where the loop reads the time (default: steady_clock). Tests drive the
    // idle timeout with a clock they move by hand.
    std::shared_ptr<TimeSource> clock;
    EchoStats* stats = nullptr;                    // filled in when serve_echo returns
};

// Serves the echo protocol on `listen_fd` (non-blocking, not owned) until
// `stop` is notified, then closes every connection and returns.
void serve_echo(int listen_fd, const common::StopSignal& stop, const EchoServerOptions& options = {});

}  // namespace ch06
