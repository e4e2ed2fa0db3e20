#include "common/stop_signal.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

#include "common/error.hpp"

namespace common {

StopSignal::StopSignal() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (!fd_) {
        throw_errno("eventfd");
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

namespace {
std::atomic<const StopSignal*> g_signal_target{nullptr};

extern "C" void on_termination_signal(int) {
    if (const StopSignal* stop = g_signal_target.load()) {
        stop->notify();
    }
}
}  // namespace

void notify_on_termination_signals(const StopSignal& stop) {
    g_signal_target.store(&stop);
    struct sigaction action {};
    action.sa_handler = on_termination_signal;
    ::sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (const int sig : {SIGINT, SIGTERM}) {
        if (::sigaction(sig, &action, nullptr) != 0) {
            throw_errno("sigaction");
        }
    }
}

}  // namespace common
