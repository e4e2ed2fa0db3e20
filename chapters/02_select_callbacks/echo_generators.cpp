// echo_generators.cpp: the echo server as one generator per connection.
//
// Each connection reads like blocking code: wait until readable, recv, send
// it all back (waiting until writable when the socket is full), repeat. The
// scheduler below is chapter 01's round robin with one change: a task goes
// back to the selector, not to the end of a queue, and is resumed only when
// the descriptor it named is ready.
#include <sys/socket.h>

#include <cstdint>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "chapters/02_select_callbacks/echo_server.hpp"
#include "chapters/02_select_callbacks/io_task.hpp"
#include "chapters/02_select_callbacks/selector.hpp"
#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/net.hpp"

namespace ch02 {
namespace {

class GeneratorEchoServer {
public:
    GeneratorEchoServer(int listen_fd, const common::StopSignal& stop, const EchoServerOptions& options)
        : options_(options), selector_(options.max_fd) {
        selector_.register_fd(stop.fd(), event_read, [this](int, unsigned) { stopping_ = true; });
        accept_task_ = spawn(accept_loop(listen_fd));
    }

    ~GeneratorEchoServer() {
        // Unregister before the frames (and the sockets in them) go away.
        for (auto& [id, entry] : tasks_) {
            if (entry.registered_fd >= 0) {
                selector_.unregister(entry.registered_fd);
            }
        }
    }

    void run() {
        while (!stopping_) {
            selector_.run_once(std::nullopt);
        }
        stats_.closed += tasks_.size() - (tasks_.count(accept_task_) != 0 ? 1 : 0);
        if (options_.stats != nullptr) {
            *options_.stats = stats_;
        }
    }

private:
    struct Entry {
        IoTask task;
        int registered_fd = -1;
    };

    void log(const std::string& line) const {
        if (options_.log) {
            options_.log(line);
        } else {
            std::cerr << line << '\n';
        }
    }

    // The generators. Parameters by value: they live in the frame.
    IoTask accept_loop(int listen_fd) {
        for (;;) {
            co_yield Wait{listen_fd, event_read};
            for (;;) {
                std::optional<common::Fd> fd;
                bool out_of_descriptors = false;
                try {
                    fd = common::accept_connection(listen_fd);
                } catch (const std::system_error& e) {
                    // EMFILE/ENFILE. (co_yield is not allowed inside a catch
                    // block, hence the flag.)
                    log(std::string("echo server: ") + e.what() +
                        "; accepting again when a connection closes");
                    out_of_descriptors = true;
                }
                if (out_of_descriptors) {
                    co_yield Wait{listen_fd, 0};  // park: woken when a connection closes
                    continue;
                }
                if (!fd) {
                    break;
                }
                if (fd->get() >= selector_.max_fd()) {
                    ++stats_.refused;
                    log("echo server: refusing connection: fd " + std::to_string(fd->get()) +
                        " is beyond what select() can watch (" + std::to_string(selector_.max_fd()) + ")");
                    continue;
                }
                ++stats_.accepted;
                spawn(echo_connection(std::move(*fd)));
            }
        }
    }

    IoTask echo_connection(common::Fd fd) {
        std::vector<char> buffer(read_size);
        std::uint64_t received = 0;  // the difference is the unsent output
        std::uint64_t returned = 0;  // this connection holds
        for (;;) {
            co_yield Wait{fd.get(), event_read};
            const ssize_t n = ::recv(fd.get(), buffer.data(), buffer.size(), 0);
            if (n == 0) {
                co_return;  // EOF: everything read before it is sent back already
            }
            if (n < 0) {
                if (common::would_block(errno) || errno == EINTR) {
                    continue;
                }
                co_return;  // ECONNRESET and friends
            }
            // Send it all back before reading more: while the client does not
            // read, we do not either. That is backpressure, for free, and
            // why this style needs no water marks.
            std::size_t sent = 0;
            const auto size = static_cast<std::size_t>(n);
            received += size;
            stats_.peak_pending_output =
                std::max(stats_.peak_pending_output, static_cast<std::size_t>(received - returned));
            bool paused = false;
            while (sent < size) {
                const ssize_t m = ::send(fd.get(), buffer.data() + sent, size - sent, MSG_NOSIGNAL);
                if (m > 0) {
                    sent += static_cast<std::size_t>(m);
                    returned += static_cast<std::uint64_t>(m);
                    stats_.bytes_echoed += static_cast<std::uint64_t>(m);
                } else if (m < 0 && errno == EINTR) {
                    continue;
                } else if (m < 0 && common::would_block(errno)) {
                    if (!paused) {  // reading stops once per chunk, however many waits follow
                        paused = true;
                        ++stats_.reads_paused;
                        if (options_.on_reads_paused) {
                            options_.on_reads_paused();
                        }
                    }
                    co_yield Wait{fd.get(), event_write};
                } else {
                    co_return;  // EPIPE, ECONNRESET
                }
            }
        }
    }  // the frame's Fd closes the socket when the task is destroyed

    // Takes ownership of a new task and runs it to its first wait.
    std::uint64_t spawn(IoTask task) {
        const std::uint64_t id = next_id_++;
        tasks_.emplace(id, Entry{std::move(task), -1});
        step(id);
        return id;
    }

    // Resumes task `id` and turns its next wait request into a registration.
    void step(std::uint64_t id) {
        Entry& entry = tasks_.at(id);
        try {
            entry.task.resume();
        } catch (const std::exception& e) {
            log(std::string("echo server: task failed: ") + e.what());
        } catch (...) {
            log("echo server: task failed with a non-standard exception");
        }
        if (entry.task.done()) {
            return finish(id);
        }
        const Wait wait = entry.task.wait();
        if (entry.registered_fd >= 0 && entry.registered_fd != wait.fd) {
            selector_.unregister(entry.registered_fd);
            entry.registered_fd = -1;
        }
        if (wait.events == 0) {  // parked
            if (entry.registered_fd >= 0) {
                selector_.unregister(entry.registered_fd);
                entry.registered_fd = -1;
            }
            parked_accept_ = true;
            return;
        }
        if (entry.registered_fd == wait.fd) {
            if (selector_.events(wait.fd) != wait.events) {
                selector_.modify(wait.fd, wait.events);
            }
            return;
        }
        selector_.register_fd(wait.fd, wait.events, [this, id](int, unsigned) { step(id); });
        entry.registered_fd = wait.fd;
    }

    // A finished task: unregister its fd, then destroy the frame (closing
    // the socket). In that order: a closed fd number can be reused at once.
    void finish(std::uint64_t id) {
        auto it = tasks_.find(id);
        if (it->second.registered_fd >= 0) {
            selector_.unregister(it->second.registered_fd);
        }
        tasks_.erase(it);
        ++stats_.closed;
        if (parked_accept_) {
            parked_accept_ = false;
            step(accept_task_);
        }
    }

    const EchoServerOptions& options_;
    Selector selector_;
    std::map<std::uint64_t, Entry> tasks_;  // node-based: entries stay put while others are added
    std::uint64_t next_id_ = 1;
    std::uint64_t accept_task_ = 0;
    EchoStats stats_;
    bool stopping_ = false;
    bool parked_accept_ = false;
};

}  // namespace

void serve_echo_with_generators(int listen_fd, const common::StopSignal& stop,
                                const EchoServerOptions& options) {
    GeneratorEchoServer server(listen_fd, stop, options);
    server.run();
}

}  // namespace ch02
