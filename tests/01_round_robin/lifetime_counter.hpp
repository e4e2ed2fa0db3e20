// lifetime_counter.hpp: a value type that counts its constructions and
// destructions, so a test can check that a coroutine frame destroyed its
// locals and parameter copies (constructions and destructions balance) and
// how many copies a co_yield made.
#pragma once

namespace ch01_test {

struct LifetimeCounter {
    int constructed = 0;  // every construction, copies and moves included
    int copied = 0;
    int moved = 0;
    int destroyed = 0;

    int alive() const { return constructed - destroyed; }
};

class Tracked {
public:
    explicit Tracked(LifetimeCounter* counter) : counter_(counter) { ++counter_->constructed; }
    Tracked(const Tracked& other) : counter_(other.counter_) {
        ++counter_->constructed;
        ++counter_->copied;
    }
    Tracked(Tracked&& other) noexcept : counter_(other.counter_) {
        ++counter_->constructed;
        ++counter_->moved;
    }
    Tracked& operator=(const Tracked&) = delete;
    Tracked& operator=(Tracked&&) = delete;
    ~Tracked() { ++counter_->destroyed; }

private:
    LifetimeCounter* counter_;
};

}  // namespace ch01_test
