#pragma once
// A trained run applied to one track, for inspection: the model built from the run's stored
// config as training builds it, with its best epoch's weights, fed the track cut into the run's
// own clips exactly as evaluation cuts them (fitted to track_seconds, same clip plan).
#include "core/feedback.h"
#include "data/catalog.h"
#include "data/clip_plan.h"
#include "experiments/experiment.h"
#include "train/train_model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gafx::train {

struct RunModel {
    experiments::RunConfig config;
    data::ClipPlanOptions clips;
    bool multi_label = false;
    TrainModel model{nullptr}; // on the CPU, in eval mode
};

// `config_json`: the run's stored config; `classes`: its dataset's class count; `weights`:
// store::run_paths(...).best. Throws gafx::Error naming the file when it is missing (the run
// never finished an epoch) or does not fit the model the config describes.
RunModel load_run_model(const std::string& config_json, int classes, bool multi_label, const std::string& weights);

// Where the run's clips lie in any track (the plan is the same for every track).
std::vector<data::Clip> run_clips(const experiments::RunConfig& c);

struct TrackFeatures {
    std::vector<data::Clip> clips;      // where each clip lies in the track
    int64_t frames_per_clip = 0, bins = 0;
    std::vector<float> features;        // [clips * frames_per_clip, bins]: normalised, clips in time order
    int64_t classes = 0;
    std::vector<float> probabilities;   // [clips, classes]: softmax (sigmoid when multi-label) of each clip
};

// Runs the model on every clip of `track` (its labels and status are ignored). Throws gafx::Error
// naming the audio file when it cannot be decoded, and Cancelled when `feedback` asks to stop
// (checked between clips, where progress is reported too).
TrackFeatures track_features(RunModel& m, const data::Track& track, const Feedback* feedback = nullptr);

} // namespace gafx::train
