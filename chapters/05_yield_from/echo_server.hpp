// echo_server.hpp: chapter 02's echo protocol with composed coroutines.
//
// Each connection is `read` and `write_all` awaited in a loop (net.hpp), run
// as a task on chapter 02's select() loop.
#pragma once

#include <sys/select.h>

#include <cstdint>
#include <functional>
#include <string_view>

#include "common/stop_signal.hpp"

namespace ch05 {

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

}  // namespace ch05
