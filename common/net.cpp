#include "common/net.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <stdexcept>

#include "common/error.hpp"

namespace common {
namespace {

sockaddr_in make_address(const std::string& host, std::uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    const std::string numeric = host == "localhost" ? "127.0.0.1" : host;
    if (::inet_pton(AF_INET, numeric.c_str(), &addr.sin_addr) != 1) {
        throw std::invalid_argument("not an IPv4 address: '" + host + "'");
    }
    return addr;
}

Fd make_socket() {
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        throw_errno("socket");
    }
    return fd;
}

}  // namespace

Listener listen_tcp(const std::string& host, std::uint16_t port, int backlog) {
    const sockaddr_in addr = make_address(host, port);
    Fd fd = make_socket();
    const int one = 1;
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
        throw_errno("setsockopt(SO_REUSEADDR)");
    }
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        throw_errno("bind " + host + ":" + std::to_string(port));
    }
    if (::listen(fd.get(), backlog) != 0) {
        throw_errno("listen");
    }
    sockaddr_in bound{};
    socklen_t len = sizeof bound;
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
        throw_errno("getsockname");
    }
    return Listener{std::move(fd), host, ntohs(bound.sin_port)};
}

std::optional<Fd> accept_connection(int listen_fd) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
        return Fd(fd);
    }
    const int err = errno;
    if (would_block(err) || err == EINTR || err == ECONNABORTED || err == EPROTO) {
        return std::nullopt;
    }
    throw_errno("accept4", err);
}

Connecting start_connect(const std::string& host, std::uint16_t port, int max_fd) {
    const sockaddr_in addr = make_address(host, port);
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        const int err = errno;
        if (err == EMFILE || err == ENFILE) {
            throw OutOfDescriptors(err, std::generic_category(), "socket");
        }
        throw_errno("socket", err);
    }
    if (fd.get() >= max_fd) {
        throw OutOfDescriptors(EMFILE, std::generic_category(),
                               "socket: no descriptor below " + std::to_string(max_fd) +
                                   " (what the caller can watch) is free");
    }
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
        return Connecting{std::move(fd), false};
    }
    if (errno == EINPROGRESS || errno == EINTR) {
        // EINTR: the connect goes on in the background, as with EINPROGRESS.
        return Connecting{std::move(fd), true};
    }
    throw_errno("connect " + host + ":" + std::to_string(port));
}

std::error_code connect_error(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        err = errno;
    }
    return {err, std::generic_category()};
}

Fd connect_blocking(const std::string& host, std::uint16_t port) {
    const sockaddr_in addr = make_address(host, port);
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) {
        throw_errno("socket");
    }
    int rc;
    do {
        rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        throw_errno("connect " + host + ":" + std::to_string(port));
    }
    return fd;
}

void set_nonblocking(int fd, bool on) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) {
        throw_errno("fcntl(F_GETFL)");
    }
    const int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    if (wanted != flags && ::fcntl(fd, F_SETFL, wanted) != 0) {
        throw_errno("fcntl(F_SETFL)");
    }
}

void set_nodelay(int fd) {
    const int one = 1;
    if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
        throw_errno("setsockopt(TCP_NODELAY)");
    }
}

void reset_connection(Fd fd) {
    const linger lg{1, 0};
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg) != 0) {
        throw_errno("setsockopt(SO_LINGER)");
    }
    fd.reset();  // close() with a zero linger sends RST
}

std::size_t open_fd_count() {
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) {
        throw_errno("opendir /proc/self/fd");
    }
    std::size_t count = 0;
    while (const dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] != '.') {
            ++count;
        }
    }
    ::closedir(dir);
    return count - 1;  // the directory stream's own descriptor
}

std::size_t raise_fd_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        throw_errno("getrlimit(RLIMIT_NOFILE)");
    }
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
            throw_errno("setrlimit(RLIMIT_NOFILE)");
        }
    }
    return static_cast<std::size_t>(limit.rlim_cur);
}

void ignore_sigpipe() {
    struct sigaction action {};
    action.sa_handler = SIG_IGN;
    ::sigemptyset(&action.sa_mask);
    if (::sigaction(SIGPIPE, &action, nullptr) != 0) {
        throw_errno("sigaction(SIGPIPE)");
    }
}

}  // namespace common
