#include "chapters/02_select_callbacks/echo_server.hpp"

namespace ch02 {

void serve_echo_with_callbacks(int listen_fd, const common::StopSignal& stop,
                               const EchoServerOptions& options);
void serve_echo_with_generators(int listen_fd, const common::StopSignal& stop,
                                const EchoServerOptions& options);

void serve_echo(int listen_fd, const common::StopSignal& stop, const EchoServerOptions& options) {
    if (options.style == Style::callbacks) {
        serve_echo_with_callbacks(listen_fd, stop, options);
    } else {
        serve_echo_with_generators(listen_fd, stop, options);
    }
}

}  // namespace ch02
