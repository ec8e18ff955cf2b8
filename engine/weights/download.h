#pragma once
// HTTP(S) downloads with libcurl into a `.part` file that a later call resumes.
#include <cstdint>
#include <functional>
#include <string>

namespace gafx::weights {

struct DownloadOptions {
    // Bytes in the part file so far and the whole size (-1 while unknown); called often.
    std::function<void(int64_t have, int64_t total)> progress;
    long connect_seconds = 20;
    long stall_seconds = 30; // under 1 KiB/s for this long ends the transfer (no hang)
};

struct DownloadResult {
    bool resumed = false;   // the server continued where the part file ended (206)
    int64_t bytes = 0;      // the part file's size afterwards
};

// Appends `url` to `part`, asking for the rest with a Range request when `part` already holds
// bytes; a server that ignores it (200) restarts the file, one that says the range is past the
// end (416) leaves it for the caller's hash check. Only http and https. Throws gafx::Error
// naming the URL for an HTTP error or a broken connection (the part file is kept to resume) and
// naming `part` when it cannot be written (a full disk).
DownloadResult download(const std::string& url, const std::string& part, const DownloadOptions& options = {});

} // namespace gafx::weights
