// timers.cpp: schedule and fire 100,000 timers with random deadlines, and
// schedule/cancel churn, on chapter 06's loop, libuv and Asio.
//
// Deadlines are spread over 0..5 ms (fixed seed). CPU time of the loop's
// thread is measured, not wall time: the loops sleep between deadlines, and
// the sleeping is the same for everyone.
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <random>
#include <vector>

#include "chapters/06_timers/event_loop.hpp"

#ifdef EVLOOP_HAVE_LIBUV
#include <uv.h>
#endif
#ifdef EVLOOP_HAVE_ASIO
#include <asio.hpp>
#endif

namespace {

constexpr int kTimers = 100'000;

std::vector<std::uint64_t> deadlines_us() {
    std::mt19937 random(12345);
    std::uniform_int_distribution<std::uint64_t> spread(0, 5000);
    std::vector<std::uint64_t> d(kTimers);
    for (auto& x : d) {
        x = spread(random);
    }
    return d;
}

void per_timer(benchmark::State& state) {
    state.counters["ns/timer"] = benchmark::Counter(static_cast<double>(kTimers) * 1e-9,
                                                    benchmark::Counter::kIsIterationInvariantRate |
                                                        benchmark::Counter::kInvert);
}

void ch06_fire(benchmark::State& state) {
    const auto deadlines = deadlines_us();
    for (auto _ : state) {
        ch06::EventLoop loop;
        int fired = 0;
        for (const auto us : deadlines) {
            loop.call_later(std::chrono::microseconds(us), [&fired] { ++fired; });
        }
        while (fired < kTimers) {
            loop.run_once();
        }
    }
    per_timer(state);
}
BENCHMARK(ch06_fire)->Unit(benchmark::kMillisecond);

void ch06_schedule_cancel(benchmark::State& state) {
    ch06::EventLoop loop;
    for (auto _ : state) {
        for (int i = 0; i < kTimers; ++i) {
            loop.call_later(std::chrono::seconds(60), [] {}).cancel();
        }
    }
    per_timer(state);
}
BENCHMARK(ch06_schedule_cancel)->Unit(benchmark::kMillisecond);

#ifdef EVLOOP_HAVE_LIBUV
void libuv_fire(benchmark::State& state) {
    const auto deadlines = deadlines_us();
    for (auto _ : state) {
        uv_loop_t loop;
        uv_loop_init(&loop);
        std::vector<uv_timer_t> timers(kTimers);
        int fired = 0;
        loop.data = &fired;
        for (int i = 0; i < kTimers; ++i) {
            uv_timer_init(&loop, &timers[static_cast<std::size_t>(i)]);
            // libuv timers have millisecond resolution.
            uv_timer_start(&timers[static_cast<std::size_t>(i)],
                           [](uv_timer_t* t) { ++*static_cast<int*>(t->loop->data); },
                           deadlines[static_cast<std::size_t>(i)] / 1000, 0);
        }
        while (fired < kTimers) {
            uv_run(&loop, UV_RUN_ONCE);
        }
        for (auto& t : timers) {
            uv_close(reinterpret_cast<uv_handle_t*>(&t), nullptr);
        }
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
    }
    per_timer(state);
}
BENCHMARK(libuv_fire)->Unit(benchmark::kMillisecond);

void libuv_schedule_cancel(benchmark::State& state) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_timer_t timer;
    uv_timer_init(&loop, &timer);
    for (auto _ : state) {
        for (int i = 0; i < kTimers; ++i) {
            uv_timer_start(&timer, [](uv_timer_t*) {}, 60'000, 0);
            uv_timer_stop(&timer);
        }
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    per_timer(state);
}
BENCHMARK(libuv_schedule_cancel)->Unit(benchmark::kMillisecond);
#endif

#ifdef EVLOOP_HAVE_ASIO
void asio_fire(benchmark::State& state) {
    const auto deadlines = deadlines_us();
    for (auto _ : state) {
        asio::io_context context(1);
        std::vector<std::unique_ptr<asio::steady_timer>> timers;
        timers.reserve(kTimers);
        int fired = 0;
        for (const auto us : deadlines) {
            timers.push_back(std::make_unique<asio::steady_timer>(context, std::chrono::microseconds(us)));
            timers.back()->async_wait([&fired](const asio::error_code&) { ++fired; });
        }
        context.run();
        benchmark::DoNotOptimize(fired);
    }
    per_timer(state);
}
BENCHMARK(asio_fire)->Unit(benchmark::kMillisecond);

void asio_schedule_cancel(benchmark::State& state) {
    asio::io_context context(1);
    asio::steady_timer timer(context);
    for (auto _ : state) {
        for (int i = 0; i < kTimers; ++i) {
            timer.expires_after(std::chrono::seconds(60));
            timer.async_wait([](const asio::error_code&) {});
            timer.cancel();
        }
        context.poll();  // run the cancelled handlers, as the other loops drop theirs
        context.restart();
    }
    per_timer(state);
}
BENCHMARK(asio_schedule_cancel)->Unit(benchmark::kMillisecond);
#endif

}  // namespace

BENCHMARK_MAIN();
