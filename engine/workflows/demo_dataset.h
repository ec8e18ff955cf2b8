#pragma once
// The synthetic demo datasets as the front ends offer them: `gafx dataset demo` writes one, the
// Datasets page writes and imports one, and `gafx-workbench --demo DIR` makes sure the workspace
// has one on first start. The writers themselves live in data/ (demo.h, audioset_demo.h).
#include "workflows/import_dataset.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gafx::workflows {

struct DemoRequest {
    std::string kind = "gtzan"; // "gtzan" | "audioset"
    std::string dir;
    std::optional<int> tracks;      // GTZAN: tracks per genre; AudioSet: listed clips. Unset: the writer's default
    std::optional<double> seconds;  // per track; unset: the writer's default
    uint64_t seed = 0;
    // A folder the user named for a new demo must be new or empty: the demo is never mixed
    // into a real dataset.
    bool must_be_empty = false;
};

// Writes the demo of `request.kind` into `request.dir`; returns the files written. Throws
// Error for a bad kind (field.key "kind"), bad options, a folder that is not empty when it
// must be, or one that cannot be written; Cancelled when `feedback` is cancelled.
std::vector<std::string> write_demo(const DemoRequest& request, Feedback* feedback = nullptr);

// The name first start gives the demo dataset.
inline constexpr const char* kDemoDatasetName = "demo";

// First start: when the workspace has no dataset "demo", writes the GTZAN demo into `dir`
// unless a genre folder is already there, and imports `dir` as "demo" with the default split
// through import_dataset, so a folder with no valid audio is refused (NoValidAudio) exactly as
// `gafx dataset import` refuses it. Returns nothing when "demo" was already there.
std::optional<ImportReport> ensure_demo_dataset(store::RunStore& store, const std::string& dir,
                                                Feedback* feedback = nullptr);

} // namespace gafx::workflows
