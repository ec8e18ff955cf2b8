#pragma once
// What an import finds on disk, before and after it is stored. Importers (gtzan, audioset)
// fill a Catalog; RunStore persists it; splits and clip plans read it.
#include <cstdint>
#include <string>
#include <vector>

namespace gafx::data {

enum class TrackStatus { Valid, Invalid, Missing };
const char* to_string(TrackStatus s);
TrackStatus track_status_from_string(const std::string& s);

struct Track {
    int64_t id = 0;                  // database id, 0 until stored
    std::string key;                 // stable identity inside its dataset: relative path or YTID
    std::string path;                // absolute path of the audio file; empty when missing
    std::vector<std::string> labels; // GTZAN: the genre; AudioSet: class ids (mids)
    int sample_rate = 0;
    int channels = 0;
    int64_t frames = 0;
    double duration = 0.0;     // seconds
    double start_seconds = 0;  // AudioSet segment bounds in the source video
    double end_seconds = 0;
    std::string origin;        // AudioSet: the segment list it came from ("eval_segments")
    TrackStatus status = TrackStatus::Valid;
    std::string error;         // why it is invalid or missing
    int64_t size_bytes = 0;
    int64_t mtime_ns = 0;
};

struct ClassInfo {
    std::string id;           // GTZAN: genre folder name; AudioSet: mid ("/m/09x0r")
    std::string display_name; // AudioSet display name; the genre for GTZAN
};

struct Catalog {
    std::string name;
    std::string kind; // "gtzan" | "audioset"
    std::string root; // the folder or JSON file imported
    bool multi_label = false;
    std::vector<ClassInfo> classes;
    std::vector<Track> tracks;
    int64_t skipped_hidden = 0;    // dot files and folders
    std::vector<std::string> skipped_non_audio; // paths of non-audio files
    std::vector<std::string> empty_classes;     // class folders without a single audio file
    std::vector<std::string> warnings;

    int64_t count(TrackStatus s) const;
    int class_index(const std::string& id) const; // -1 if unknown
};

// Valid tracks whose sample rate differs from the most common one, or whose length is far from
// the median (more than 10 %, at least 1 s): a file that decodes but is probably not what the
// dataset holds (a corrupt file read with a guessed format, a stray recording). One warning per
// track, naming it, its value and the dataset's; at most `max_listed`, then a count.
std::vector<std::string> format_outliers(const Catalog& c, size_t max_listed = 20);

} // namespace gafx::data
