#pragma once
// Train/test splits: by track (never by clip, so a track's clips never straddle the split),
// seeded, stratified by class, and keeping every group (same song, same artist, known
// duplicate) on one side — GTZAN repeats songs and artists, and a split that ignores that
// reports inflated accuracy.
#include "data/catalog.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gafx::data {

enum class Subset { None, Train, Test }; // None: the track is not valid, so in neither side
const char* to_string(Subset s);
Subset subset_from_string(const std::string& s);

struct SplitOptions {
    double train_fraction = 0.8;
    uint64_t seed = 0;
    std::string groups_file; // recorded with the split; read with read_groups_csv()
};

struct Split {
    SplitOptions options;
    std::string method;         // how it was made, for the record
    std::vector<Subset> subset; // aligned with Catalog::tracks
    int64_t count(Subset s) const;
};

// Track key -> group name, from a CSV with a header naming columns `track` and `group`.
// `track` may be the track key ("blues/blues.00000.wav"), its file name, or the file name
// without extension. Rows naming no track of the catalogue are listed in `unmatched`.
struct Groups {
    std::map<std::string, std::string> by_key;
    std::vector<std::string> unmatched;
};
Groups read_groups_csv(const std::string& path, const Catalog& catalog);

// Single-label: per class, whole groups are drawn in seeded order into the test side until
// it holds round((1 - train_fraction) * class size) tracks as closely as groups allow.
// Multi-label (AudioSet): the release's eval segments are the test side when present;
// otherwise a seeded split by group. The same catalogue, options and groups give the same
// split on any machine.
Split make_split(const Catalog& catalog, const SplitOptions& options, const Groups& groups = {});

} // namespace gafx::data
