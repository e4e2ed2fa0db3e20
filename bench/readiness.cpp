// readiness.cpp: the cost of one wait that finds one ready descriptor among
// N idle ones, with select, poll and epoll. Why production loops left select
// (and poll) behind: their cost grows with N, epoll's with the number ready.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <unistd.h>

#include <vector>

#include "common/fd.hpp"
#include "common/net.hpp"

namespace {

struct Pipes {
    std::vector<common::Fd> read_ends;
    std::vector<common::Fd> write_ends;
    explicit Pipes(std::size_t n) {
        common::raise_fd_limit();
        for (std::size_t i = 0; i < n; ++i) {
            int fds[2];
            if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
                throw std::runtime_error("pipe2 failed");
            }
            read_ends.emplace_back(fds[0]);
            write_ends.emplace_back(fds[1]);
        }
        // The last one is ready; the others stay idle.
        (void)!::write(write_ends.back().get(), "x", 1);
    }
};

void select_one_ready(benchmark::State& state) {
    const Pipes pipes(static_cast<std::size_t>(state.range(0)));
    int highest = 0;
    for (const auto& fd : pipes.read_ends) {
        highest = std::max(highest, fd.get());
    }
    if (highest >= FD_SETSIZE) {
        state.SkipWithError("select() cannot watch descriptors above 1023");
        return;
    }
    for (auto _ : state) {
        fd_set set;
        FD_ZERO(&set);
        for (const auto& fd : pipes.read_ends) {
            FD_SET(fd.get(), &set);
        }
        timeval zero{};
        benchmark::DoNotOptimize(::select(highest + 1, &set, nullptr, nullptr, &zero));
    }
}

void poll_one_ready(benchmark::State& state) {
    const Pipes pipes(static_cast<std::size_t>(state.range(0)));
    std::vector<pollfd> fds;
    for (const auto& fd : pipes.read_ends) {
        fds.push_back({fd.get(), POLLIN, 0});
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(::poll(fds.data(), fds.size(), 0));
    }
}

void epoll_one_ready(benchmark::State& state) {
    const Pipes pipes(static_cast<std::size_t>(state.range(0)));
    const common::Fd ep(::epoll_create1(EPOLL_CLOEXEC));
    for (const auto& fd : pipes.read_ends) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd.get();
        ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd.get(), &ev);
    }
    epoll_event events[16];
    for (auto _ : state) {
        benchmark::DoNotOptimize(::epoll_wait(ep.get(), events, 16, 0));
    }
}

}  // namespace

BENCHMARK(select_one_ready)->Arg(10)->Arg(100)->Arg(1000)->ArgName("N");
BENCHMARK(poll_one_ready)->Arg(10)->Arg(100)->Arg(1000)->ArgName("N");
BENCHMARK(epoll_one_ready)->Arg(10)->Arg(100)->Arg(1000)->ArgName("N");

BENCHMARK_MAIN();
