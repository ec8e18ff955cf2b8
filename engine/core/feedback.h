#pragma once
// Cancel and progress across threads (the QgsFeedback shape, Qt-free): the caller owns it,
// long-running engine work polls cancelled() and reports progress; nothing else couples them.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace gafx {

class Feedback {
public:
    // Called from the working thread: (done, total, what is being done now).
    std::function<void(int64_t done, int64_t total, const std::string& item)> on_progress;

    void cancel() { cancelled_.store(true); }
    bool cancelled() const { return cancelled_.load(); }
    void progress(int64_t done, int64_t total, const std::string& item = {}) const {
        if (on_progress) on_progress(done, total, item);
    }

private:
    std::atomic<bool> cancelled_{false};
};

} // namespace gafx
