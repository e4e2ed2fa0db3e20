// peer_asio.cpp: the echo server on standalone Asio with C++20 coroutines.
#ifdef EVLOOP_HAVE_ASIO
#include <unistd.h>

#include <asio.hpp>

#include "bench/peers.hpp"

namespace bench {
namespace {

asio::awaitable<void> echo(asio::ip::tcp::socket socket) {
    char data[64 * 1024];
    try {
        socket.set_option(asio::ip::tcp::no_delay(true));
        for (;;) {
            const std::size_t n = co_await socket.async_read_some(asio::buffer(data), asio::use_awaitable);
            co_await asio::async_write(socket, asio::buffer(data, n), asio::use_awaitable);
        }
    } catch (const std::exception&) {
        // EOF or reset: the connection ends.
    }
}

asio::awaitable<void> listen(asio::ip::tcp::acceptor& acceptor) {
    for (;;) {
        asio::ip::tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
        asio::co_spawn(acceptor.get_executor(), echo(std::move(socket)), asio::detached);
    }
}

}  // namespace

void serve_echo_asio(int listen_fd, const common::StopSignal& stop) {
    asio::io_context context(1);  // one thread: tell Asio it needs no locking
    asio::ip::tcp::acceptor acceptor(context, asio::ip::tcp::v4(), ::dup(listen_fd));
    asio::co_spawn(context, listen(acceptor), asio::detached);
    asio::posix::stream_descriptor stopper(context, ::dup(stop.fd()));
    stopper.async_wait(asio::posix::stream_descriptor::wait_read, [&](const asio::error_code&) { context.stop(); });
    context.run();
}

}  // namespace bench
#endif
