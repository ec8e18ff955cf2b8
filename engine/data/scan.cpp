#include "data/scan.h"

#include "audio/audio_file.h"
#include "core/error.h"

#include <algorithm>
#include <chrono>
#include <set>

namespace fs = std::filesystem;

namespace gafx::data {

bool is_hidden(const fs::path& p) { return !p.filename().empty() && p.filename().string()[0] == '.'; }

bool is_within(const fs::path& p, const fs::path& root) {
    auto r = root.begin(), q = p.begin();
    for (; r != root.end(); ++r, ++q)
        if (q == p.end() || *q != *r) return false;
    return true;
}

namespace {

struct Walk {
    fs::path root; // canonical
    std::set<fs::path> seen;
    FolderScan& out;

    void folder(const fs::path& dir, int depth) {
        std::error_code ec;
        const fs::path real = fs::canonical(dir, ec);
        if (ec) return refuse(dir, "cannot be resolved (" + ec.message() + ")");
        if (!is_within(real, root)) {
            if (depth == 0) out.outside = true;
            return refuse(dir, "leads to " + real.string() + ", outside the dataset folder: not scanned");
        }
        if (!seen.insert(real).second) return refuse(dir, "a link loop or a second way to " + real.string() + ": scanned once");
        if (depth > 64) return refuse(dir, "folders nested more than 64 deep: not scanned");
        fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
        if (ec) return refuse(dir, "cannot be read (" + ec.message() + ")");
        for (; it != fs::directory_iterator(); it.increment(ec)) {
            if (ec) return refuse(dir, "stopped reading it (" + ec.message() + ")");
            entry(it->path(), depth);
        }
    }

    void entry(const fs::path& p, int depth) {
        if (is_hidden(p)) {
            ++out.hidden;
            return;
        }
        std::error_code ec;
        const bool link = fs::is_symlink(fs::symlink_status(p, ec));
        const fs::file_status st = fs::status(p, ec); // through the link
        if (ec) {
            // A broken or looping link: an audio name is still a track, which probing marks invalid.
            if (audio::has_audio_extension(p.string())) out.audio.push_back(p);
            else refuse(p, link ? "a broken or looping link" : "cannot be read (" + ec.message() + ")");
            return;
        }
        if (fs::is_directory(st)) return folder(p, depth + 1);
        if (!audio::has_audio_extension(p.string())) {
            out.non_audio.push_back(p.string());
            return;
        }
        if (link) {
            const fs::path real = fs::canonical(p, ec);
            if (ec || !is_within(real, root))
                return refuse(p, "links to " + (ec ? ec.message() : real.string()) + ", outside the dataset folder: skipped");
        }
        out.audio.push_back(p);
    }

    void refuse(const fs::path& p, const std::string& why) { out.refused.push_back(p.string() + ": " + why); }
};

} // namespace

FolderScan scan_audio_files(const fs::path& dir, const fs::path& root) {
    FolderScan s;
    std::error_code ec;
    fs::path real_root = fs::canonical(root, ec);
    if (ec) real_root = fs::absolute(root).lexically_normal();
    Walk{real_root, {}, s}.folder(dir, 0);
    std::sort(s.audio.begin(), s.audio.end());
    std::sort(s.non_audio.begin(), s.non_audio.end());
    return s;
}

std::string key_under(const fs::path& p, const fs::path& root) { return p.lexically_relative(root).generic_string(); }

void probe_track(Track& t) {
    std::error_code ec;
    if (fs::is_symlink(fs::symlink_status(t.path, ec))) {
        (void)fs::status(t.path, ec);
        if (ec) {
            t.status = TrackStatus::Invalid;
            t.error = "a broken or looping link (" + ec.message() + "); replace it with the file or remove it";
            return;
        }
    }
    const auto size = fs::file_size(t.path, ec);
    t.size_bytes = ec ? 0 : static_cast<int64_t>(size);
    const auto when = fs::last_write_time(t.path, ec);
    t.mtime_ns = ec ? 0 : std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
    try {
        const audio::AudioInfo info = audio::probe(t.path);
        t.sample_rate = info.sample_rate;
        t.channels = info.channels;
        t.frames = info.frames;
        t.duration = info.duration_seconds();
        t.status = TrackStatus::Valid;
    } catch (const Error& e) {
        t.status = TrackStatus::Invalid;
        t.error = e.detail();
    }
}

} // namespace gafx::data
