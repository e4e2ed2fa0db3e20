// stop_signal.hpp: a descriptor that becomes readable when it is time to stop.
//
// Every loop in this tutorial waits on descriptors, so the way to stop one
// from outside (another thread, a test, SIGINT) is to give it one more
// descriptor to watch: an eventfd. notify() is async-signal-safe, which makes
// this also the classic self-pipe trick for signals.
#pragma once

#include "common/fd.hpp"

namespace common {

class StopSignal {
public:
    StopSignal();  // throws std::system_error if eventfd() fails

    // Makes fd() readable. Safe from any thread and from a signal handler.
    void notify() const noexcept;
    // True once notify() has been called (does not consume the signal).
    [[nodiscard]] bool notified() const;
    // The descriptor to register for reading.
    [[nodiscard]] int fd() const noexcept { return fd_.get(); }

private:
    Fd fd_;
};

// Installs SIGINT and SIGTERM handlers that call stop.notify(). `stop` must
// outlive the process's interest in those signals (in practice: live in main).
void notify_on_termination_signals(const StopSignal& stop);

}  // namespace common
