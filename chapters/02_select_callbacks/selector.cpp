#include "chapters/02_select_callbacks/selector.hpp"

#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "common/error.hpp"

namespace ch02 {

Selector::Selector(int max_fd) : max_fd_(max_fd) {
    if (max_fd <= 0 || max_fd > FD_SETSIZE) {
        throw std::invalid_argument("Selector: max_fd must be in 1.." + std::to_string(FD_SETSIZE));
    }
    keys_.resize(static_cast<std::size_t>(max_fd));
    FD_ZERO(&read_set_);
    FD_ZERO(&write_set_);
}

void Selector::check_fd(int fd) const {
    if (fd < 0 || fd >= max_fd_) {
        throw std::out_of_range("select() cannot watch fd " + std::to_string(fd) +
                                ": descriptors must be below " + std::to_string(max_fd_) +
                                " (FD_SETSIZE is " + std::to_string(FD_SETSIZE) + ")");
    }
}

void Selector::check_events(unsigned events) {
    if (events == 0 || (events & ~(event_read | event_write)) != 0) {
        throw std::invalid_argument("Selector: events must be event_read and/or event_write");
    }
}

Selector::Key& Selector::registered_key(int fd) {
    if (fd < 0 || fd >= max_fd_ || keys_[static_cast<std::size_t>(fd)].events == 0) {
        throw std::invalid_argument("Selector: fd " + std::to_string(fd) + " is not registered");
    }
    return keys_[static_cast<std::size_t>(fd)];
}

void Selector::register_fd(int fd, unsigned events, Callback callback) {
    check_fd(fd);
    check_events(events);
    Key& key = keys_[static_cast<std::size_t>(fd)];
    if (key.events != 0) {
        throw std::invalid_argument("Selector: fd " + std::to_string(fd) + " is already registered");
    }
    key.callback = std::make_shared<Callback>(std::move(callback));
    key.events = events;
    key.generation = ++registrations_;
    ++count_;
    highest_fd_ = std::max(highest_fd_, fd);
    set_interest(fd, events);
}

void Selector::set_interest(int fd, unsigned events) {
    if ((events & event_read) != 0) {
        FD_SET(fd, &read_set_);
    } else {
        FD_CLR(fd, &read_set_);
    }
    if ((events & event_write) != 0) {
        FD_SET(fd, &write_set_);
    } else {
        FD_CLR(fd, &write_set_);
    }
}

void Selector::modify(int fd, unsigned events) {
    check_events(events);
    Key& key = registered_key(fd);
    key.events = events;
    set_interest(fd, events);
}

void Selector::modify(int fd, unsigned events, Callback callback) {
    modify(fd, events);
    keys_[static_cast<std::size_t>(fd)].callback = std::make_shared<Callback>(std::move(callback));
}

void Selector::unregister(int fd) {
    Key& key = registered_key(fd);
    FD_CLR(fd, &read_set_);
    FD_CLR(fd, &write_set_);
    key.events = 0;
    key.callback.reset();  // a running call holds its own reference
    --count_;
    while (highest_fd_ >= 0 && keys_[static_cast<std::size_t>(highest_fd_)].events == 0) {
        --highest_fd_;
    }
}

bool Selector::is_registered(int fd) const {
    return fd >= 0 && fd < max_fd_ && keys_[static_cast<std::size_t>(fd)].events != 0;
}

unsigned Selector::events(int fd) const {
    return is_registered(fd) ? keys_[static_cast<std::size_t>(fd)].events : 0;
}

std::vector<Ready> Selector::select(std::optional<std::chrono::milliseconds> timeout) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = timeout ? Clock::now() + *timeout : Clock::time_point::max();
    for (;;) {
        // select() overwrites its sets with the answer: hand it copies.
        fd_set readable = read_set_;
        fd_set writable = write_set_;
        timeval tv{};
        timeval* tv_ptr = nullptr;
        if (timeout) {
            const auto left = std::max(Clock::duration::zero(), deadline - Clock::now());
            const auto us = std::chrono::duration_cast<std::chrono::microseconds>(left).count();
            tv.tv_sec = static_cast<time_t>(us / 1'000'000);
            tv.tv_usec = static_cast<suseconds_t>(us % 1'000'000);
            tv_ptr = &tv;
        }
        const int n = ::select(highest_fd_ + 1, &readable, &writable, nullptr, tv_ptr);
        if (n < 0) {
            if (errno == EINTR) {
                continue;  // a signal: wait again for the time that is left
            }
            common::throw_errno("select");
        }
        std::vector<Ready> ready;
        ready.reserve(static_cast<std::size_t>(n));
        for (int fd = 0; fd <= highest_fd_ && ready.size() < static_cast<std::size_t>(n); ++fd) {
            unsigned events = 0;
            if (FD_ISSET(fd, &readable)) {
                events |= event_read;
            }
            if (FD_ISSET(fd, &writable)) {
                events |= event_write;
            }
            if (events != 0) {
                ready.push_back({fd, events, keys_[static_cast<std::size_t>(fd)].generation});
            }
        }
        return ready;
    }
}

std::size_t Selector::run_once(std::optional<std::chrono::milliseconds> timeout) {
    const std::vector<Ready> ready = select(timeout);
    std::size_t ran = 0;
    for (const Ready& r : ready) {
        // Look the fd up again: an earlier callback of this batch may have
        // unregistered it, changed what it waits for, or closed it and
        // registered a new descriptor that got the same number (its
        // generation differs). The new one was not part of this select(); if
        // it is ready, the next one says so.
        const unsigned wanted = events(r.fd) & r.events;
        if (wanted == 0) {
            continue;
        }
        const Key& key = keys_[static_cast<std::size_t>(r.fd)];
        if (key.generation != r.generation) {
            continue;
        }
        // Our own reference: if the callback unregisters its fd, the
        // selector drops its reference but the call in progress keeps going.
        const std::shared_ptr<Callback> callback = key.callback;
        (*callback)(r.fd, wanted);
        ++ran;
    }
    return ran;
}

}  // namespace ch02
