#pragma once
// Importing a dataset into a workspace, the one way every front end does it (`gafx dataset
// import`, the Datasets page, `gafx-workbench --demo`): catalogue the source, refuse a source
// with no valid audio, apply a groups CSV, split, and store catalogue and split together. The
// reports carry what a front end shows afterwards, so none of them reads the catalogue again.
#include "core/error.h"
#include "core/feedback.h"
#include "data/catalog.h"
#include "data/split.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gafx::store {
class RunStore;
}

namespace gafx::workflows {

struct ImportRequest {
    std::string kind;   // "gtzan" | "audioset"
    std::string source; // GTZAN folder; AudioSet release folder or AST-style JSON list
    std::string name;   // empty: named after the folder (or the JSON file's stem)
    data::SplitOptions split; // split.groups_file: optional groups CSV (track,group)
};

// A track that cannot be used, as the catalogue recorded it.
struct BadTrack {
    std::string path; // the audio file; the segment key when it has no file
    data::TrackStatus status = data::TrackStatus::Invalid;
    std::string error;
};

// The source was catalogued but not a single track decodes: nothing is stored. path() is the
// source; `tracks` lists every track with its reason (there may be none: empty genre folders).
class NoValidAudio : public Error {
public:
    NoValidAudio(const std::string& source, const std::string& kind, std::vector<BadTrack> tracks, int64_t catalogued);
    const std::vector<BadTrack>& tracks() const noexcept { return tracks_; }

private:
    std::vector<BadTrack> tracks_;
};

struct ImportReport {
    std::string dataset, kind, source, database;
    int64_t tracks = 0, valid = 0, invalid = 0, missing = 0;
    int64_t classes = 0;
    data::SplitCounts counts;        // k-fold: fold 0's
    std::vector<int64_t> fold_sizes; // k-fold: tracks per fold
    std::vector<std::string> missing_listed; // fault-filtered: listed tracks not found
    std::string split_method;
    data::SplitOptions split; // as stored: kind, fractions or folds, seed, groups file
    std::vector<BadTrack> invalid_tracks; // Invalid only; missing segments are counted above
    int64_t skipped_non_audio = 0, skipped_hidden = 0;
    // The catalogue's warnings, then one for the groups CSV's rows that name no track.
    std::vector<std::string> warnings;
    std::vector<std::string> unmatched_group_rows;
};

struct ResplitReport {
    std::string dataset;
    data::SplitCounts counts;
    std::vector<int64_t> fold_sizes;
    std::vector<std::string> missing_listed;
    std::string split_method;
    data::SplitOptions split;
    std::vector<std::string> warnings; // the groups CSV's rows that name no track
    std::vector<std::string> unmatched_group_rows;
};

// Throws Error (field.key "kind", "split", "test_fraction" or "val_fraction") for a request no
// import can serve.
void check_request(const ImportRequest& request);

// Throws Error for a bad request or unreadable source or groups file, NoValidAudio, and
// Cancelled when `feedback` was cancelled before the catalogue was stored. Importing a source
// again updates its dataset (RunStore::save_catalog).
ImportReport import_dataset(store::RunStore& store, const ImportRequest& request, Feedback* feedback = nullptr);

// A new split of a stored dataset (groups included); runs already trained keep theirs.
// Throws Error when there is no dataset `name`.
ResplitReport resplit_dataset(store::RunStore& store, const std::string& name, const data::SplitOptions& split,
                              Feedback* feedback = nullptr);

} // namespace gafx::workflows
