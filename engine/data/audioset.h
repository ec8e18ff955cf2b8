#pragma once
// AudioSet as people actually have it: the release's class list and segment CSVs next to
// whatever fraction of the clips a downloader managed to fetch, or an AST-style JSON list of
// wav files with their labels. Absent clips are catalogued as Missing, never fatal.
#include "core/feedback.h"
#include "data/catalog.h"

#include <string>

namespace gafx::data {

struct AudioSetOptions {
    std::string name; // empty: the folder's name, or the JSON file's stem
};

// `dir_or_json` is either a folder holding class_labels_indices.csv and one or more segment
// CSVs (every other *.csv) with audio anywhere below it, named <YTID>.<ext>, Y<YTID>.<ext> or
// <YTID>_<start>[_<end>].<ext>; or a JSON file {"data": [{"wav": ..., "labels": "mid,mid"}]}.
// Throws gafx::Error naming the file (and line or JSON path) for input it cannot read;
// labels not in the class list become warnings. Returns the catalogue even when no track is
// valid; deciding that is fatal is the caller's business.
Catalog import_audioset(const std::string& dir_or_json, const AudioSetOptions& options,
                        const Feedback* feedback = nullptr);

} // namespace gafx::data
