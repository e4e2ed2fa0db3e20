// 01_round_robin: generators taking turns, and coroutines driven by send().
//
// With no command it runs the demo: three generators on one round-robin
// scheduler (one of them throws), then the running average and grep.
#include "chapters/01_round_robin/examples.hpp"
#include "chapters/01_round_robin/round_robin.hpp"
#include "common/cli.hpp"

#include <charconv>
#include <cmath>
#include <cstddef>
#include <iomanip>
#include <iostream>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr std::string_view program = "01_round_robin";

constexpr std::string_view usage = R"(usage: 01_round_robin [COMMAND]

Generators scheduled round robin, and coroutines that receive values.

commands:
  (none), demo     three generators take turns on one thread (one throws and is
                   reported), then the running average and grep
  average N...     send each number to the running-average coroutine and print
                   the average after it, e.g. `average 4 5 6`
  grep PATTERN     send each line of standard input to the grep coroutine and
                   print the lines that contain PATTERN, with their numbers
  --help           this text

Exit status: 0 on success, 2 on a bad command or argument.
)";

// A task for the demo that yields a few values, then throws.
ch01::Generator<int> fails_after(int values) {
    for (int n = 1; n <= values; ++n) {
        co_yield n * 100;
    }
    throw std::runtime_error("ran out of values and threw");
}

void print_turn(const ch01::Turn& turn, std::size_t pending) {
    std::cout << "  " << std::left << std::setw(10) << turn.task << ' ' << std::setw(9)
              << turn.outcome << std::setw(30) << turn.text << " tasks left: " << pending
              << '\n';
}

void demo_round_robin() {
    std::cout << "== Round robin: three generators share one thread\n"
                 "Each turn resumes the task at the front of the queue up to its next\n"
                 "co_yield and puts it back at the end; a task that finishes or throws\n"
                 "leaves the queue.\n\n";
    ch01::RoundRobin scheduler;
    scheduler.spawn("letters", ch01::letters("loop"));
    scheduler.spawn("countdown", ch01::countdown(6));
    scheduler.spawn("flaky", fails_after(2));
    // scheduler.run() is this loop; written out to print the queue after each turn.
    while (scheduler.run_one_turn()) {
        print_turn(scheduler.trace().back(), scheduler.pending());
    }

    std::cout << "\nfailures reported: " << scheduler.failures().size() << '\n';
    for (const ch01::Failure& failure : scheduler.failures()) {
        std::cout << "  " << failure.task << ": " << failure.message << '\n';
    }
    std::cout << "Look at: the strict rotation letters, countdown, flaky; the queue\n"
                 "shrinking as tasks end; flaky's exception reported without stopping\n"
                 "the other two.\n\n";
}

void demo_average() {
    std::cout << "== Running average: `const double number = co_yield average;`\n";
    auto average = ch01::running_average();
    const std::optional<double> nothing_yet = average.prime();
    std::cout << "  prime()  -> " << (nothing_yet ? "a value?" : "no average yet") << '\n';
    for (const double number : {4.0, 5.0, 6.0}) {
        std::cout << "  send(" << number << ")  -> " << *average.send(number) << '\n';
    }
    std::cout << "Look at: prime() runs the body to its first co_yield; only then can\n"
                 "send() hand it a value. The sum and count live in the paused frame.\n\n";
}

void demo_grep() {
    const std::string pattern = "coroutine";
    std::cout << "== grep \"" << pattern << "\": send(line) returns the line if it matches\n";
    auto search = ch01::grep(pattern);
    (void)search.prime();
    const std::vector<std::string> lines = {
        "a generator pauses at every co_yield",
        "a coroutine can also be sent values",
        "select() waits for sockets",
        "the scheduler resumes each coroutine in turn",
    };
    for (const std::string& line : lines) {
        const std::optional<ch01::GrepMatch> match = search.send(line);
        std::cout << "  " << (match ? "match    " : "no match ") << '"' << line << "\"\n";
    }
}

double parse_number(const std::string& text) {
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) {
        throw common::UsageError("average: '" + text + "' is not a number");
    }
    return value;
}

int run_average(std::span<const std::string> arguments) {
    if (arguments.empty()) {
        throw common::UsageError("average needs at least one number");
    }
    std::vector<double> numbers;
    for (const std::string& argument : arguments) {
        numbers.push_back(parse_number(argument));  // all checked before any output
    }
    auto average = ch01::running_average();
    (void)average.prime();
    for (const double number : numbers) {
        std::cout << number << " -> " << *average.send(number) << '\n';
    }
    return 0;
}

int run_grep(std::span<const std::string> arguments) {
    const common::Args args = common::Args::parse(arguments, {}, 1);
    if (args.positionals().size() != 1) {
        throw common::UsageError("grep needs a PATTERN");
    }
    auto search = ch01::grep(args.positionals().front());
    (void)search.prime();
    std::string line;
    while (std::getline(std::cin, line)) {
        if (const std::optional<ch01::GrepMatch> match = search.send(std::move(line))) {
            std::cout << *match << '\n';
        }
    }
    return 0;
}

int run(std::vector<std::string> arguments) {
    const std::string command = arguments.empty() ? "demo" : arguments.front();
    const std::span<const std::string> rest =
        arguments.empty() ? std::span<const std::string>{} : std::span(arguments).subspan(1);
    if (command == "demo") {
        (void)common::Args::parse(rest, {}, 0);
        demo_round_robin();
        demo_average();
        demo_grep();
        return 0;
    }
    if (command == "average") {
        return run_average(rest);
    }
    if (command == "grep") {
        return run_grep(rest);
    }
    if (command.starts_with('-')) {
        throw common::UsageError("unknown flag '" + command + "'");
    }
    throw common::UsageError("unknown command '" + command + "'");
}

}  // namespace

int main(int argc, char** argv) { return common::run_main(argc, argv, program, usage, run); }
