// echo_server.hpp: chapter 02's echo protocol, one Task per connection.
//
// Each connection is a coroutine that waits for readability, reads, and
// sends everything back (waiting for writability on a short write), driven
// by a Task on chapter 02's select() loop. The benchmarks set it against
// chapter 02's callbacks on the same work.
#pragma once

#include <sys/select.h>

#include <cstdint>
#include <functional>
#include <string_view>

#include "common/stop_signal.hpp"

namespace ch04 {

struct EchoStats {
    std::uint64_t accepted = 0;
    std::uint64_t refused = 0;  // fd >= FD_SETSIZE
    std::uint64_t closed = 0;
    std::uint64_t bytes_echoed = 0;
};

struct EchoServerOptions {
    std::function<void(std::string_view)> log;  // default: a line on stderr
    EchoStats* stats = nullptr;                  // filled in when serve_echo returns
};

// Serves the echo protocol on `listen_fd` (non-blocking, not owned) until
// `stop` is notified, then closes every connection and returns.
void serve_echo(int listen_fd, const common::StopSignal& stop, const EchoServerOptions& options = {});

}  // namespace ch04
