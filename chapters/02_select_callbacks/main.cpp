// main.cpp: the 02_select_callbacks executable.
//
//   02_select_callbacks                      a demo that ends by itself
//   02_select_callbacks echo-server [...]    serve until SIGINT/SIGTERM
//   02_select_callbacks echo-client [...]    talk to a server and check every byte
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "chapters/02_select_callbacks/echo_server.hpp"
#include "common/cli.hpp"
#include "common/echo_load.hpp"
#include "common/net.hpp"
#include "common/stop_signal.hpp"

namespace {

constexpr std::string_view kUsage = R"(usage: 02_select_callbacks [COMMAND] [FLAGS]

An echo server on select(2), written twice: with callbacks and with generators.

commands:
  (none)        run a demo: both server styles, in this process, with a few clients
  echo-server   [--host H] [--port N] [--style callbacks|generators]
                serve until SIGINT or SIGTERM; the first line printed is
                "listening on HOST:PORT" (port 0, the default, picks a free one)
  echo-client   --port N [--host H] [--connections K] [--messages M] [--size S]
                open K connections, make M round trips of S bytes on each,
                check every byte; exit 1 if anything was lost or corrupted
  --help        this text
)";

ch02::Style parse_style(const std::string& name) {
    return name == "generators" ? ch02::Style::generators : ch02::Style::callbacks;
}

// Messages per second, or nothing for a run too short for the clock to see
// (converting the infinite quotient to an integer is undefined behaviour).
std::optional<std::uint64_t> messages_per_second(const common::EchoLoadResult& r) {
    if (r.seconds <= 0) {
        return std::nullopt;
    }
    return static_cast<std::uint64_t>(static_cast<double>(r.messages) / r.seconds);
}

int echo_server(const common::Args& args) {
    const std::string host = args.string_or("host", "127.0.0.1");
    const auto port = static_cast<std::uint16_t>(args.int_or("port", 0, 0, 65535));
    ch02::EchoServerOptions options;
    options.style = parse_style(args.choice_or("style", "callbacks", {"callbacks", "generators"}));
    common::ignore_sigpipe();
    // The default soft limit (often 1024) would make accept fail with EMFILE
    // before a descriptor reaches FD_SETSIZE, hiding the server's own limit.
    common::raise_fd_limit();
    common::StopSignal stop;
    common::notify_on_termination_signals(stop);
    const common::Listener listener = common::listen_tcp(host, port);
    std::cout << "listening on " << listener.host << ":" << listener.port << std::endl;
    ch02::serve_echo(listener.fd.get(), stop, options);
    std::cout << "stopped" << std::endl;
    return 0;
}

int echo_client(const common::Args& args) {
    if (!args.has("port")) {
        throw common::UsageError("echo-client needs --port");
    }
    common::EchoLoadOptions options;
    options.host = args.string_or("host", "127.0.0.1");
    options.port = static_cast<std::uint16_t>(args.int_or("port", 0, 1, 65535));
    options.connections = static_cast<std::size_t>(args.int_or("connections", 10, 1, 100000));
    options.message_size = static_cast<std::size_t>(args.int_or("size", 64, 1, 64 << 20));
    const auto messages = static_cast<std::size_t>(args.int_or("messages", 100, 1, 100'000'000));
    common::raise_fd_limit();
    const common::EchoLoadResult r = common::run_echo_load(options, messages);
    std::cout << r.messages << " messages (" << r.bytes_echoed << " bytes) echoed intact over "
              << r.connections << " connections in " << r.seconds << " s";
    if (const auto per_second = messages_per_second(r)) {
        std::cout << " (" << *per_second << " messages/s)";
    }
    std::cout << "\n";
    for (const std::string& e : r.errors) {
        std::cout << "error: " << e << "\n";
    }
    return r.ok() ? 0 : 1;
}

// serve_echo on a thread of its own, stopped and joined however the scope
// is left: a client-side exception would otherwise destroy a joinable
// std::thread (std::terminate) with the server never told to stop.
class ServerThread {
public:
    ServerThread(int listen_fd, ch02::EchoServerOptions options)
        : options_(std::move(options)),
          thread_([this, listen_fd] { ch02::serve_echo(listen_fd, stop_, options_); }) {}
    ServerThread(const ServerThread&) = delete;
    ServerThread& operator=(const ServerThread&) = delete;
    ~ServerThread() { stop(); }

    void stop() {
        if (thread_.joinable()) {
            stop_.notify();
            thread_.join();
        }
    }

private:
    common::StopSignal stop_;
    ch02::EchoServerOptions options_;
    std::thread thread_;  // last: starts once the members it uses exist
};

void demo_style(ch02::Style style, const char* name) {
    std::cout << "== " << name << " style\n";
    const common::Listener listener = common::listen_tcp();
    ch02::EchoStats stats;
    ch02::EchoServerOptions options;
    options.style = style;
    options.stats = &stats;
    ServerThread server(listener.fd.get(), options);
    const common::EchoLoadResult r =
        common::run_echo_load({.port = listener.port, .connections = 50, .message_size = 1000}, 200);
    server.stop();  // the stats are complete once it has returned
    std::cout << "  50 clients x 200 round trips of 1000 bytes: " << r.messages
              << " messages echoed intact, " << r.errors.size() << " errors";
    if (const auto per_second = messages_per_second(r)) {
        std::cout << ", " << *per_second << " messages/s";
    }
    std::cout << "\n  server: accepted " << stats.accepted << ", closed " << stats.closed
              << ", echoed " << stats.bytes_echoed << " bytes, largest pending output "
              << stats.peak_pending_output << " bytes\n";
}

int demo() {
    common::ignore_sigpipe();
    std::cout << "One thread, one select() loop, many clients at once.\n\n";
    demo_style(ch02::Style::callbacks, "callback");
    demo_style(ch02::Style::generators, "generator");
    std::cout << "\nLook at: both styles serve 50 connections concurrently on one thread;\n"
                 "the work per message is the same, only where the state lives differs\n"
                 "(an object shared by callbacks, or the locals of a paused generator).\n"
                 "Try: echo-server in one terminal, echo-client or `nc 127.0.0.1 PORT` in another.\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return common::run_main(argc, argv, "02_select_callbacks", kUsage, [](std::vector<std::string> args) {
        if (args.empty()) {
            return demo();
        }
        const std::string command = args.front();
        const std::vector<std::string> rest(args.begin() + 1, args.end());
        if (command == "echo-server") {
            return echo_server(common::Args::parse(rest, {{"host"}, {"port"}, {"style"}}));
        }
        if (command == "echo-client") {
            return echo_client(common::Args::parse(
                rest, {{"host"}, {"port"}, {"connections"}, {"messages"}, {"size"}}));
        }
        throw common::UsageError("unknown command '" + command + "'");
    });
}
