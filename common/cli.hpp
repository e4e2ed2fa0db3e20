// cli.hpp: the small command-line parser every chapter's executable uses.
//
// Flags are `--name value` or `--name=value`; a flag declared without a value
// is a switch. Anything unknown, missing or out of range is a UsageError with
// a message that says what was wrong; run_main() turns it into that message,
// a hint to try --help, and exit code 2.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace common {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct FlagSpec {
    std::string name;         // without the leading "--"
    bool takes_value = true;  // false: a switch such as --sequential
};

class Args {
public:
    // Parses `args` (no program name, no command). At most `max_positionals`
    // arguments that are not flags are accepted.
    static Args parse(std::span<const std::string> args, std::initializer_list<FlagSpec> flags,
                      std::size_t max_positionals = 0);

    [[nodiscard]] bool has(std::string_view name) const;
    [[nodiscard]] std::string string_or(std::string_view name, std::string fallback) const;
    // An integer flag within [min, max]; a UsageError names the flag otherwise.
    [[nodiscard]] std::int64_t int_or(std::string_view name, std::int64_t fallback,
                                      std::int64_t min, std::int64_t max) const;
    // A choice among `allowed`.
    [[nodiscard]] std::string choice_or(std::string_view name, std::string fallback,
                                        std::initializer_list<std::string_view> allowed) const;
    [[nodiscard]] const std::vector<std::string>& positionals() const { return positionals_; }

private:
    std::map<std::string, std::optional<std::string>, std::less<>> values_;
    std::vector<std::string> positionals_;
};

// Runs `body` with the arguments after the program name and maps failures to
// exit codes: `--help`/`-h` anywhere prints `usage` and returns 0; UsageError
// prints "<program>: <message>" and a hint, returns 2; any other exception
// prints "<program>: error: <what>" and returns 1.
int run_main(int argc, char** argv, std::string_view program, std::string_view usage,
             const std::function<int(std::vector<std::string>)>& body);

}  // namespace common
