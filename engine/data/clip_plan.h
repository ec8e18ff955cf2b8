#pragma once
// How a track becomes model inputs: every track is fitted to a nominal length (GTZAN's are
// 29.9-30.6 s; the paper treats them as 30 s) by zero-padding or trimming the end, then cut
// into clips_per_track windows of clip_seconds (paper augmentation: 30 s -> 3 x 10 s).
#include "data/catalog.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gafx::data {

struct ClipPlanOptions {
    double track_seconds = 30.0; // nominal length every track is fitted to
    int clips_per_track = 3;
    double clip_seconds = 10.0;
    // Clips are spread evenly over the nominal length: with 3 x 10 s of 30 s they tile it;
    // with fewer or shorter clips the gaps are equal.
};

enum class Fit { Exact, Padded, Trimmed };
const char* to_string(Fit f);

struct Clip {
    int index = 0;
    double start_seconds = 0; // offset into the decoded track
    double seconds = 0;
};

struct TrackPlan {
    size_t track = 0;        // index into Catalog::tracks
    Fit fit = Fit::Exact;
    double adjust_seconds = 0; // > 0 padded by this much, < 0 trimmed by this much
    std::vector<Clip> clips;
};

struct ClipPlan {
    ClipPlanOptions options;
    std::vector<TrackPlan> tracks; // valid tracks only, in catalogue order
};

// Throws gafx::Error when the options are inconsistent (clips longer than the track, <= 0).
// Tracks within `tolerance_seconds` of the nominal length count as Exact.
ClipPlan make_clip_plan(const Catalog& catalog, const ClipPlanOptions& options,
                        double tolerance_seconds = 1e-3);

} // namespace gafx::data
