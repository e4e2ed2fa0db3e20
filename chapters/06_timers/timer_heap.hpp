// timer_heap.hpp: the loop's timers, a binary min-heap.
//
// Ordered by (deadline, sequence number): two timers with the same deadline
// fire in the order they were scheduled (PITFALLS 16). Cancelling does not
// search the heap: it marks the handle, and the heap skips it when it
// reaches the top. So that schedule/cancel churn cannot grow the heap
// without bound, it is rebuilt without the cancelled entries once they are
// more than half of it (and at least 100), as asyncio does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "chapters/06_timers/clock.hpp"
#include "chapters/06_timers/handle.hpp"

namespace ch06 {

class TimerHeap {
public:
    static constexpr std::size_t min_cancelled_to_compact = 100;

    void push(TimePoint when, std::shared_ptr<HandleState> handle);
    // The earliest deadline of a timer that is not cancelled.
    [[nodiscard]] std::optional<TimePoint> next_deadline();
    // Removes and returns the next timer due at or before `now`, skipping
    // cancelled ones; nullptr when none is due.
    std::shared_ptr<HandleState> pop_due(TimePoint now);

    void note_cancelled() noexcept;  // called by Handle::cancel for a timer in this heap
    [[nodiscard]] std::size_t size() const { return entries_.size(); }
    [[nodiscard]] std::size_t cancelled() const { return cancelled_; }
    void clear();

private:
    struct Entry {
        TimePoint when;
        std::uint64_t sequence;
        std::shared_ptr<HandleState> handle;
    };
    // std::push_heap builds a max-heap: "later" is "less" to get the earliest on top.
    static bool later(const Entry& a, const Entry& b) {
        return a.when != b.when ? a.when > b.when : a.sequence > b.sequence;
    }
    void drop_cancelled_top();
    void compact() noexcept;

    std::vector<Entry> entries_;
    std::uint64_t next_sequence_ = 0;
    std::size_t cancelled_ = 0;
};

}  // namespace ch06
