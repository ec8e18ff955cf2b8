#include "data/scan.h"

#include "audio/audio_file.h"
#include "core/error.h"

#include <algorithm>
#include <chrono>

namespace fs = std::filesystem;

namespace gafx::data {

bool is_hidden(const fs::path& p) { return !p.filename().empty() && p.filename().string()[0] == '.'; }

FolderScan scan_audio_files(const fs::path& dir) {
    FolderScan s;
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied);
         it != fs::recursive_directory_iterator(); ++it) {
        const fs::path& p = it->path();
        if (is_hidden(p)) {
            ++s.hidden;
            if (it->is_directory()) it.disable_recursion_pending();
            continue;
        }
        if (it->is_directory()) continue;
        if (audio::has_audio_extension(p.string()))
            s.audio.push_back(p);
        else
            s.non_audio.push_back(p.string());
    }
    std::sort(s.audio.begin(), s.audio.end());
    std::sort(s.non_audio.begin(), s.non_audio.end());
    return s;
}

void probe_track(Track& t) {
    std::error_code ec;
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
