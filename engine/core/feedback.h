#pragma once
// Cancel and progress across threads (the QgsFeedback shape, Qt-free). The caller creates it
// with its progress callback (which then never changes) and may cancel() from any thread; the
// working thread calls progress() and throw_if_cancelled() between units of work.
#include "core/error.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace gafx {

class Feedback {
public:
    // Called on the working thread: (done, total, what is being done now).
    using Progress = std::function<void(int64_t done, int64_t total, const std::string& item)>;

    Feedback() = default;
    explicit Feedback(Progress on_progress) : on_progress_(std::move(on_progress)) {}
    Feedback(const Feedback&) = delete;
    Feedback& operator=(const Feedback&) = delete;

    void cancel() { cancelled_.store(true); }
    bool cancelled() const { return cancelled_.load(); }
    // Throws Cancelled naming `path` (what was being worked on) once cancel() was called.
    void throw_if_cancelled(const std::string& path = {}) const {
        if (cancelled()) throw Cancelled(path);
    }
    void progress(int64_t done, int64_t total, const std::string& item = {}) const {
        if (on_progress_) on_progress_(done, total, item);
    }

private:
    const Progress on_progress_;
    std::atomic<bool> cancelled_{false};
};

// For engine functions that take an optional Feedback*.
inline void throw_if_cancelled(const Feedback* fb, const std::string& path = {}) {
    if (fb) fb->throw_if_cancelled(path);
}

} // namespace gafx
