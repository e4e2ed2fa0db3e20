// fetch_coroutine.hpp: ch03::FetchCoroutine, a coroutine that yields futures.
//
// It is chapter 01's generator again, yielding one thing: the future it
// waits for. `co_yield future;` suspends the fetch; whoever steps it attaches
// "resume me" to that future; when the future completes the fetch goes on
// and reads future->result(). Nothing here drives it: see step() in
// crawler.cpp, written by hand, and chapter 04's Task, which replaces it.
#pragma once

#include <coroutine>
#include <exception>
#include <memory>
#include <utility>

#include "chapters/03_future/future.hpp"

namespace ch03 {

class [[nodiscard]] FetchCoroutine {
public:
    struct promise_type {
        std::shared_ptr<FutureBase> waiting_for;
        std::exception_ptr exception;

        FetchCoroutine get_return_object() { return FetchCoroutine{Handle::from_promise(*this)}; }
        std::suspend_always initial_suspend() noexcept { return {}; }
        std::suspend_always final_suspend() noexcept { return {}; }
        std::suspend_always yield_value(std::shared_ptr<FutureBase> future) noexcept {
            waiting_for = std::move(future);
            return {};
        }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { exception = std::current_exception(); }
    };
    using Handle = std::coroutine_handle<promise_type>;

    FetchCoroutine(FetchCoroutine&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    FetchCoroutine& operator=(FetchCoroutine&&) = delete;
    FetchCoroutine(const FetchCoroutine&) = delete;
    ~FetchCoroutine() {
        if (handle_) {
            handle_.destroy();
        }
    }

    // Runs to the next co_yield; returns the future it now waits for, or
    // nullptr when the coroutine has finished. Rethrows what the body threw.
    //
    // The future is handed over, not shared: the driver makes the future's
    // callback own this coroutine, so a frame that kept the future too would
    // form a cycle (future, callback, coroutine, frame, future), and a fetch
    // abandoned while suspended would never be freed, nor its socket closed.
    std::shared_ptr<FutureBase> resume() {
        handle_.resume();
        if (handle_.done()) {
            if (auto e = std::exchange(handle_.promise().exception, nullptr)) {
                std::rethrow_exception(e);
            }
            return nullptr;
        }
        return std::move(handle_.promise().waiting_for);
    }

private:
    explicit FetchCoroutine(Handle handle) : handle_(handle) {}
    Handle handle_;
};

}  // namespace ch03
