#include "chapters/02_select_callbacks/echo_server.hpp"

#include <stdexcept>
#include <string>

namespace ch02 {

void serve_echo_with_callbacks(int listen_fd, const common::StopSignal& stop,
                               const EchoServerOptions& options);
void serve_echo_with_generators(int listen_fd, const common::StopSignal& stop,
                                const EchoServerOptions& options);

void serve_echo(int listen_fd, const common::StopSignal& stop, const EchoServerOptions& options) {
    // Checked for both styles, so that a configuration is valid or not
    // whichever style it is later run with.
    if (options.low_water > options.high_water) {
        throw std::invalid_argument("echo server: low_water (" + std::to_string(options.low_water) +
                                    ") must not exceed high_water (" +
                                    std::to_string(options.high_water) + ")");
    }
    if (options.style == Style::callbacks) {
        serve_echo_with_callbacks(listen_fd, stop, options);
    } else {
        serve_echo_with_generators(listen_fd, stop, options);
    }
}

}  // namespace ch02
