#include "data/gtzan.h"

#include "audio/audio_file.h"
#include "core/error.h"

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

namespace gafx::data {
namespace {

bool hidden(const fs::path& p) { return !p.filename().empty() && p.filename().string()[0] == '.'; }

int64_t mtime_ns(const fs::path& p) {
    std::error_code ec;
    const auto t = fs::last_write_time(p, ec);
    return ec ? 0 : std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::vector<fs::path> sorted_entries(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace

std::string gtzan_genre_root(const std::string& dir) {
    for (const char* level : {"genres_original", "Data/genres_original", "genres"}) {
        const fs::path p = fs::path(dir) / level;
        if (fs::is_directory(p)) return p.string();
    }
    return dir;
}

Catalog import_gtzan(const std::string& dir, const GtzanOptions& options, const Feedback* feedback) {
    if (!fs::exists(dir)) throw Error(dir, "no such folder", "give the folder that holds the genre folders");
    if (!fs::is_directory(dir)) throw Error(dir, "not a folder", "give the folder that holds the genre folders");

    const fs::path root = fs::canonical(gtzan_genre_root(dir));
    Catalog c;
    c.kind = "gtzan";
    c.root = root.string();
    c.name = options.name.empty() ? fs::canonical(dir).filename().string() : options.name;

    // First pass: the layout, so progress has a total before any file is probed.
    std::vector<std::pair<std::string, fs::path>> files; // genre, file
    for (const fs::path& entry : sorted_entries(root)) {
        if (hidden(entry)) { ++c.skipped_hidden; continue; }
        if (!fs::is_directory(entry)) {
            c.skipped_non_audio.push_back(entry.string());
            if (audio::has_audio_extension(entry.string()))
                c.warnings.push_back(entry.string() + ": audio outside a genre folder, skipped");
            continue;
        }
        const std::string genre = entry.filename().string();
        size_t found = 0;
        for (auto it = fs::recursive_directory_iterator(entry); it != fs::recursive_directory_iterator(); ++it) {
            const fs::path& p = it->path();
            if (hidden(p)) {
                ++c.skipped_hidden;
                if (it->is_directory()) it.disable_recursion_pending();
                continue;
            }
            if (it->is_directory()) continue;
            if (!audio::has_audio_extension(p.string())) {
                c.skipped_non_audio.push_back(p.string());
                continue;
            }
            files.emplace_back(genre, p);
            ++found;
        }
        if (found == 0) {
            c.empty_classes.push_back(genre);
            c.warnings.push_back(entry.string() + ": genre folder holds no audio files");
        } else {
            c.classes.push_back(ClassInfo{genre, genre});
        }
    }
    if (c.classes.empty() && c.empty_classes.empty())
        throw Error(root.string(), "no genre folders found",
                    "expected <folder>/<genre>/<track>.wav as in GTZAN (or its genres_original/ level)");
    std::sort(files.begin(), files.end());

    const int64_t total = static_cast<int64_t>(files.size());
    for (int64_t i = 0; i < total; ++i) {
        if (feedback && feedback->cancelled()) throw Error(root.string(), "import cancelled");
        const auto& [genre, p] = files[size_t(i)];
        Track t;
        t.key = fs::relative(p, root).generic_string();
        t.path = p.string();
        t.labels = {genre};
        std::error_code ec;
        t.size_bytes = static_cast<int64_t>(fs::file_size(p, ec));
        t.mtime_ns = mtime_ns(p);
        try {
            const audio::AudioInfo info = audio::probe(t.path);
            t.sample_rate = info.sample_rate;
            t.channels = info.channels;
            t.frames = info.frames;
            t.duration = info.duration_seconds();
        } catch (const Error& e) {
            t.status = TrackStatus::Invalid;
            t.error = e.detail();
        }
        c.tracks.push_back(std::move(t));
        if (feedback) feedback->progress(i + 1, total, p.string());
    }
    return c;
}

} // namespace gafx::data
