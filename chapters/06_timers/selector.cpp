#include "chapters/06_timers/selector.hpp"

#include <sys/epoll.h>
#include <sys/select.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "common/error.hpp"
#include "common/fd.hpp"

namespace ch06 {
namespace {

int to_ms(std::optional<std::chrono::nanoseconds> timeout) {
    if (!timeout) {
        return -1;
    }
    // Round up: waking a little early would make the loop spin until the
    // deadline with zero timeouts.
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(*timeout).count();
    return static_cast<int>(std::clamp<std::int64_t>(ms, 0, 24 * 3600 * 1000));
}

class EpollSelector final : public Selector {
public:
    EpollSelector() : epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
        if (!epoll_) {
            common::throw_errno("epoll_create1");
        }
        buffer_.resize(1024);
    }

    void add(int fd, unsigned interest, void* token) override { control(EPOLL_CTL_ADD, fd, interest, token); }
    void modify(int fd, unsigned interest, void* token) override { control(EPOLL_CTL_MOD, fd, interest, token); }
    void remove(int fd) override {
        if (::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr) != 0) {
            common::throw_errno("epoll_ctl(DEL)");
        }
    }

    void wait(std::optional<std::chrono::nanoseconds> timeout, std::vector<IoEvent>& events) override {
        const int n = ::epoll_wait(epoll_.get(), buffer_.data(), static_cast<int>(buffer_.size()), to_ms(timeout));
        if (n < 0) {
            if (errno == EINTR) {
                return;
            }
            common::throw_errno("epoll_wait");
        }
        for (int i = 0; i < n; ++i) {
            unsigned ready = 0;
            if ((buffer_[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
                ready |= interest_read;
            }
            if ((buffer_[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) {
                ready |= interest_write;
            }
            events.push_back({buffer_[i].data.ptr, ready});
        }
    }

    [[nodiscard]] bool can_watch(int fd) const override { return fd >= 0; }
    [[nodiscard]] const char* name() const override { return "epoll"; }

private:
    void control(int op, int fd, unsigned interest, void* token) {
        epoll_event ev{};
        ev.events = ((interest & interest_read) != 0 ? EPOLLIN : 0u) |
                    ((interest & interest_write) != 0 ? EPOLLOUT : 0u);
        ev.data.ptr = token;
        if (::epoll_ctl(epoll_.get(), op, fd, &ev) != 0) {
            common::throw_errno(op == EPOLL_CTL_ADD ? "epoll_ctl(ADD)" : "epoll_ctl(MOD)");
        }
    }

    common::Fd epoll_;
    std::vector<epoll_event> buffer_;
};

// The fallback: select(2), with chapter 02's FD_SETSIZE guard.
class SelectSelector final : public Selector {
public:
    void add(int fd, unsigned interest, void* token) override {
        if (!can_watch(fd)) {
            throw std::out_of_range("select() cannot watch fd " + std::to_string(fd) +
                                    " (FD_SETSIZE is " + std::to_string(FD_SETSIZE) + ")");
        }
        if (!registered_.emplace(fd, Entry{interest, token}).second) {
            throw std::invalid_argument("fd " + std::to_string(fd) + " is already registered");
        }
    }
    void modify(int fd, unsigned interest, void* token) override { registered_.at(fd) = Entry{interest, token}; }
    void remove(int fd) override { registered_.erase(fd); }

    void wait(std::optional<std::chrono::nanoseconds> timeout, std::vector<IoEvent>& events) override {
        fd_set readable;
        fd_set writable;
        FD_ZERO(&readable);
        FD_ZERO(&writable);
        int highest = -1;
        for (const auto& [fd, entry] : registered_) {
            if ((entry.interest & interest_read) != 0) {
                FD_SET(fd, &readable);
            }
            if ((entry.interest & interest_write) != 0) {
                FD_SET(fd, &writable);
            }
            highest = std::max(highest, fd);
        }
        timeval tv{};
        timeval* tv_ptr = nullptr;
        if (timeout) {
            const auto us = std::chrono::ceil<std::chrono::microseconds>(*timeout).count();
            tv.tv_sec = static_cast<time_t>(us / 1'000'000);
            tv.tv_usec = static_cast<suseconds_t>(us % 1'000'000);
            tv_ptr = &tv;
        }
        const int n = ::select(highest + 1, &readable, &writable, nullptr, tv_ptr);
        if (n < 0) {
            if (errno == EINTR) {
                return;
            }
            common::throw_errno("select");
        }
        for (const auto& [fd, entry] : registered_) {
            unsigned ready = 0;
            if (FD_ISSET(fd, &readable)) {
                ready |= interest_read;
            }
            if (FD_ISSET(fd, &writable)) {
                ready |= interest_write;
            }
            if (ready != 0) {
                events.push_back({entry.token, ready});
            }
        }
    }

    [[nodiscard]] bool can_watch(int fd) const override { return fd >= 0 && fd < FD_SETSIZE; }
    [[nodiscard]] const char* name() const override { return "select"; }

private:
    struct Entry {
        unsigned interest;
        void* token;
    };
    std::unordered_map<int, Entry> registered_;
};

}  // namespace

std::unique_ptr<Selector> make_selector(SelectorKind kind) {
    if (kind == SelectorKind::select) {
        return std::make_unique<SelectSelector>();
    }
    return std::make_unique<EpollSelector>();  // best on Linux
}

}  // namespace ch06
