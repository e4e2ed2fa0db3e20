// crawl.cpp: crawl a 200-page site on the loopback test site, no delay.
#include <benchmark/benchmark.h>

#include "chapters/03_future/crawler.hpp"
#include "chapters/04_task/crawler.hpp"
#include "chapters/05_yield_from/crawler.hpp"
#include "chapters/06_timers/crawler.hpp"
#include "common/http_site.hpp"
#include "common/net.hpp"

namespace {

template <typename Crawl>
void crawl_site(benchmark::State& state, Crawl crawl) {
    common::raise_fd_limit();
    const common::TestSite site({.pages = 200});
    const auto root = *common::http::parse_url(site.root_url());
    std::size_t pages = 0;
    for (auto _ : state) {
        pages = crawl(root);
    }
    if (pages != site.reachable_paths().size()) {
        state.SkipWithError("the crawl did not fetch the whole site");
    }
    state.counters["pages/s"] = benchmark::Counter(static_cast<double>(pages), benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK_CAPTURE(crawl_site, ch03_sequential, [](const common::http::Url& root) {
    return ch03::crawl_sequential(root, {}).pages.size();
})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(crawl_site, ch03_futures, [](const common::http::Url& root) {
    return ch03::crawl(root, {}).pages.size();
})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(crawl_site, ch04_tasks, [](const common::http::Url& root) {
    return ch04::crawl(root, {}).pages.size();
})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(crawl_site, ch05_composed, [](const common::http::Url& root) {
    return ch05::crawl(root, {}).pages.size();
})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(crawl_site, ch06_loop, [](const common::http::Url& root) {
    return ch06::crawl(root, {}).pages.size();
})->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
