// echo.cpp: echo ping-pong. K connections over loopback, each with one
// message of S bytes in flight, against every server.
//
// One client for everyone: common::EchoLoad (its own epoll loop, checking
// every byte), in this process, on the benchmark's thread. Each server runs
// on its own thread. So the server's loop is the only thing that differs.
//
// Counters: msgs/s (round trips per second, all connections together),
// server_ns/msg (CPU time of the server's thread per message: the loop's own
// cost, which the throughput hides when client and server share two cores),
// and allocs/msg (operator new calls on the server's thread per message).
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <pthread.h>
#include <time.h>
#include <string>
#include <thread>

#include "bench/peers.hpp"
#include "chapters/02_select_callbacks/echo_server.hpp"
#include "chapters/04_task/echo_server.hpp"
#include "chapters/05_yield_from/echo_server.hpp"
#include "chapters/06_timers/echo_server.hpp"
#include "common/echo_load.hpp"
#include "common/net.hpp"

// --- counting allocations made by the server's thread ---
namespace {
std::atomic<std::uint64_t> g_server_allocations{0};
thread_local bool t_count_allocations = false;
}  // namespace

void* operator new(std::size_t size) {
    if (t_count_allocations) {
        g_server_allocations.fetch_add(1, std::memory_order_relaxed);
    }
    if (void* p = std::malloc(size == 0 ? 1 : size)) {
        return p;
    }
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using ServeFunction = void (*)(int, const common::StopSignal&);

double thread_cpu_ns(clockid_t clock) {
    timespec ts{};
    ::clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

void ch02_callbacks(int fd, const common::StopSignal& stop) {
    ch02::EchoServerOptions options;
    options.style = ch02::Style::callbacks;
    options.log = [](std::string_view) {};
    ch02::serve_echo(fd, stop, options);
}
void ch02_generators(int fd, const common::StopSignal& stop) {
    ch02::EchoServerOptions options;
    options.style = ch02::Style::generators;
    options.log = [](std::string_view) {};
    ch02::serve_echo(fd, stop, options);
}
void ch04_tasks(int fd, const common::StopSignal& stop) { ch04::serve_echo(fd, stop, {.log = [](std::string_view) {}}); }
void ch05_composed(int fd, const common::StopSignal& stop) {
    ch05::serve_echo(fd, stop, {.log = [](std::string_view) {}});
}
void ch06_loop(int fd, const common::StopSignal& stop) { ch06::serve_echo(fd, stop, {}); }

void echo_round_trips(benchmark::State& state, ServeFunction serve) {
    const auto connections = static_cast<std::size_t>(state.range(0));
    const auto size = static_cast<std::size_t>(state.range(1));
    common::raise_fd_limit();
    common::ignore_sigpipe();
    const common::Listener listener = common::listen_tcp();
    common::StopSignal stop;
    std::thread server([&] {
        t_count_allocations = true;
        serve(listener.fd.get(), stop);
        t_count_allocations = false;
    });
    {
        common::EchoLoad load({.port = listener.port, .connections = connections, .message_size = size});
        // Warm up (and find out whether the server can serve this many at all).
        const common::EchoLoadResult warm = load.run(2);
        if (!warm.ok()) {
            state.SkipWithError(("served " + std::to_string(connections - warm.failed_connections) + " of " +
                                 std::to_string(connections) + " connections (" +
                                 (warm.errors.empty() ? "" : warm.errors.front()) + ")")
                                    .c_str());
        } else {
            // Enough round trips per iteration that the iteration is not one message.
            const std::size_t rounds = std::max<std::size_t>(1, 2000 / connections);
            std::uint64_t messages = 0;
            clockid_t server_clock{};
            pthread_getcpuclockid(server.native_handle(), &server_clock);
            const double cpu_before = thread_cpu_ns(server_clock);
            const std::uint64_t allocations_before = g_server_allocations.load();
            for (auto _ : state) {
                const common::EchoLoadResult r = load.run(rounds);
                if (!r.ok()) {
                    state.SkipWithError(("echo failed: " + (r.errors.empty() ? "" : r.errors.front())).c_str());
                    break;
                }
                messages += r.messages;
            }
            const std::uint64_t allocations = g_server_allocations.load() - allocations_before;
            const double server_cpu = thread_cpu_ns(server_clock) - cpu_before;
            state.counters["server_ns/msg"] = messages == 0 ? 0.0 : server_cpu / static_cast<double>(messages);
            state.counters["msgs/s"] = benchmark::Counter(static_cast<double>(messages), benchmark::Counter::kIsRate);
            state.counters["allocs/msg"] =
                messages == 0 ? 0.0 : static_cast<double>(allocations) / static_cast<double>(messages);
        }
        load.close_all();
    }
    stop.notify();
    server.join();
}

void sizes(benchmark::internal::Benchmark* b) {
    for (const std::int64_t k : {1, 100, 1000}) {
        for (const std::int64_t s : {64, 16384}) {
            b->Args({k, s});
        }
    }
    b->ArgNames({"K", "S"})->UseRealTime()->Unit(benchmark::kMillisecond);
}

}  // namespace

BENCHMARK_CAPTURE(echo_round_trips, floor_epoll, bench::serve_echo_floor)->Apply(sizes);
BENCHMARK_CAPTURE(echo_round_trips, ch02_callbacks, ch02_callbacks)->Apply(sizes);
BENCHMARK_CAPTURE(echo_round_trips, ch02_generators, ch02_generators)->Apply(sizes);
BENCHMARK_CAPTURE(echo_round_trips, ch04_tasks, ch04_tasks)->Apply(sizes);
BENCHMARK_CAPTURE(echo_round_trips, ch05_composed, ch05_composed)->Apply(sizes);
BENCHMARK_CAPTURE(echo_round_trips, ch06_loop, ch06_loop)->Apply(sizes);
#ifdef EVLOOP_HAVE_LIBUV
BENCHMARK_CAPTURE(echo_round_trips, libuv, bench::serve_echo_libuv)->Apply(sizes);
#endif
#ifdef EVLOOP_HAVE_ASIO
BENCHMARK_CAPTURE(echo_round_trips, asio, bench::serve_echo_asio)->Apply(sizes);
#endif

BENCHMARK_MAIN();
