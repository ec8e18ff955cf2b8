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
    std::vector<std::filesystem::path> audio; // sorted; broken or looping links among them (probe says so)
    std::vector<std::string> non_audio;       // sorted
    int64_t hidden = 0;                       // dot files and dot folders (not descended)
    std::vector<std::string> refused;         // "PATH: why": links leading outside `root`, link loops, unreadable folders
    bool outside = false;                     // `dir` itself leads outside `root`: nothing was scanned
};
// Recursive. Symbolic links are followed only where they lead inside `root` (the dataset folder),
// each folder once (a loop is refused, not walked forever); paths keep the link's own name, so
// keys made lexically relative to `root` stay inside it. Never throws for what it finds.
FolderScan scan_audio_files(const std::filesystem::path& dir, const std::filesystem::path& root);

// `p` is `root` or below it, component by component (give both canonical).
bool is_within(const std::filesystem::path& p, const std::filesystem::path& root);

// `p` below `root` as written (no link resolved): "blues/blues.00001.wav".
std::string key_under(const std::filesystem::path& p, const std::filesystem::path& root);

// Fills size, mtime and the probed audio facts of the file at t.path; a file that does not
// probe (a broken or looping link among them) becomes Invalid with the reason (the import goes on).
void probe_track(Track& t);

} // namespace gafx::data
