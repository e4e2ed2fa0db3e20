#include "common/echo_load.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/net.hpp"

namespace common {
namespace {

constexpr std::size_t kPatternSpread = 251;  // a prime: offsets cycle without aligning to sizes

struct Connection {
    Fd fd;
    std::vector<unsigned char> pattern;  // message m is pattern[m % spread ..][0 .. size)
    std::vector<unsigned char> received;
    std::uint64_t message_index = 0;
    std::size_t sent = 0;      // bytes of the current message sent
    std::size_t got = 0;       // bytes of the current message received
    std::uint64_t remaining = 0;
    bool failed = false;
    bool want_write = false;
};

}  // namespace

struct EchoLoad::State {
    EchoLoadOptions options;
    Fd epoll;
    std::vector<Connection> connections;

    void watch(std::size_t index, bool write) {
        Connection& c = connections[index];
        epoll_event ev{};
        ev.events = EPOLLIN | (write ? EPOLLOUT : 0u);
        ev.data.u64 = index;
        if (::epoll_ctl(epoll.get(), EPOLL_CTL_MOD, c.fd.get(), &ev) != 0) {
            throw_errno("epoll_ctl(MOD)");
        }
        c.want_write = write;
    }

    const unsigned char* message(const Connection& c) const {
        return c.pattern.data() + c.message_index % kPatternSpread;
    }
};

EchoLoad::EchoLoad(EchoLoadOptions options) : state_(std::make_unique<State>()) {
    State& s = *state_;
    s.options = std::move(options);
    s.epoll = Fd(::epoll_create1(EPOLL_CLOEXEC));
    if (!s.epoll) {
        throw_errno("epoll_create1");
    }
    const std::size_t size = std::max<std::size_t>(s.options.message_size, 1);
    s.connections.resize(s.options.connections);
    for (std::size_t i = 0; i < s.connections.size(); ++i) {
        Connection& c = s.connections[i];
        c.fd = connect_blocking(s.options.host, s.options.port);
        set_nonblocking(c.fd.get());
        set_nodelay(c.fd.get());
        c.pattern.resize(size + kPatternSpread);
        for (std::size_t b = 0; b < c.pattern.size(); ++b) {
            c.pattern[b] = static_cast<unsigned char>((i * 131 + b * 7 + (b >> 8)) & 0xff);
        }
        c.received.resize(size);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        if (::epoll_ctl(s.epoll.get(), EPOLL_CTL_ADD, c.fd.get(), &ev) != 0) {
            throw_errno("epoll_ctl(ADD)");
        }
    }
}

EchoLoad::~EchoLoad() = default;

void EchoLoad::close_all() {
    for (Connection& c : state_->connections) {
        c.fd.reset();
    }
}

EchoLoadResult EchoLoad::run(std::size_t messages_per_connection) {
    State& s = *state_;
    const std::size_t size = std::max<std::size_t>(s.options.message_size, 1);
    EchoLoadResult result;
    result.connections = s.connections.size();
    std::size_t active = 0;
    const auto fail = [&](Connection& c, std::size_t index, const std::string& why) {
        c.failed = true;
        if (c.remaining > 0) {
            c.remaining = 0;
            --active;
        }
        if (c.fd) {
            ::epoll_ctl(s.epoll.get(), EPOLL_CTL_DEL, c.fd.get(), nullptr);
            c.fd.reset();
        }
        ++result.failed_connections;
        if (result.errors.size() < 8) {
            result.errors.push_back("connection " + std::to_string(index) + ": " + why);
        }
    };

    // Sends as much of the current message as the socket takes now.
    const auto pump_send = [&](Connection& c, std::size_t index) {
        while (c.sent < size) {
            const ssize_t n = ::send(c.fd.get(), s.message(c) + c.sent, size - c.sent,
                                     MSG_NOSIGNAL);
            if (n > 0) {
                c.sent += static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0 && would_block(errno)) {
                if (!c.want_write) {
                    s.watch(index, true);
                }
                return;
            }
            fail(c, index, std::string("send: ") + std::strerror(errno));
            return;
        }
        if (c.want_write) {
            s.watch(index, false);
        }
    };

    const auto begin = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < s.connections.size(); ++i) {
        Connection& c = s.connections[i];
        if (!c.fd || c.failed) {
            ++result.failed_connections;
            continue;
        }
        c.remaining = messages_per_connection;
        c.sent = c.got = 0;
        if (c.remaining > 0) {
            ++active;
            pump_send(c, i);
        }
    }

    std::vector<epoll_event> events(std::min<std::size_t>(s.connections.size() + 1, 4096));
    const int timeout_ms = static_cast<int>(s.options.stall_timeout.count());
    while (active > 0) {
        const int n = ::epoll_wait(s.epoll.get(), events.data(), static_cast<int>(events.size()),
                                   timeout_ms);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw_errno("epoll_wait");
        }
        if (n == 0) {
            for (std::size_t i = 0; i < s.connections.size(); ++i) {
                if (s.connections[i].remaining > 0) {
                    fail(s.connections[i], i, "no progress for " + std::to_string(timeout_ms) +
                                                  " ms (message " +
                                                  std::to_string(s.connections[i].message_index) +
                                                  ")");
                }
            }
            break;
        }
        for (int e = 0; e < n; ++e) {
            const std::size_t index = events[e].data.u64;
            Connection& c = s.connections[index];
            if (!c.fd) {
                continue;
            }
            if ((events[e].events & EPOLLOUT) != 0 && c.sent < size) {
                pump_send(c, index);
                if (!c.fd) {
                    continue;
                }
            }
            if ((events[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) == 0) {
                continue;
            }
            // Read what has arrived of the echo.
            while (c.fd) {
                const ssize_t got =
                    ::recv(c.fd.get(), c.received.data() + c.got, size - c.got, 0);
                if (got > 0) {
                    c.got += static_cast<std::size_t>(got);
                    if (c.got < size) {
                        continue;
                    }
                    if (c.sent < size || c.remaining == 0) {
                        fail(c, index, "server sent bytes that were not asked for");
                        break;
                    }
                    if (std::memcmp(c.received.data(), s.message(c), size) != 0) {
                        ++result.corrupted;
                        fail(c, index, "echo differs from message " +
                                           std::to_string(c.message_index));
                        break;
                    }
                    ++result.messages;
                    result.bytes_echoed += size;
                    ++c.message_index;
                    c.sent = c.got = 0;
                    if (--c.remaining == 0) {
                        --active;
                        break;
                    }
                    pump_send(c, index);
                    continue;
                }
                if (got == 0) {
                    fail(c, index, "server closed the connection");
                } else if (errno == EINTR) {
                    continue;
                } else if (!would_block(errno)) {
                    fail(c, index, std::string("recv: ") + std::strerror(errno));
                }
                break;
            }
        }
    }
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    return result;
}

EchoLoadResult run_echo_load(const EchoLoadOptions& options, std::size_t messages) {
    EchoLoad load(options);
    EchoLoadResult result = load.run(messages);
    load.close_all();
    return result;
}

}  // namespace common
