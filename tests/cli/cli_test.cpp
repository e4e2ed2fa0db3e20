// cli_test.cpp: every chapter's executable, run as a reader runs it.
//
// The chapter suites test the libraries; these tests test the programs: exit
// codes (0 ran, 1 could not, 2 bad arguments), the messages on bad input, the
// crawl's summary line against the site it crawled, the default bound on a
// crawl of a real server, and an echo server that starts, echoes and stops on
// SIGTERM. Each program runs as a child process with its output captured.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/fd.hpp"
#include "common/http_site.hpp"
#include "common/net.hpp"
#include "tests/support/testing_support.hpp"

extern char** environ;

namespace {

using namespace std::chrono_literals;

std::string executable(std::string_view chapter) {
    return std::string(EVLOOP_CHAPTERS_DIR) + "/" + std::string(chapter) + "/" +
           std::string(chapter);
}

void check(int rc, const char* what) {
    if (rc != 0) {
        throw std::system_error(rc, std::generic_category(), what);
    }
}

// A child process with its standard output and error on pipes. The
// destructor kills and reaps a child that was not waited for.
class Child {
  public:
    explicit Child(std::vector<std::string> argv) {
        std::array<int, 2> out{};
        std::array<int, 2> err{};
        if (::pipe2(out.data(), O_CLOEXEC) != 0 || ::pipe2(err.data(), O_CLOEXEC) != 0) {
            throw std::system_error(errno, std::generic_category(), "pipe2");
        }
        out_ = common::Fd(out[0]);
        err_ = common::Fd(err[0]);
        const common::Fd out_w(out[1]);
        const common::Fd err_w(err[1]);
        posix_spawn_file_actions_t actions;
        check(::posix_spawn_file_actions_init(&actions), "posix_spawn_file_actions_init");
        check(::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0), "addopen");
        check(::posix_spawn_file_actions_adddup2(&actions, out_w.get(), 1), "adddup2");
        check(::posix_spawn_file_actions_adddup2(&actions, err_w.get(), 2), "adddup2");
        std::vector<char*> args;
        for (std::string& arg : argv) {
            args.push_back(arg.data());
        }
        args.push_back(nullptr);
        const int rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
        ::posix_spawn_file_actions_destroy(&actions);
        check(rc, "posix_spawn");
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }

    // Reads standard output up to and including the next newline.
    std::string read_line() {
        while (true) {
            const std::size_t nl = out_text_.find('\n', line_start_);
            if (nl != std::string::npos) {
                std::string line = out_text_.substr(line_start_, nl - line_start_);
                line_start_ = nl + 1;
                return line;
            }
            if (!pump(false)) {
                return {};
            }
        }
    }

    void signal(int sig) const { ::kill(pid_, sig); }

    // Reads both pipes to their end and returns the exit code (128 + N when
    // killed by signal N).
    int wait() {
        while (pump(true)) {
        }
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

    [[nodiscard]] const std::string& out() const { return out_text_; }
    [[nodiscard]] const std::string& err() const { return err_text_; }

  private:
    // One poll over the open pipes; false when both are at their end (or,
    // with `both` false, when standard output is).
    bool pump(bool both) {
        std::array<pollfd, 2> fds{{{out_.get(), POLLIN, 0}, {err_.get(), POLLIN, 0}}};
        if (fds[0].fd < 0 && (fds[1].fd < 0 || !both)) {
            return false;
        }
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            return errno == EINTR;
        }
        drain(fds[0], out_, out_text_);
        drain(fds[1], err_, err_text_);
        return true;
    }

    static void drain(const pollfd& p, common::Fd& fd, std::string& text) {
        if (p.fd < 0 || p.revents == 0) {
            return;
        }
        std::array<char, 4096> buf{};
        const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n > 0) {
            text.append(buf.data(), static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            fd = common::Fd();
        }
    }

    pid_t pid_ = -1;
    common::Fd out_;
    common::Fd err_;
    std::string out_text_;
    std::string err_text_;
    std::size_t line_start_ = 0;
};

struct Result {
    int code;
    std::string out;
    std::string err;
};

Result run(std::vector<std::string> argv) {
    Child child(std::move(argv));
    const int code = child.wait();
    return {code, child.out(), child.err()};
}

// A loopback port that refuses connections: bound, never listening, and
// kept bound so that nothing else takes it while the test runs.
struct RefusingPort {
    common::Fd fd;
    std::uint16_t port = 0;
    RefusingPort() : fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (fd.get() < 0 ||
            ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            throw std::system_error(errno, std::generic_category(), "RefusingPort");
        }
        port = ntohs(addr.sin_port);
    }
};

std::string last_line(const std::string& text) {
    const std::size_t end = text.find_last_not_of('\n');
    if (end == std::string::npos) {
        return {};
    }
    const std::size_t start = text.rfind('\n', end);
    return text.substr(start == std::string::npos ? 0 : start + 1,
                       end - (start == std::string::npos ? 0 : start + 1) + 1);
}

// ---- every chapter -------------------------------------------------------

class EveryChapter : public ::testing::TestWithParam<const char*> {};

TEST_P(EveryChapter, HelpPrintsUsageAndExitsZero) {
    const Result r = run({executable(GetParam()), "--help"});
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.out.rfind("usage: " + std::string(GetParam()), 0), 0u) << r.out;
    EXPECT_EQ(r.err, "");
}

TEST_P(EveryChapter, AnUnknownFlagIsNamedAndExitsTwo) {
    const Result r = run({executable(GetParam()), "--no-such-flag"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("--no-such-flag"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--help"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
}

TEST_P(EveryChapter, AnUnknownCommandIsNamedAndExitsTwo) {
    const Result r = run({executable(GetParam()), "no-such-command"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("no-such-command"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Cli, EveryChapter,
                         ::testing::Values("01_round_robin", "02_select_callbacks", "03_future",
                                           "04_task", "05_yield_from", "06_timers"));

// ---- the crawlers ----------------------------------------------------------

class Crawler : public ::testing::TestWithParam<const char*> {};

TEST_P(Crawler, CrawlsAURLAndSummarisesWhatItFetched) {
    const common::TestSite site({.pages = 30});
    const Result r = run({executable(GetParam()), "crawl", site.root_url()});
    ASSERT_EQ(r.code, 0) << r.err;
    const std::size_t pages = site.reachable_paths().size();
    const std::size_t errors = pages - site.page_paths().size();
    EXPECT_EQ(last_line(r.out).rfind("fetched " + std::to_string(pages) + " pages (" +
                                         std::to_string(errors) + " errors) in ",
                                     0),
              0u)
        << r.out;
    EXPECT_EQ(site.stats().requests, pages);
}

TEST_P(Crawler, ACrawlOfAURLIsBoundedToTwentyConnectionsByDefault) {
    // Chapter 03's README: python3 -m http.server resets an unbounded crawl.
    const common::TestSite site({.pages = 200, .delay = 30ms});
    const Result r = run({executable(GetParam()), "crawl", site.root_url()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_LE(site.stats().max_open_connections, 20u);
    EXPECT_GT(site.stats().max_open_connections, 1u);
}

TEST_P(Crawler, ConcurrencyZeroLiftsTheBound) {
    const common::TestSite site({.pages = 200, .delay = 30ms});
    const Result r = run({executable(GetParam()), "crawl", site.root_url(), "--concurrency", "0"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_GT(site.stats().max_open_connections, 20u);
}

TEST_P(Crawler, ARootThatRefusesExitsOne) {
    const RefusingPort refusing;
    const std::string url = "http://127.0.0.1:" + std::to_string(refusing.port) + "/";
    const Result r = run({executable(GetParam()), "crawl", url});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.out.find("ERR " + url), std::string::npos) << r.out;
    EXPECT_EQ(last_line(r.out).rfind("fetched 1 pages (1 errors)", 0), 0u) << r.out;
}

TEST_P(Crawler, ANonHttpURLIsABadArgument) {
    const Result r = run({executable(GetParam()), "crawl", "ftp://127.0.0.1/"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("ftp://127.0.0.1/"), std::string::npos) << r.err;
}

TEST_P(Crawler, AnOutOfRangeFlagIsABadArgument) {
    const Result r = run({executable(GetParam()), "crawl", "--max-pages", "0"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("--max-pages"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Cli, Crawler,
                         ::testing::Values("03_future", "04_task", "05_yield_from", "06_timers"));

TEST(SequentialCrawler, FetchesTheSamePagesOneConnectionAtATime) {
    const common::TestSite site({.pages = 30, .delay = 2ms});
    const Result r = run({executable("03_future"), "crawl", site.root_url(), "--sequential"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(site.stats().requests, site.reachable_paths().size());
    EXPECT_EQ(site.stats().max_open_connections, 1u);
}

// ---- the echo servers --------------------------------------------------------

struct EchoCase {
    const char* chapter;
    std::vector<std::string> flags;
};

class EchoServer : public ::testing::TestWithParam<EchoCase> {};

TEST_P(EchoServer, PrintsItsAddressEchoesAndStopsOnSigterm) {
    std::vector<std::string> argv{executable(GetParam().chapter), "echo-server"};
    argv.insert(argv.end(), GetParam().flags.begin(), GetParam().flags.end());
    Child server(argv);
    const std::string first = server.read_line();
    std::smatch m;
    ASSERT_TRUE(std::regex_match(first, m, std::regex(R"(listening on 127\.0\.0\.1:(\d+))")))
        << first;
    const auto port = static_cast<std::uint16_t>(std::stoi(m[1].str()));
    {
        const common::Fd client = common::connect_blocking("127.0.0.1", port);
        EXPECT_EQ(testing_support::round_trip(client.get(), "hello, loop\n"), "hello, loop\n");
        EXPECT_EQ(testing_support::round_trip(client.get(), std::string(32 * 1024, 'x')),
                  std::string(32 * 1024, 'x'));
    }
    server.signal(SIGTERM);
    EXPECT_EQ(server.wait(), 0) << server.err();
    EXPECT_EQ(last_line(server.out()), "stopped");
}

// Starts `argv`, reads "listening on 127.0.0.1:PORT" and returns PORT (0 if the line is not that).
std::uint16_t listening_port(Child& server) {
    const std::string first = server.read_line();
    std::smatch m;
    if (!std::regex_match(first, m, std::regex(R"(listening on 127\.0\.0\.1:(\d+))"))) {
        ADD_FAILURE() << "first line: '" << first << "'";
        return 0;
    }
    return static_cast<std::uint16_t>(std::stoi(m[1].str()));
}

TEST(EchoServerSignals, SigintStopsItAsCleanlyAsSigterm) {
    Child server({executable("02_select_callbacks"), "echo-server"});
    const std::uint16_t port = listening_port(server);
    ASSERT_NE(port, 0);
    server.signal(SIGINT);
    EXPECT_EQ(server.wait(), 0) << server.err();
    EXPECT_EQ(last_line(server.out()), "stopped");
}

// The chapter README's "things to try": 1100 connections against a server
// started under the usual soft limit of 1024 descriptors. Unless the server
// raises that limit, accept() fails with EMFILE before any descriptor reaches
// FD_SETSIZE and its refusal path is never taken.
TEST(EchoServerFdLimit, ConnectionsBeyondFdSetsizeAreRefusedWithALogLineAndTheRestServed) {
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
    if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < 1200) {
        GTEST_SKIP() << "the hard descriptor limit (" << saved.rlim_max << ") is too low for 1100 connections";
    }
    std::optional<Child> server;
    {
        rlimit low = saved;
        low.rlim_cur = 1024;  // inherited by the server, as from a default shell
        ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
        struct Restore {
            rlimit limit;
            ~Restore() { ::setrlimit(RLIMIT_NOFILE, &limit); }
        } const restore{saved};
        server.emplace(std::vector<std::string>{executable("02_select_callbacks"), "echo-server"});
    }
    const std::uint16_t port = listening_port(*server);
    ASSERT_NE(port, 0);
    const Result client = run({executable("02_select_callbacks"), "echo-client", "--port",
                               std::to_string(port), "--connections", "1100", "--messages", "10"});
    server->signal(SIGTERM);
    ASSERT_EQ(server->wait(), 0) << server->err();

    std::size_t refused = 0;
    for (std::size_t at = server->err().find("refusing connection: fd "); at != std::string::npos;
         at = server->err().find("refusing connection: fd ", at + 1)) {
        ++refused;
    }
    EXPECT_GT(refused, 0u) << server->err();
    EXPECT_EQ(client.code, 1) << "the refused connections are failures for the client";
    EXPECT_EQ(client.out.rfind(std::to_string((1100 - refused) * 10) + " messages", 0), 0u)
        << "every connection that was not refused is served\n" << client.out;
    EXPECT_NE(client.out.find("server closed the connection"), std::string::npos) << client.out;
}

TEST(EchoClient, ChecksEveryByteAgainstAServerAndExitsZero) {
    Child server({executable("06_timers"), "echo-server"});
    const std::uint16_t port = listening_port(server);
    ASSERT_NE(port, 0);
    const Result r =
        run({executable("02_select_callbacks"), "echo-client", "--port", std::to_string(port),
             "--connections", "20", "--messages", "5", "--size", "1000"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("100 messages (100000 bytes) echoed intact", 0), 0u) << r.out;
    server.signal(SIGTERM);
    EXPECT_EQ(server.wait(), 0) << server.err();
}

TEST(EchoClient, ARefusedPortExitsOne) {
    const RefusingPort refusing;
    const Result r = run({executable("02_select_callbacks"), "echo-client", "--port",
                          std::to_string(refusing.port)});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("Connection refused"), std::string::npos) << r.err;
}

TEST(EchoServerFlags, ABadStyleIsABadArgument) {
    const Result r = run({executable("02_select_callbacks"), "echo-server", "--style", "threads"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("threads"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Cli, EchoServer,
    ::testing::Values(EchoCase{"02_select_callbacks", {"--style", "callbacks"}},
                      EchoCase{"02_select_callbacks", {"--style", "generators"}},
                      EchoCase{"04_task", {}}, EchoCase{"05_yield_from", {}},
                      EchoCase{"06_timers", {}}, EchoCase{"06_timers", {"--selector", "select"}},
                      EchoCase{"06_timers", {"--idle-timeout", "60"}}),
    [](const ::testing::TestParamInfo<EchoCase>& param_info) {
        std::string name = param_info.param.chapter;
        for (const std::string& flag : param_info.param.flags) {
            name += "_" + flag;
        }
        for (char& c : name) {
            if (std::isalnum(static_cast<unsigned char>(c)) == 0) {
                c = '_';
            }
        }
        return name;
    });

}  // namespace
