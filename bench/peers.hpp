// peers.hpp: the echo servers the chapters are measured against.
//
// Each has the chapters' signature: serve the echo protocol on `listen_fd`
// (non-blocking, not owned) until `stop` is readable, then close everything.
//   - floor: a bare level-triggered epoll loop in C style: recv, send, and a
//     buffer only for a short write. Nothing stands between the kernel and
//     the bytes; no loop can do less work per message.
//   - libuv: uv_tcp_t, uv_read_start, uv_write (built when libuv is found).
//   - asio: standalone Asio with C++20 coroutines, co_spawn and use_awaitable
//     (built when asio.hpp is found).
#pragma once

#include "common/stop_signal.hpp"

namespace bench {

void serve_echo_floor(int listen_fd, const common::StopSignal& stop);
#ifdef EVLOOP_HAVE_LIBUV
void serve_echo_libuv(int listen_fd, const common::StopSignal& stop);
#endif
#ifdef EVLOOP_HAVE_ASIO
void serve_echo_asio(int listen_fd, const common::StopSignal& stop);
#endif

}  // namespace bench
