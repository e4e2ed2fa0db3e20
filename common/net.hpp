// net.hpp: TCP sockets on loopback, the parts no chapter teaches.
//
// Creating, binding and connecting sockets is the same in every chapter; what
// the chapters teach is how to *wait* for them. So the set-up lives here and
// every descriptor it returns is non-blocking and close-on-exec, ready to be
// handed to a selector. Errors are std::system_error naming the call.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <system_error>

#include "common/fd.hpp"

namespace common {

struct Listener {
    Fd fd;              // non-blocking listening socket
    std::string host;   // the address it is bound to
    std::uint16_t port; // the real port, also when 0 was asked for
};

// Binds and listens on host:port (IPv4 dotted quad or "localhost").
// Port 0 lets the kernel pick a free port; the result says which.
Listener listen_tcp(const std::string& host = "127.0.0.1", std::uint16_t port = 0,
                    int backlog = 4096);

// Accepts one connection, non-blocking and close-on-exec.
// Returns nullopt when there is nothing to accept now (EAGAIN), or when the
// peer gave up before we accepted it (ECONNABORTED, EPROTO), or on EINTR: in
// every case the caller simply waits for readability again. Throws
// std::system_error for real failures, EMFILE and ENFILE among them, so that
// a server can decide what to do when it runs out of descriptors.
std::optional<Fd> accept_connection(int listen_fd);

struct Connecting {
    Fd fd;
    bool in_progress;  // true: wait until writable, then check connect_error()
};

// No descriptor for a new socket: the process or the system is out of them
// (EMFILE, ENFILE), or the one it got is above what the caller can watch
// (select() and FD_SETSIZE). Not the peer's fault, and it passes: a caller
// can try again once one of its own sockets has closed. A std::system_error
// (code EMFILE or ENFILE), so code that does not care treats it as any other.
struct OutOfDescriptors : std::system_error {
    using std::system_error::system_error;
};

// Starts a non-blocking connect to host:port. On loopback it often completes
// at once; otherwise the socket becomes writable when it is done. Throws
// OutOfDescriptors when no socket can be had, or when the socket would be
// `max_fd` or above (a select()-based caller passes FD_SETSIZE); other
// failures as std::system_error.
Connecting start_connect(const std::string& host, std::uint16_t port,
                         int max_fd = std::numeric_limits<int>::max());

// The outcome of a finished non-blocking connect (SO_ERROR). Writable does
// not mean connected: a refused connect is writable too.
std::error_code connect_error(int fd);

// A blocking connect, for clients in tests and tools. The descriptor it
// returns is blocking.
Fd connect_blocking(const std::string& host, std::uint16_t port);

void set_nonblocking(int fd, bool on = true);
void set_nodelay(int fd);

// Sends nothing more and makes the peer see ECONNRESET: SO_LINGER with a
// zero timeout, then close. Tests use it to play a client that resets.
void reset_connection(Fd fd);

// Number of descriptors this process has open (entries of /proc/self/fd).
// Tests compare it before and after to find leaks.
std::size_t open_fd_count();

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit.
std::size_t raise_fd_limit();

// Ignores SIGPIPE for the whole process. Sends already use MSG_NOSIGNAL; this
// also covers write() and third-party code.
void ignore_sigpipe();

}  // namespace common
