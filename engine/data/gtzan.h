#pragma once
// GTZAN-layout catalogue: <root>/<genre>/<name>.<ext>, also under the Kaggle
// `genres_original/` (or the original tarball's `genres/`) level. Every audio file is probed;
// undecodable ones are kept as Invalid with the reason, and the import goes on.
#include "core/feedback.h"
#include "data/catalog.h"

#include <string>

namespace gafx::data {

struct GtzanOptions {
    std::string name; // default: the folder's name
};

// Throws gafx::Error when the folder is missing or holds no genre folder at all.
Catalog import_gtzan(const std::string& dir, const GtzanOptions& options, const Feedback* feedback = nullptr);

// The folder holding the genre folders: `dir` itself, or its genres_original/ or genres/.
std::string gtzan_genre_root(const std::string& dir);

} // namespace gafx::data
