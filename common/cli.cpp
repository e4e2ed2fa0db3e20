#include "common/cli.hpp"

#include <charconv>
#include <exception>
#include <iostream>

namespace common {

Args Args::parse(std::span<const std::string> args, std::initializer_list<FlagSpec> flags,
                 std::size_t max_positionals) {
    Args result;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg.size() < 2 || arg.compare(0, 2, "--") != 0) {
            if (!arg.empty() && arg[0] == '-' && arg != "-") {
                throw UsageError("unknown flag '" + arg + "'");
            }
            if (result.positionals_.size() >= max_positionals) {
                throw UsageError("unexpected argument '" + arg + "'");
            }
            result.positionals_.push_back(arg);
            continue;
        }
        std::string name = arg.substr(2);
        std::optional<std::string> value;
        if (const auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name.resize(eq);
        }
        const FlagSpec* spec = nullptr;
        for (const FlagSpec& f : flags) {
            if (f.name == name) {
                spec = &f;
            }
        }
        if (spec == nullptr) {
            throw UsageError("unknown flag '--" + name + "'");
        }
        if (spec->takes_value && !value) {
            if (i + 1 >= args.size()) {
                throw UsageError("--" + name + " needs a value");
            }
            value = args[++i];
        }
        if (!spec->takes_value && value) {
            throw UsageError("--" + name + " takes no value");
        }
        result.values_[name] = value;
    }
    return result;
}

bool Args::has(std::string_view name) const { return values_.find(name) != values_.end(); }

std::string Args::string_or(std::string_view name, std::string fallback) const {
    const auto it = values_.find(name);
    if (it == values_.end() || !it->second) {
        return fallback;
    }
    return *it->second;
}

std::int64_t Args::int_or(std::string_view name, std::int64_t fallback, std::int64_t min,
                          std::int64_t max) const {
    const auto it = values_.find(name);
    if (it == values_.end() || !it->second) {
        return fallback;
    }
    const std::string& text = *it->second;
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        throw UsageError("--" + std::string(name) + ": '" + text + "' is not a whole number");
    }
    if (value < min || value > max) {
        throw UsageError("--" + std::string(name) + ": " + text + " is out of range " +
                         std::to_string(min) + ".." + std::to_string(max));
    }
    return value;
}

std::string Args::choice_or(std::string_view name, std::string fallback,
                            std::initializer_list<std::string_view> allowed) const {
    std::string value = string_or(name, fallback);
    std::string list;
    for (std::string_view a : allowed) {
        if (a == value) {
            return value;
        }
        list += (list.empty() ? "" : "|") + std::string(a);
    }
    throw UsageError("--" + std::string(name) + ": '" + value + "' is not one of " + list);
}

int run_main(int argc, char** argv, std::string_view program, std::string_view usage,
             const std::function<int(std::vector<std::string>)>& body) {
    std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    for (const std::string& a : args) {
        if (a == "--help" || a == "-h") {
            std::cout << usage;
            return 0;
        }
    }
    try {
        return body(std::move(args));
    } catch (const UsageError& e) {
        std::cerr << program << ": " << e.what() << "\nRun '" << program
                  << " --help' for usage.\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << program << ": error: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace common
