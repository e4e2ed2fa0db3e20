#include "common/stop_signal.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <thread>

#include "common/error.hpp"

namespace common {
namespace {

constexpr std::array kTerminationSignals{SIGINT, SIGTERM};

// What the signal handler reads. Only lock-free atomics: a handler may not
// take a lock the code it interrupted could be holding.
std::atomic<const StopSignal*> g_signal_target{nullptr};
std::atomic<int> g_handlers_running{0};
static_assert(std::atomic<const StopSignal*>::is_always_lock_free);
static_assert(std::atomic<int>::is_always_lock_free);

// What registering and unregistering share (never touched by the handler).
std::mutex g_registration_mutex;
bool g_installed = false;
std::array<struct sigaction, kTerminationSignals.size()> g_previous{};

extern "C" void on_termination_signal(int) {
    // Counted before the target is read, so that ~StopSignal, which clears
    // the target and then waits for the count to drop, cannot miss a handler
    // (on another thread) that read the old target (seq_cst: the two orders
    // agree).
    g_handlers_running.fetch_add(1);
    if (const StopSignal* stop = g_signal_target.load()) {
        stop->notify();
    }
    g_handlers_running.fetch_sub(1);
}

}  // namespace

StopSignal::StopSignal() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (!fd_) {
        throw_errno("eventfd");
    }
}

StopSignal::~StopSignal() {
    const std::lock_guard lock(g_registration_mutex);
    if (g_signal_target.load() != this) {
        return;
    }
    // Handlers first, so no new call of ours starts; then the target; then
    // wait out a call already running on another thread, which may still be
    // about to write to fd_.
    for (std::size_t i = 0; i < kTerminationSignals.size(); ++i) {
        ::sigaction(kTerminationSignals[i], &g_previous[i], nullptr);
    }
    g_installed = false;
    g_signal_target.store(nullptr);
    while (g_handlers_running.load() != 0) {
        std::this_thread::yield();
    }
}

void StopSignal::notify() const noexcept {
    const std::uint64_t one = 1;
    const int saved = errno;  // a signal handler must not change errno
    // Cannot fail in a way that matters: EAGAIN only when the counter is
    // about to overflow, and then it is readable already.
    [[maybe_unused]] const ssize_t n = ::write(fd_.get(), &one, sizeof one);
    errno = saved;
}

bool StopSignal::notified() const {
    pollfd p{fd_.get(), POLLIN, 0};
    int rc;
    do {
        rc = ::poll(&p, 1, 0);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        throw_errno("poll");
    }
    return rc > 0;
}

void notify_on_termination_signals(const StopSignal& stop) {
    const std::lock_guard lock(g_registration_mutex);
    // The target before the handler: a signal right after sigaction() must
    // find it.
    g_signal_target.store(&stop);
    if (g_installed) {
        return;
    }
    struct sigaction action {};
    action.sa_handler = on_termination_signal;
    ::sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (std::size_t i = 0; i < kTerminationSignals.size(); ++i) {
        if (::sigaction(kTerminationSignals[i], &action, &g_previous[i]) != 0) {
            const int err = errno;
            while (i-- > 0) {  // undo the ones already installed
                ::sigaction(kTerminationSignals[i], &g_previous[i], nullptr);
            }
            g_signal_target.store(nullptr);
            throw_errno("sigaction", err);
        }
    }
    g_installed = true;
}

}  // namespace common
