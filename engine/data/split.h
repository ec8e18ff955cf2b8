#pragma once
// Train/val/test splits: by track (never by clip, so a track's clips never straddle a border),
// seeded, stratified by class, and keeping every group (same song, same artist, known
// duplicate) on one side — GTZAN repeats songs and artists, and a split that ignores that
// reports inflated accuracy. Models are selected on val; test is only ever reported.
#include "data/catalog.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gafx::data {

// None: the track is not valid. Excluded: valid, but left out by the protocol (fault-filtered
// GTZAN drops repeated, mislabelled and distorted tracks).
enum class Subset { None, Train, Val, Test, Excluded };
const char* to_string(Subset s);
Subset subset_from_string(const std::string& s);

// random: seeded by class and group (--test, --val); fault-filtered: GTZAN's published lists;
// kfold: K stratified, group-aware folds, fold f tests on fold f and validates on fold f+1 (mod K).
enum class SplitKind { Random, FaultFiltered, KFold };
const char* to_string(SplitKind k);
std::optional<SplitKind> parse_split_kind(const std::string& s);

struct SplitOptions {
    SplitKind kind = SplitKind::Random;
    double test_fraction = 0.2; // random: of each class
    double val_fraction = 0.1;  // random: of each class, carved from the training side
    int folds = 0;              // kfold: K
    uint64_t seed = 0;
    std::string groups_file;    // recorded with the split; read with read_groups_csv()
    // "random", "fault-filtered" or "kfold:10", as `--split` takes it.
    std::string describe_kind() const;
};

// Parses `--split`'s value ("random", "fault-filtered", "kfold:K") into `o`; throws gafx::Error
// (field key "split") for anything else.
void parse_split_arg(const std::string& value, SplitOptions& o);
// Throws gafx::Error (field key "test_fraction", "val_fraction" or "split") for options no split can meet.
void check_split_options(const SplitOptions& o);

struct SplitCounts {
    int64_t train = 0, val = 0, test = 0, excluded = 0;
};

struct Split {
    SplitOptions options;
    std::string method;         // how it was made, for the record
    std::vector<Subset> subset; // aligned with Catalog::tracks; k-fold: Train for every track in a fold
    std::vector<int> fold;      // k-fold: each track's fold (-1: none); empty for other kinds
    std::vector<std::string> missing; // fault-filtered: listed stems with no valid track here
    int64_t count(Subset s) const;
    bool is_kfold() const { return options.kind == SplitKind::KFold; }
    // The subsets a run uses: for k-fold, fold `f`'s (test f, val f+1 mod K, train the rest);
    // otherwise the split itself (f ignored). Throws gafx::Error for a fold out of range.
    Split for_fold(int f) const;
    SplitCounts counts(int f = 0) const;
    std::vector<int64_t> fold_sizes() const; // k-fold: tracks per fold
};

// Track key -> group name, from a CSV with a header naming columns `track` and `group`.
// `track` may be the track key ("blues/blues.00000.wav"), its file name, or the file name
// without extension. Rows naming no track of the catalogue are listed in `unmatched`.
struct Groups {
    std::map<std::string, std::string> by_key;
    std::vector<std::string> unmatched;
};
Groups read_groups_csv(const std::string& path, const Catalog& catalog);

// Single-label random: per class, whole groups are drawn in seeded order into test until it
// holds round(test_fraction * class size) tracks as closely as groups allow, then into val the
// same way. Multi-label (AudioSet): the release's eval segments are test and val is a seeded
// slice of the balanced training segments; without eval segments, a seeded split by group.
// The same catalogue, options and groups give the same split on any machine. Throws
// gafx::Error for options the catalogue cannot serve (fault-filtered on non-GTZAN data,
// k-fold on multi-label data, more folds than a class has groups).
Split make_split(const Catalog& catalog, const SplitOptions& options, const Groups& groups = {});

} // namespace gafx::data
