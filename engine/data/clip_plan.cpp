#include "data/clip_plan.h"

#include "core/error.h"

#include <cmath>

namespace gafx::data {

const char* to_string(Fit f) {
    switch (f) {
    case Fit::Exact: return "exact";
    case Fit::Padded: return "padded";
    case Fit::Trimmed: return "trimmed";
    }
    return "exact";
}

ClipPlan make_clip_plan(const Catalog& catalog, const ClipPlanOptions& o, double tolerance_seconds) {
    if (!(o.track_seconds > 0) || !(o.clip_seconds > 0) || o.clips_per_track < 1)
        throw Error({}, "clip plan needs track_seconds > 0, clip_seconds > 0 and clips_per_track >= 1");
    const double covered = o.clips_per_track * o.clip_seconds;
    if (covered > o.track_seconds + 1e-9)
        throw Error({}, std::to_string(o.clips_per_track) + " clips of " + std::to_string(o.clip_seconds) +
                            " s do not fit in a " + std::to_string(o.track_seconds) + " s track",
                    "lower clips_per_track or clip_seconds");
    // Equal gaps before, between and after the clips; zero when they tile the track.
    const double gap = (o.track_seconds - covered) / (o.clips_per_track + 1);
    const bool tiles = gap < 1e-9;

    ClipPlan plan;
    plan.options = o;
    for (size_t i = 0; i < catalog.tracks.size(); ++i) {
        const Track& t = catalog.tracks[i];
        if (t.status != TrackStatus::Valid) continue;
        TrackPlan tp;
        tp.track = i;
        const double diff = o.track_seconds - t.duration;
        if (std::fabs(diff) > tolerance_seconds) {
            tp.fit = diff > 0 ? Fit::Padded : Fit::Trimmed;
            tp.adjust_seconds = diff;
        }
        for (int c = 0; c < o.clips_per_track; ++c) {
            const double start = tiles ? c * o.clip_seconds : gap + c * (o.clip_seconds + gap);
            tp.clips.push_back(Clip{c, start, o.clip_seconds});
        }
        plan.tracks.push_back(std::move(tp));
    }
    return plan;
}

} // namespace gafx::data
