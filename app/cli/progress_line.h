#pragma once
// The progress line on stderr: rewritten in place on a terminal, a line every few seconds
// when stderr is a log file, so long imports show life without flooding CI logs.
#include <chrono>
#include <cstdint>
#include <string>

namespace gafx::cli {

class ProgressLine {
public:
    explicit ProgressLine(std::string label);
    ~ProgressLine();
    void update(int64_t done, int64_t total, const std::string& item);
    void finish();

private:
    std::string label_;
    bool tty_;
    bool open_ = false;
    std::chrono::steady_clock::time_point last_{};
};

} // namespace gafx::cli
