#include "chapters/06_timers/timer_heap.hpp"

#include <algorithm>

namespace ch06 {

void Handle::cancel_pending() noexcept {
    state_->cancelled = true;
    state_->callback = nullptr;  // release what it captured now, not when it would have run
    if (state_->heap != nullptr) {
        state_->heap->note_cancelled();
    }
}

void TimerHeap::push(TimePoint when, std::shared_ptr<HandleState> handle) {
    handle->heap = this;
    entries_.push_back({when, next_sequence_++, std::move(handle)});
    std::push_heap(entries_.begin(), entries_.end(), later);
}

void TimerHeap::note_cancelled() noexcept {
    ++cancelled_;
    if (cancelled_ >= min_cancelled_to_compact && cancelled_ * 2 > entries_.size()) {
        compact();
    }
}

void TimerHeap::compact() noexcept {
    std::erase_if(entries_, [](const Entry& e) {
        if (e.handle->cancelled) {
            e.handle->heap = nullptr;
            return true;
        }
        return false;
    });
    std::make_heap(entries_.begin(), entries_.end(), later);
    cancelled_ = 0;
}

void TimerHeap::drop_cancelled_top() {
    while (!entries_.empty() && entries_.front().handle->cancelled) {
        std::pop_heap(entries_.begin(), entries_.end(), later);
        entries_.back().handle->heap = nullptr;
        entries_.pop_back();
        --cancelled_;
    }
}

std::optional<TimePoint> TimerHeap::next_deadline() {
    drop_cancelled_top();
    if (entries_.empty()) {
        return std::nullopt;
    }
    return entries_.front().when;
}

std::shared_ptr<HandleState> TimerHeap::pop_due(TimePoint now) {
    drop_cancelled_top();
    if (entries_.empty() || entries_.front().when > now) {
        return nullptr;
    }
    std::pop_heap(entries_.begin(), entries_.end(), later);
    std::shared_ptr<HandleState> handle = std::move(entries_.back().handle);
    entries_.pop_back();
    handle->heap = nullptr;
    return handle;
}

void TimerHeap::clear() {
    for (Entry& e : entries_) {
        e.handle->heap = nullptr;
    }
    entries_.clear();
    cancelled_ = 0;
}

}  // namespace ch06
