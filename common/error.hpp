// error.hpp: system call failures as exceptions that name the call.
//
// Every helper in common/ reports a failed system call as std::system_error
// whose what() starts with the call ("accept4: Too many open files"), so a
// reader of a log line knows which call failed without a debugger.
#pragma once

#include <cerrno>
#include <string>
#include <system_error>

namespace common {

// The error for `errno_value` as returned by a call named `call`.
inline std::system_error errno_error(const std::string& call, int errno_value = errno) {
    return std::system_error(errno_value, std::generic_category(), call);
}

// Throws errno_error(call). Use right after the failing call, before anything
// else can overwrite errno.
[[noreturn]] inline void throw_errno(const std::string& call, int errno_value = errno) {
    throw errno_error(call, errno_value);
}

// True for the errno values that mean "not now, try again when ready".
inline bool would_block(int errno_value) {
    return errno_value == EAGAIN || errno_value == EWOULDBLOCK;
}

}  // namespace common
