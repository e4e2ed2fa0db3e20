// echo_load.hpp: the one echo client that tests, tools and benchmarks share.
//
// K connections, each with one message of S bytes in flight: send it, read
// the S bytes back, check them, send the next. Every message carries a
// pattern that depends on its connection and its number, so lost, reordered
// or crossed bytes are caught, not just counted. It runs its own epoll loop:
// it is a measuring instrument, not a lesson, and must be the same for every
// server it measures.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace common {

struct EchoLoadOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    std::size_t connections = 1;
    std::size_t message_size = 64;
    // The run gives up (and reports it) after this long without progress.
    std::chrono::milliseconds stall_timeout{20'000};
};

struct EchoLoadResult {
    std::size_t connections = 0;         // connections that took part
    std::size_t failed_connections = 0;  // closed, reset or stalled before their last echo
    std::uint64_t messages = 0;          // round trips completed and verified
    std::uint64_t bytes_echoed = 0;      // bytes received back and verified
    std::uint64_t corrupted = 0;         // messages whose echo did not match
    double seconds = 0;                  // wall time of the run
    std::vector<std::string> errors;     // one line per failed connection (first few)

    [[nodiscard]] bool ok() const { return failed_connections == 0 && corrupted == 0; }
};

class EchoLoad {
public:
    // Connects all connections (throws std::system_error if one cannot).
    explicit EchoLoad(EchoLoadOptions options);
    ~EchoLoad();
    EchoLoad(const EchoLoad&) = delete;
    EchoLoad& operator=(const EchoLoad&) = delete;

    // Every live connection makes `messages_per_connection` round trips.
    // Can be called again on the same connections (benchmarks do).
    EchoLoadResult run(std::size_t messages_per_connection);

    // Closes every connection now (the server should see EOF on each).
    void close_all();

private:
    struct State;
    std::unique_ptr<State> state_;
};

// Connects, runs `messages` round trips per connection, closes.
EchoLoadResult run_echo_load(const EchoLoadOptions& options, std::size_t messages);

}  // namespace common
