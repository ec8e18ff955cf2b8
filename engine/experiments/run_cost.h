#pragma once
// What a run costs to train, estimated from its config alone, so that work can be balanced: the
// parts of a grid (--shard, a Slurm job array) and the order --parallel starts runs in. A guide
// for balance, never a prediction shown as a time: it knows the models, the epochs and the audio
// a track gives per epoch, not how many tracks the dataset holds (the split must not depend on a
// workspace), the device, or the precision.
#include "experiments/experiment.h"

#include <cstdint>
#include <string>

namespace gafx::experiments {

// Estimated milliseconds to train on one clip of `seconds` (forward, backward, Adam), on the
// reference CPU of tests/bench/README.md ("What a run costs"): the extractor's measured time per
// second of audio, plus AST's FLOPs on the frames the extractor gives (or `frames` when > 0, the
// classifier's fixed input) at the rate measured for that classifier. An unknown name counts as
// the dearest of its kind: it is refused when queued anyway.
double clip_cost_ms(const std::string& extractor, const std::string& classifier, const std::string& preset,
                    double seconds, int64_t frames = 0);

// The frames an extractor gives for `seconds` of audio at a preset, from its frame rate.
int64_t extractor_frames(const std::string& extractor, const std::string& preset, double seconds);

// A run's cost per track of its dataset, rounded once: epochs x clips a track gives per epoch
// (clips_per_track of clip_seconds with augmentation, else one of the whole track) x clip_cost_ms.
// From 1 to 1e12. Every machine computes the same figure from the same config.
int64_t run_cost(const RunConfig& c);

} // namespace gafx::experiments
