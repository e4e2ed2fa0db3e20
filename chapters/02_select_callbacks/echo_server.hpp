// echo_server.hpp: chapter 02's echo server, in two styles on one Selector.
//
// Callback style: the accept, read and write steps are separate callbacks
// registered with the selector, and the state of each connection (its output
// buffer) lives in an object the callbacks share.
//
// Generator style: each connection is one coroutine that reads like blocking
// code; where it would block it yields a wait request ("resume me when fd is
// readable") and the loop turns that request into a selector registration.
// This is chapter 01's round robin, now resumed only when it can progress.
//
// Both keep the rules of real networking: non-blocking sockets, short writes
// buffered, write interest only while output is pending, backpressure, EOF
// closes a connection once its echo is sent, ECONNRESET closes only that
// connection, MSG_NOSIGNAL, no fd leak, a
// descriptor select() cannot watch is refused with a log line.
#pragma once

#include <sys/select.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "common/stop_signal.hpp"

namespace ch02 {

enum class Style { callbacks, generators };

// Both styles read at most this much per recv().
inline constexpr std::size_t read_size = 64 * 1024;

// What happened, filled in when serve_echo returns (tests read it).
struct EchoStats {
    std::uint64_t accepted = 0;
    std::uint64_t refused = 0;             // fd >= max_fd: closed at once
    std::uint64_t closed = 0;              // connections closed (EOF, reset, shutdown)
    std::uint64_t bytes_echoed = 0;
    // Times backpressure stopped reading from a client: callbacks, each time
    // its unsent output rose above high_water; generators, each time a
    // received chunk could not be sent back at once (one count per chunk,
    // however many waits for writability it then takes).
    std::uint64_t reads_paused = 0;
    // Largest unsent output one connection held (received, not yet sent).
    std::size_t peak_pending_output = 0;
};

struct EchoServerOptions {
    Style style = Style::callbacks;
    // Backpressure, callback style only: stop reading from a client whose
    // unsent output exceeds high_water; start again once it is at or below
    // low_water (0: only when all of it is sent). low_water > high_water is
    // an error (std::invalid_argument from serve_echo).
    // The generator style ignores both: it sends each chunk back before it
    // reads the next, so it holds at most read_size bytes per connection and
    // stops reading exactly while a send would block.
    std::size_t high_water = 256 * 1024;
    std::size_t low_water = 64 * 1024;
    int max_fd = FD_SETSIZE;  // descriptors at or above it are refused
    std::function<void(std::string_view)> log;  // default: a line on stderr
    EchoStats* stats = nullptr;                  // optional
    // Called on the server's thread each time reads_paused is counted: an
    // event a test can wait on instead of sleeping.
    std::function<void()> on_reads_paused;
};

// Serves the echo protocol on `listen_fd` (non-blocking, not owned) until
// `stop` is notified, then closes every connection and returns. A client that
// half-closes (shutdown(SHUT_WR)) still gets all of its echo, then EOF.
// std::invalid_argument if the options are inconsistent (see low_water).
void serve_echo(int listen_fd, const common::StopSignal& stop,
                const EchoServerOptions& options = {});

}  // namespace ch02
