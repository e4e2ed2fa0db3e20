#include "chapters/06_timers/echo_server.hpp"

#include <unistd.h>

#include <array>
#include <iostream>
#include <string>

#include "chapters/06_timers/socket.hpp"
#include "chapters/06_timers/task.hpp"
#include "common/net.hpp"

namespace ch06 {
namespace {

class EchoServer {
public:
    EchoServer(const EchoServerOptions& options)
        : options_(options), loop_(LoopOptions{.selector = options.selector, .clock = options.clock}) {}

    void run(int listen_fd, const common::StopSignal& stop) {
        create_task(loop_, wait_for_stop(common::Fd(::dup(stop.fd()))));
        create_task(loop_, accept_loop(common::Fd(::dup(listen_fd))));
        loop_.run_forever();
        // The loop's destructor destroys the tasks still running: each
        // connection's frame closes its socket.
        stats_.closed += live_;
        if (options_.stats != nullptr) {
            *options_.stats = stats_;
        }
    }

private:
    void log(const std::string& line) const {
        if (options_.log) {
            options_.log(line);
        } else {
            std::cerr << line << '\n';
        }
    }

    Coro<> wait_for_stop(common::Fd fd) {
        AsyncSocket stop(loop_, std::move(fd));
        co_await stop.readable();
        loop_.stop();
    }

    Coro<> accept_loop(common::Fd fd) {
        AsyncSocket listener(loop_, std::move(fd));
        for (;;) {
            co_await listener.readable();
            for (;;) {
                std::optional<common::Fd> connection;
                bool out_of_descriptors = false;
                try {
                    connection = options_.accept ? options_.accept(listener.fd())
                                                 : common::accept_connection(listener.fd());
                } catch (const std::system_error& e) {
                    log(std::string("echo server: ") + e.what() + "; pausing accept, serving the others");
                    out_of_descriptors = true;
                }
                if (out_of_descriptors) {
                    // The pending connection keeps the listener readable; we
                    // are not waiting on it now, so the loop stops watching
                    // it instead of spinning. Try again after a pause.
                    ++stats_.accept_pauses;
                    co_await loop_.sleep(options_.accept_pause);
                    continue;
                }
                if (!connection) {
                    break;
                }
                if (!loop_.can_watch(connection->get())) {
                    ++stats_.refused;
                    log("echo server: refusing connection: fd " + std::to_string(connection->get()) + " is beyond what " +
                        loop_.selector_name() + "() can watch");
                    continue;
                }
                ++stats_.accepted;
                ++live_;
                create_task(loop_, echo(std::move(*connection)));
            }
        }
    }

    Coro<> echo(common::Fd fd) {
        try {
            AsyncSocket socket(loop_, std::move(fd));
            std::array<char, 16 * 1024> buffer;
            // Each message the peer sends gives it idle_timeout to take the
            // echo and send the next one. The write has the deadline too: a
            // peer that sends but never reads would otherwise hold us forever
            // once our send buffer is full.
            std::optional<TimePoint> deadline = idle_deadline();
            for (;;) {
                const std::size_t n = co_await socket.read_some(buffer, deadline);
                if (n == 0) {
                    break;  // EOF
                }
                deadline = idle_deadline();
                co_await socket.write_all(std::span<const char>(buffer.data(), n), deadline);
                stats_.bytes_echoed += n;
            }
        } catch (const TimeoutError&) {
            ++stats_.idle_closed;
        } catch (const std::system_error&) {
            // ECONNRESET, EPIPE: this connection only.
        }
        --live_;
        ++stats_.closed;
    }

    // None without an idle timeout: then a wait costs no clock read and no timer.
    std::optional<TimePoint> idle_deadline() const {
        if (!options_.idle_timeout) {
            return std::nullopt;
        }
        return loop_.time() + *options_.idle_timeout;
    }

    const EchoServerOptions& options_;
    EventLoop loop_;
    EchoStats stats_;
    std::uint64_t live_ = 0;
};

}  // namespace

void serve_echo(int listen_fd, const common::StopSignal& stop, const EchoServerOptions& options) {
    common::raise_fd_limit();
    EchoServer server(options);
    server.run(listen_fd, stop);
}

}  // namespace ch06
