#pragma once
// What every catalogue does with a folder of audio: walk it, skip hidden entries, tell audio
// from everything else, and probe each file into a Track.
#include "data/catalog.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace gafx::data {

bool is_hidden(const std::filesystem::path& p);

struct FolderScan {
    std::vector<std::filesystem::path> audio; // sorted
    std::vector<std::string> non_audio;       // sorted
    int64_t hidden = 0;                       // dot files and dot folders (not descended)
};
// Recursive; folders it may not read are skipped.
FolderScan scan_audio_files(const std::filesystem::path& dir);

// Fills size, mtime and the probed audio facts of the file at t.path; a file that does not
// probe becomes Invalid with the reason (the import goes on).
void probe_track(Track& t);

} // namespace gafx::data
