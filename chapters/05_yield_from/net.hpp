// net.hpp: the crawler's and the echo server's small awaitable pieces.
//
// Chapter 04's fetch was one long function, because only futures could be
// waited for. Now each step is a coroutine of its own and the fetch is their
// composition, exactly like the refactored crawler of the source texts:
// connect, write_all, read (one chunk), read_response (to EOF, or to the end
// of the response's Content-Length), fetch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include "chapters/05_yield_from/coro.hpp"
#include "chapters/05_yield_from/io.hpp"
#include "common/fd.hpp"
#include "common/http.hpp"

namespace ch05 {

// connect() found no descriptor the selector can watch: the process is out
// of them (EMFILE, ENFILE), or the socket got one too high for select()
// (io.selector().max_fd(), FD_SETSIZE). Not the peer's fault: the same
// connect can succeed once another socket has closed.
struct OutOfDescriptors : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A non-blocking connect, checked with SO_ERROR once writable. Throws
// OutOfDescriptors (above) before it waits for anything.
Coro<common::Fd> connect(Io& io, std::string host, std::uint16_t port);
// Sends every byte, waiting for writability on a short write.
Coro<> write_all(Io& io, int fd, std::span<const char> bytes);
// Waits until readable and reads once: the byte count, 0 at EOF.
Coro<std::size_t> read(Io& io, int fd, std::span<char> buffer);
// Reads an HTTP response: to EOF, or until http::response_complete() says
// reading more cannot change it (complete by its Content-Length, malformed,
// or over kMaxResponseBytes): a server may send a whole response and keep the
// connection open.
Coro<std::string> read_response(Io& io, int fd);
// GET url: the parsed response. Throws on network or protocol errors.
Coro<common::http::Response> fetch(Io& io, common::http::Url url);

}  // namespace ch05
