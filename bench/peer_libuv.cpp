// peer_libuv.cpp: the echo server on libuv, the way its documentation writes one.
#ifdef EVLOOP_HAVE_LIBUV
#include <uv.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "bench/peers.hpp"

namespace bench {
namespace {

struct Connection {
    uv_tcp_t handle;
    char buffer[64 * 1024];
};

struct WriteRequest {
    uv_write_t request;
    uv_buf_t buf;
    char data[64 * 1024];
};

void on_close(uv_handle_t* handle) { delete reinterpret_cast<Connection*>(handle); }

void on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
    Connection* c = reinterpret_cast<Connection*>(handle);
    *buf = uv_buf_init(c->buffer, sizeof c->buffer);
}

void on_write(uv_write_t* request, int) { delete reinterpret_cast<WriteRequest*>(request); }

void on_read(uv_stream_t* stream, ssize_t n, const uv_buf_t* buf) {
    if (n < 0) {
        uv_close(reinterpret_cast<uv_handle_t*>(stream), on_close);
        return;
    }
    if (n == 0) {
        return;
    }
    // uv_try_write first (what a careful libuv program does); queue the rest.
    uv_buf_t out = uv_buf_init(buf->base, static_cast<unsigned>(n));
    const int written = uv_try_write(stream, &out, 1);
    const ssize_t done = written > 0 ? written : 0;
    if (done < n) {
        auto* w = new WriteRequest;
        std::memcpy(w->data, buf->base + done, static_cast<std::size_t>(n - done));
        w->buf = uv_buf_init(w->data, static_cast<unsigned>(n - done));
        uv_write(&w->request, stream, &w->buf, 1, on_write);
    }
}

void on_connection(uv_stream_t* server, int status) {
    if (status < 0) {
        return;
    }
    auto* c = new Connection;
    uv_tcp_init(server->loop, &c->handle);
    c->handle.data = c;
    if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&c->handle)) == 0) {
        uv_tcp_nodelay(&c->handle, 1);
        uv_read_start(reinterpret_cast<uv_stream_t*>(&c->handle), on_alloc, on_read);
    } else {
        uv_close(reinterpret_cast<uv_handle_t*>(&c->handle), on_close);
    }
}

void on_stop(uv_poll_t* poll, int, int) { uv_stop(poll->loop); }

}  // namespace

void serve_echo_libuv(int listen_fd, const common::StopSignal& stop) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_tcp_t server;
    uv_tcp_init(&loop, &server);
    server.data = nullptr;
    uv_tcp_open(&server, ::dup(listen_fd));
    uv_listen(reinterpret_cast<uv_stream_t*>(&server), 4096, on_connection);
    uv_poll_t stopper;
    uv_poll_init(&loop, &stopper, stop.fd());
    stopper.data = nullptr;
    uv_poll_start(&stopper, UV_READABLE, on_stop);
    uv_run(&loop, UV_RUN_DEFAULT);
    // Close every handle (connections included), then let the closes run.
    uv_walk(
        &loop,
        [](uv_handle_t* handle, void*) {
            if (!uv_is_closing(handle)) {
                // Connections are ours on the heap (data points at them); the
                // listener and the stop poll live on this stack.
                uv_close(handle, handle->data != nullptr ? on_close : nullptr);
            }
        },
        nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

}  // namespace bench
#endif
