// switch_cost.cpp: one suspend/resume of a task that does nothing else.
//
// Each benchmark runs a batch of switches per iteration and reports the cost
// of one as the counter ns/switch. The baseline is a plain function call the
// compiler may not inline.
#include <benchmark/benchmark.h>

#include <memory>

#include "chapters/01_round_robin/generator.hpp"
#include "chapters/04_task/task.hpp"
#include "chapters/05_yield_from/coro.hpp"
#include "chapters/05_yield_from/io.hpp"
#include "chapters/06_timers/task.hpp"

namespace {

constexpr int kBatch = 1000;

void per_switch(benchmark::State& state) {
    state.counters["ns/switch"] = benchmark::Counter(static_cast<double>(kBatch) * 1e-9,
                                                     benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
}

[[gnu::noinline]] int plain_call(int x) {
    benchmark::ClobberMemory();
    return x + 1;
}

void baseline_function_call(benchmark::State& state) {
    int x = 0;
    for (auto _ : state) {
        for (int i = 0; i < kBatch; ++i) {
            x = plain_call(x);
        }
        benchmark::DoNotOptimize(x);
    }
    per_switch(state);
}
BENCHMARK(baseline_function_call);

// Made in a function the optimiser cannot see through, so that the
// generator stays a generator (clang would otherwise compute the values).
[[gnu::noinline]] ch01::Generator<int> counter() {
    for (int i = 0;; ++i) {
        co_yield i;
    }
}

void ch01_generator_step(benchmark::State& state) {
    ch01::Generator<int> generator = counter();
    for (auto _ : state) {
        for (int i = 0; i < kBatch; ++i) {
            generator.next();
            benchmark::DoNotOptimize(generator.value());
        }
    }
    per_switch(state);
}
BENCHMARK(ch01_generator_step);

ch04::Coroutine<ch04::Unit> stepper(std::shared_ptr<ch04::Future<ch04::Unit>>* next) {
    for (;;) {
        *next = std::make_shared<ch04::Future<ch04::Unit>>();
        co_yield std::shared_ptr<ch04::Future<ch04::Unit>>(*next);
    }
}

void ch04_task_step_through_a_future(benchmark::State& state) {
    std::shared_ptr<ch04::Future<ch04::Unit>> next;
    const auto task = ch04::Task<ch04::Unit>::spawn(stepper(&next));
    for (auto _ : state) {
        for (int i = 0; i < kBatch; ++i) {
            std::exchange(next, nullptr)->set_result(ch04::Unit{});  // the task steps to its next co_yield
        }
    }
    per_switch(state);
}
BENCHMARK(ch04_task_step_through_a_future);

template <typename Coroutine>
Coroutine ready_value(int v) {
    co_return v;
}

template <typename Inner>
ch05::Coro<long> await_batch() {
    long total = 0;
    for (int i = 0; i < kBatch; ++i) {
        total += co_await ready_value<Inner>(i);
    }
    co_return total;
}

template <typename Inner>
void ch05_co_await_ready_coroutine(benchmark::State& state) {
    ch05::Io io;
    for (auto _ : state) {
        benchmark::DoNotOptimize(ch05::run_until_complete(io, await_batch<Inner>()));
    }
    per_switch(state);
}
BENCHMARK_TEMPLATE(ch05_co_await_ready_coroutine, ch05::Coro<int>)->Name("ch05_co_await_ready_coroutine/frame_pool");
BENCHMARK_TEMPLATE(ch05_co_await_ready_coroutine, ch05::HeapCoro<int>)->Name("ch05_co_await_ready_coroutine/heap_frames");

ch06::Coro<> sleep_zero_batch(ch06::EventLoop* loop) {
    for (int i = 0; i < kBatch; ++i) {
        co_await loop->sleep(ch06::Duration::zero());
    }
}

void ch06_sleep_zero_round_trip(benchmark::State& state) {
    ch06::EventLoop loop;
    for (auto _ : state) {
        ch06::run_until_complete(loop, sleep_zero_batch(&loop));
    }
    per_switch(state);
}
BENCHMARK(ch06_sleep_zero_round_trip);

}  // namespace

BENCHMARK_MAIN();
