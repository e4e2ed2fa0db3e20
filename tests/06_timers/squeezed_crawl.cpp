// squeezed_crawl.cpp: chapter 06's crawler in a process short of descriptors.
//
//   ch06_squeezed_crawl URL LEAVE
//
// A helper of crawler_test.cpp. It lowers this process's descriptor limit,
// soft and hard, to 1024 at most (so raising the soft limit to the hard one
// finds no more), takes every free descriptor but LEAVE, as a process busy
// with other files would, crawls URL with chapter 06's crawler and prints
//   page STATUS URL ERROR     one line per page, in the order they completed
//   errors N
// The site stays in the test's process, where descriptors are plenty: only
// the crawler runs short, and the site can always accept (in one process, a
// crawler that took the last descriptors would leave the site none to accept
// its connections with).
#include <fcntl.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "chapters/06_timers/crawler.hpp"
#include "common/fd.hpp"
#include "common/http.hpp"
#include "common/net.hpp"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fputs("usage: ch06_squeezed_crawl URL LEAVE\n", stderr);
        return 2;
    }
    const std::optional<common::http::Url> root = common::http::parse_url(argv[1]);
    const int leave = std::atoi(argv[2]);
    if (!root || leave < 0) {
        std::fputs("ch06_squeezed_crawl: bad arguments\n", stderr);
        return 2;
    }
    common::ignore_sigpipe();
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_max = std::min<rlim_t>(limit.rlim_max, 1024);
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        std::perror("ch06_squeezed_crawl: setrlimit");
        return 1;
    }
    std::vector<common::Fd> held;
    for (;;) {
        common::Fd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        if (!fd) {
            if (errno == EMFILE) {
                break;
            }
            std::perror("ch06_squeezed_crawl: open /dev/null");
            return 1;
        }
        held.push_back(std::move(fd));
    }
    if (held.size() < static_cast<std::size_t>(leave)) {
        std::fputs("ch06_squeezed_crawl: fewer descriptors free than LEAVE\n", stderr);
        return 1;
    }
    held.resize(held.size() - static_cast<std::size_t>(leave));  // the highest go back

    const ch06::CrawlReport report = ch06::crawl(*root, {});
    for (const ch06::PageResult& page : report.pages) {
        std::printf("page %d %s %s\n", page.status, page.url.c_str(), page.error.c_str());
    }
    std::printf("errors %zu\n", report.errors);
    return std::fflush(stdout) == 0 ? 0 : 1;
}
