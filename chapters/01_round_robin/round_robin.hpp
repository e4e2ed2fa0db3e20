// round_robin.hpp: ch01::RoundRobin, a queue of named generators resumed in
// turn on one thread. This is the seed of an event loop: the loop is the only
// caller, and each task runs until it pauses, then waits for its next turn.
//
// The ordering rule: each turn takes the task at the front of the queue and
// runs it to its next co_yield. A task that yielded goes back to the end of
// the queue; a task that finished, or threw, leaves the queue for good. A task
// that throws is reported (in failures() and to the observer) and the others
// carry on: one broken task must not stop the loop.
//
// Every turn is recorded in trace(), so the interleaving can be printed and
// asserted exactly. The trace grows with every turn: fine for a lesson and
// its tests, not for a loop that runs for days.
//
// It deliberately does not know about I/O or time. Every task gets a turn
// whether or not it can make progress, so a task waiting for a socket would
// have to poll it on every turn. Chapter 02 fixes that with select().
#pragma once

#include "chapters/01_round_robin/generator.hpp"

#include <concepts>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ch01 {

// The scheduler shows values as text, so it can hold generators of any type
// that can be printed.
template <typename T>
concept Printable = requires(std::ostream& out, const T& value) { out << value; };

enum class Outcome {
    produced,  // the task yielded a value and went back to the end of the queue
    finished,  // the task's body returned; it left the queue
    failed,    // the task's body threw; it left the queue
};

// One turn of the scheduler: which task ran and what came of it.
struct Turn {
    std::string task;
    Outcome outcome = Outcome::produced;
    std::string text;  // the value produced, the error message, or empty when finished

    friend bool operator==(const Turn&, const Turn&) = default;
};

// A task that threw. `error` is the exception itself, for a caller that
// wants to rethrow it or inspect its type.
struct Failure {
    std::string task;
    std::string message;
    std::exception_ptr error;
};

std::ostream& operator<<(std::ostream& out, Outcome outcome);
std::ostream& operator<<(std::ostream& out, const Turn& turn);

// A readable message for any exception, including ones that do not derive
// from std::exception (`throw 42;`).
std::string describe(const std::exception_ptr& error);

class RoundRobin {
public:
    using Observer = std::function<void(const Turn&)>;

    RoundRobin() = default;
    // `observer` sees each turn as it happens (the demo prints them).
    explicit RoundRobin(Observer observer);

    // Adds a task at the end of the queue. Its body does not start now: the
    // generator is lazy, it first runs on the task's first turn.
    template <Printable T>
    void spawn(std::string name, Generator<T> generator) {
        queue_.push_back(Task{std::move(name),
                              std::make_unique<GeneratorRunnable<T>>(std::move(generator))});
    }

    // One turn. Returns false when the queue was empty and nothing ran.
    bool run_one_turn();
    // Turns until every task has finished or failed.
    void run();

    std::size_t pending() const noexcept { return queue_.size(); }
    const std::vector<Turn>& trace() const noexcept { return trace_; }
    const std::vector<Failure>& failures() const noexcept { return failures_; }

private:
    // The queue holds generators of different value types; this is the one
    // operation it needs from each of them.
    class Runnable {
    public:
        virtual ~Runnable() = default;
        // Runs the body to its next co_yield and returns the value as text,
        // or nothing once the body has finished. Rethrows what it threw.
        virtual std::optional<std::string> step() = 0;
    };

    template <typename T>
    class GeneratorRunnable final : public Runnable {
    public:
        explicit GeneratorRunnable(Generator<T> generator) : generator_(std::move(generator)) {}

        std::optional<std::string> step() override {
            if (!generator_.next()) {
                return std::nullopt;
            }
            std::ostringstream text;
            text << generator_.value();
            return std::move(text).str();
        }

    private:
        Generator<T> generator_;
    };

    struct Task {
        std::string name;
        std::unique_ptr<Runnable> runnable;
    };

    void record(Turn turn);

    std::deque<Task> queue_;
    std::vector<Turn> trace_;
    std::vector<Failure> failures_;
    Observer observer_;
};

}  // namespace ch01
