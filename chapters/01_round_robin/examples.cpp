#include "chapters/01_round_robin/examples.hpp"

#include <utility>

namespace ch01 {

Generator<char> letters(std::string word) {
    for (const char letter : word) {
        co_yield letter;
    }
}

Generator<int> countdown(int from) {
    for (int n = from; n > 0; --n) {
        co_yield n;
    }
}

Coroutine<std::optional<double>, double> running_average() {
    double sum = 0;
    long count = 0;
    std::optional<double> average;
    while (true) {
        // Hand out the current average and pause; the next send() resumes
        // here, and its argument is the value of the co_yield expression.
        const double number = co_yield average;
        sum += number;
        ++count;
        average = sum / static_cast<double>(count);
    }
}

std::ostream& operator<<(std::ostream& out, const GrepMatch& match) {
    return out << match.line_number << ": " << match.line;
}

Coroutine<std::optional<GrepMatch>, std::string> grep(std::string pattern) {
    std::size_t line_number = 0;
    std::optional<GrepMatch> report;
    while (true) {
        std::string line = co_yield report;
        ++line_number;
        report.reset();
        if (line.find(pattern) != std::string::npos) {
            report = GrepMatch{line_number, std::move(line)};
        }
    }
}

}  // namespace ch01
