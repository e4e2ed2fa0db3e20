#include "chapters/01_round_robin/round_robin.hpp"

#include <ostream>

namespace ch01 {

std::ostream& operator<<(std::ostream& out, Outcome outcome) {
    switch (outcome) {
    case Outcome::produced: return out << "produced";
    case Outcome::finished: return out << "finished";
    case Outcome::failed: return out << "failed";
    }
    return out << "Outcome(" << static_cast<int>(outcome) << ")";
}

std::ostream& operator<<(std::ostream& out, const Turn& turn) {
    out << turn.task << ' ' << turn.outcome;
    if (!turn.text.empty()) {
        out << ": " << turn.text;
    }
    return out;
}

std::string describe(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "an exception of a type not derived from std::exception";
    }
}

RoundRobin::RoundRobin(Observer observer) : observer_(std::move(observer)) {}

bool RoundRobin::run_one_turn() {
    if (queue_.empty()) {
        return false;
    }
    // Take the task out of the queue for its turn; it goes back only if it
    // yielded.
    Task task = std::move(queue_.front());
    queue_.pop_front();

    std::optional<std::string> value;
    try {
        value = task.runnable->step();
    } catch (...) {
        const std::exception_ptr error = std::current_exception();
        failures_.push_back(Failure{task.name, describe(error), error});
        record(Turn{std::move(task.name), Outcome::failed, failures_.back().message});
        return true;  // the failed task is destroyed here; the others go on
    }

    if (!value) {
        record(Turn{std::move(task.name), Outcome::finished, {}});
        return true;
    }
    Turn turn{task.name, Outcome::produced, std::move(*value)};
    queue_.push_back(std::move(task));
    record(std::move(turn));
    return true;
}

void RoundRobin::run() {
    while (run_one_turn()) {
    }
}

void RoundRobin::record(Turn turn) {
    trace_.push_back(turn);
    if (observer_) {
        observer_(turn);  // a copy: the observer may spawn tasks or run turns itself
    }
}

}  // namespace ch01
