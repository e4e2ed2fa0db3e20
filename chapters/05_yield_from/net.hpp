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

// A non-blocking connect, checked with SO_ERROR once writable. Throws
// common::OutOfDescriptors before it waits for anything when no descriptor
// the selector can watch is free (EMFILE, or one at FD_SETSIZE or above).
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
