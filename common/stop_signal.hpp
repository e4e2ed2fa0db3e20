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
    // Ends a notify_on_termination_signals() registration of this signal, if
    // it is the current one: a signal that arrives later must not reach a
    // destroyed object.
    ~StopSignal();
    // Not movable either: a registration refers to this object by address.
    StopSignal(const StopSignal&) = delete;
    StopSignal& operator=(const StopSignal&) = delete;

    // Makes fd() readable. Safe from any thread and from a signal handler.
    void notify() const noexcept;
    // True once notify() has been called (does not consume the signal).
    [[nodiscard]] bool notified() const;
    // The descriptor to register for reading.
    [[nodiscard]] int fd() const noexcept { return fd_.get(); }

private:
    Fd fd_;
};

// Installs SIGINT and SIGTERM handlers that call stop.notify(). The
// registration lasts as long as `stop`: its destructor puts back the handlers
// that were there before. Registering another StopSignal moves the
// registration to it (the handlers to put back stay the original ones).
void notify_on_termination_signals(const StopSignal& stop);

}  // namespace common
