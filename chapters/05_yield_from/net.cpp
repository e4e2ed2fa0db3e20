#include "chapters/05_yield_from/net.hpp"

#include <sys/socket.h>

#include <array>
#include <string>
#include <system_error>

#include "common/error.hpp"
#include "common/net.hpp"

namespace ch05 {

namespace http = common::http;

// Parameters by value (PITFALLS 2): a reference parameter would dangle once
// the caller's temporary is gone. `io` is a reference on purpose: the Io
// outlives every coroutine it runs (it destroys their frames first).

Coro<common::Fd> connect(Io& io, std::string host, std::uint16_t port) {
    common::Connecting connecting = common::start_connect(host, port, io.selector().max_fd());
    if (connecting.in_progress) {
        co_await io.writable(connecting.fd.get());
        if (const std::error_code ec = common::connect_error(connecting.fd.get())) {
            throw std::system_error(ec, "connect " + host + ":" + std::to_string(port));
        }
    }
    co_return std::move(connecting.fd);
}

Coro<> write_all(Io& io, int fd, std::span<const char> bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n >= 0) {
            sent += static_cast<std::size_t>(n);
        } else if (common::would_block(errno)) {
            co_await io.writable(fd);
        } else if (errno != EINTR) {
            common::throw_errno("send");
        }
    }
}

Coro<std::size_t> read(Io& io, int fd, std::span<char> buffer) {
    for (;;) {
        co_await io.readable(fd);
        const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (n >= 0) {
            co_return static_cast<std::size_t>(n);
        }
        if (!common::would_block(errno) && errno != EINTR) {
            common::throw_errno("recv");
        }
    }
}

Coro<std::string> read_response(Io& io, int fd) {
    std::string raw;
    std::array<char, 16 * 1024> buffer;
    while (!http::response_complete(raw)) {
        const std::size_t n = co_await read(io, fd, buffer);
        if (n == 0) {
            break;  // EOF: HTTP/1.0 ends a response by closing
        }
        raw.append(buffer.data(), n);
    }
    co_return raw;
}

Coro<http::Response> fetch(Io& io, http::Url url) {
    const common::Fd fd = co_await connect(io, url.host, url.port);
    const std::string request = http::get_request(url);  // outlives the write: a local, not a temporary
    co_await write_all(io, fd.get(), request);
    co_return http::parse_response(co_await read_response(io, fd.get()));
}

}  // namespace ch05
