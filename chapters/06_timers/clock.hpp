// clock.hpp: where the loop reads the time, so tests can replace it.
//
// Timers are deadlines on a monotonic clock: steady_clock, never
// system_clock, which jumps when the wall time is corrected (PITFALLS 15).
// FakeClock lets timer tests run on invented time: when the loop would sleep
// until the next deadline and no descriptor is ready, it moves the fake
// clock to that deadline instead of waiting.
#pragma once

#include <algorithm>
#include <chrono>

namespace ch06 {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;

class TimeSource {
public:
    virtual ~TimeSource() = default;
    [[nodiscard]] virtual TimePoint now() const = 0;
    // True for a clock the loop may move forward instead of sleeping.
    [[nodiscard]] virtual bool is_fake() const { return false; }
    virtual void advance_to(TimePoint) {}
};

class SteadyClock final : public TimeSource {
public:
    [[nodiscard]] TimePoint now() const override { return Clock::now(); }
};

class FakeClock final : public TimeSource {
public:
    [[nodiscard]] TimePoint now() const override { return now_; }
    [[nodiscard]] bool is_fake() const override { return true; }
    void advance_to(TimePoint when) override { now_ = std::max(now_, when); }
    void advance(Duration by) { now_ += by; }

private:
    TimePoint now_{};  // the epoch of steady_clock: time starts at zero
};

}  // namespace ch06
