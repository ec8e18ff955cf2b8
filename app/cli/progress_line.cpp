#include "progress_line.h"

#include <cstdio>
#include <unistd.h>

namespace gafx::cli {

ProgressLine::ProgressLine(std::string label) : label_(std::move(label)), tty_(isatty(STDERR_FILENO) != 0) {}

ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::update(int64_t done, int64_t total, const std::string& item) {
    const auto now = std::chrono::steady_clock::now();
    const auto every = tty_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000);
    if (done < total && last_.time_since_epoch().count() != 0 && now - last_ < every) return;
    last_ = now;
    std::string shown = item;
    if (shown.size() > 70) shown = "..." + shown.substr(shown.size() - 67);
    const int pct = total > 0 ? int(100 * done / total) : 100;
    if (tty_) {
        std::fprintf(stderr, "\r\033[K%s %lld/%lld (%d%%) %s", label_.c_str(), (long long)done, (long long)total, pct,
                     shown.c_str());
        open_ = true;
    } else {
        std::fprintf(stderr, "%s %lld/%lld (%d%%) %s\n", label_.c_str(), (long long)done, (long long)total, pct,
                     shown.c_str());
    }
    std::fflush(stderr);
}

void ProgressLine::finish() {
    if (open_) std::fputc('\n', stderr);
    open_ = false;
}

} // namespace gafx::cli
