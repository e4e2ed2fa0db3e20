#include "chapters/05_yield_from/echo_server.hpp"

#include <array>
#include <iostream>
#include <string>

#include "chapters/05_yield_from/io.hpp"
#include "chapters/05_yield_from/net.hpp"
#include "common/net.hpp"

namespace ch05 {
namespace {

class EchoServer {
public:
    explicit EchoServer(const EchoServerOptions& options) : options_(options) {}

    void run(int listen_fd, const common::StopSignal& stop) {
        io_.selector().register_fd(stop.fd(), ch02::event_read, [this](int, unsigned) { stopping_ = true; });
        io_.spawn(accept_loop(listen_fd));
        while (!stopping_) {
            io_.run_once();
        }
        stats_.closed += live_;  // ~Io destroys the frames still running: their sockets close
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

    Coro<> accept_loop(int listen_fd) {
        for (;;) {
            co_await io_.readable(listen_fd);
            for (;;) {
                std::optional<common::Fd> fd;
                bool out_of_descriptors = false;
                try {
                    fd = common::accept_connection(listen_fd);
                } catch (const std::system_error& e) {
                    log(std::string("echo server: ") + e.what() + "; accepting again when a connection closes");
                    out_of_descriptors = true;
                }
                if (out_of_descriptors) {
                    slot_freed_ = std::make_shared<Future<Unit>>();
                    co_await *slot_freed_;  // EMFILE: wait for a connection to close, do not spin
                    continue;
                }
                if (!fd) {
                    break;
                }
                if (fd->get() >= io_.selector().max_fd()) {
                    ++stats_.refused;
                    log("echo server: refusing connection: fd " + std::to_string(fd->get()) +
                        " is beyond what select() can watch");
                    continue;
                }
                ++stats_.accepted;
                ++live_;
                io_.spawn(echo(std::move(*fd)));
            }
        }
    }

    Coro<> echo(common::Fd fd) {
        std::array<char, 16 * 1024> buffer;
        try {
            for (;;) {
                const std::size_t n = co_await read(io_, fd.get(), buffer);
                if (n == 0) {
                    break;  // EOF
                }
                co_await write_all(io_, fd.get(), std::span<const char>(buffer.data(), n));
                stats_.bytes_echoed += n;
            }
        } catch (const std::system_error&) {
            // ECONNRESET, EPIPE: this connection only.
        }
        --live_;
        ++stats_.closed;
        if (slot_freed_) {
            std::exchange(slot_freed_, nullptr)->set_result(Unit{});
        }
    }

    const EchoServerOptions& options_;
    Io io_;
    std::shared_ptr<Future<Unit>> slot_freed_;
    EchoStats stats_;
    std::uint64_t live_ = 0;
    bool stopping_ = false;
};

}  // namespace

void serve_echo(int listen_fd, const common::StopSignal& stop, const EchoServerOptions& options) {
    EchoServer server(options);
    server.run(listen_fd, stop);
}

}  // namespace ch05
