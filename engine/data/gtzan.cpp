#include "data/gtzan.h"

#include "audio/audio_file.h"
#include "core/error.h"
#include "data/scan.h"

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

namespace gafx::data {
namespace {

std::vector<fs::path> sorted_entries(const fs::path& dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
        out.push_back(it->path());
    if (ec) throw Error(dir.string(), "cannot list the folder (" + ec.message() + ")", "check its permissions");
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
        if (is_hidden(entry)) { ++c.skipped_hidden; continue; }
        std::error_code ec;
        if (!fs::is_directory(entry, ec)) {
            c.skipped_non_audio.push_back(entry.string());
            if (audio::has_audio_extension(entry.string()))
                c.warnings.push_back(entry.string() + ": audio outside a genre folder, skipped");
            continue;
        }
        const std::string genre = entry.filename().string();
        const FolderScan scan = scan_audio_files(entry, root);
        for (const auto& r : scan.refused) c.warnings.push_back(r);
        if (scan.outside) continue; // a genre folder linked out of the dataset is no genre of it
        c.skipped_hidden += scan.hidden;
        c.skipped_non_audio.insert(c.skipped_non_audio.end(), scan.non_audio.begin(), scan.non_audio.end());
        for (const fs::path& p : scan.audio) files.emplace_back(genre, p);
        const size_t found = scan.audio.size();
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
        throw_if_cancelled(feedback, root.string());
        const auto& [genre, p] = files[size_t(i)];
        Track t;
        t.key = key_under(p, root);
        t.path = p.string();
        t.labels = {genre};
        probe_track(t);
        c.tracks.push_back(std::move(t));
        if (feedback) feedback->progress(i + 1, total, p.string());
    }
    for (auto& w : format_outliers(c)) c.warnings.push_back(std::move(w));
    return c;
}

} // namespace gafx::data
