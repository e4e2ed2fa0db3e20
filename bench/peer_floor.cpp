// peer_floor.cpp: the floor. One epoll loop, no abstraction.
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "bench/peers.hpp"
#include "common/net.hpp"

namespace bench {

void serve_echo_floor(int listen_fd, const common::StopSignal& stop) {
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listen_fd;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev);
    ev.data.fd = stop.fd();
    ::epoll_ctl(ep, EPOLL_CTL_ADD, stop.fd(), &ev);
    std::unordered_map<int, std::string> pending;  // only for short writes
    std::vector<epoll_event> events(1024);
    static char buffer[64 * 1024];
    bool running = true;
    std::unordered_set<int> open;
    const auto close_fd = [&](int fd) {
        ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
        ::close(fd);
        pending.erase(fd);
        open.erase(fd);
    };
    while (running) {
        const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (fd == stop.fd()) {
                running = false;
                continue;
            }
            if (fd == listen_fd) {
                for (;;) {
                    const int c = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (c < 0) {
                        break;
                    }
                    ev.events = EPOLLIN;
                    ev.data.fd = c;
                    ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
                    open.insert(c);
                }
                continue;
            }
            if ((events[i].events & EPOLLOUT) != 0) {
                std::string& out = pending[fd];
                const ssize_t w = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
                if (w > 0) {
                    out.erase(0, static_cast<std::size_t>(w));
                }
                if (out.empty()) {
                    pending.erase(fd);
                    ev.events = EPOLLIN;
                    ev.data.fd = fd;
                    ::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
                }
                continue;
            }
            const ssize_t r = ::recv(fd, buffer, sizeof buffer, 0);
            if (r <= 0) {
                if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                    close_fd(fd);
                }
                continue;
            }
            const ssize_t w = ::send(fd, buffer, static_cast<std::size_t>(r), MSG_NOSIGNAL);
            const ssize_t sent = w < 0 ? 0 : w;
            if (sent < r) {
                pending[fd].append(buffer + sent, static_cast<std::size_t>(r - sent));
                ev.events = EPOLLOUT;  // stop reading until the rest is out
                ev.data.fd = fd;
                ::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
            }
        }
    }
    for (const int fd : open) {
        ::close(fd);
    }
    ::close(ep);
}

}  // namespace bench
