// examples.hpp: the coroutines this chapter runs, retold from the Python
// source texts: two generators for the round-robin scheduler (letters of a
// word, a countdown) and two coroutines driven by send() (a running average
// and grep).
//
// Every parameter is taken by value: a coroutine's parameters are copied into
// its frame, and a reference parameter could outlive what it refers to once
// the body pauses.
#pragma once

#include "chapters/01_round_robin/coroutine.hpp"
#include "chapters/01_round_robin/generator.hpp"

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>

namespace ch01 {

// The letters of `word`, one per step.
Generator<char> letters(std::string word);

// from, from - 1, ..., 1 (nothing when from < 1).
Generator<int> countdown(int from);

// Send a number, get back the average of every number sent so far. Before
// the first number there is no average: prime() returns std::nullopt.
Coroutine<std::optional<double>, double> running_average();

struct GrepMatch {
    std::size_t line_number = 0;  // 1 for the first line sent
    std::string line;

    friend bool operator==(const GrepMatch&, const GrepMatch&) = default;
};
std::ostream& operator<<(std::ostream& out, const GrepMatch& match);

// Send lines one at a time; each send() returns the line, with its number,
// if it contains `pattern`, and std::nullopt otherwise.
Coroutine<std::optional<GrepMatch>, std::string> grep(std::string pattern);

}  // namespace ch01
