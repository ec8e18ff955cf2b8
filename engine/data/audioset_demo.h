#pragma once
// A small synthetic AudioSet in the release layout, so the multi-label path can be tried and
// tested without YouTube: six real classes, segment CSVs in the release format, and clips
// that mix 1-3 class textures so the labels are learnable. Like a real download, some listed
// segments have no audio file.
#include "core/feedback.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gafx::data {

struct AudioSetDemoOptions {
    int clips = 60;         // listed segments, split about 70/30 into balanced_train and eval
    double seconds = 10.0;  // per clip, as in AudioSet
    uint64_t seed = 0;
    int sample_rate = 16000;
    double missing_fraction = 0.1; // round(clips * this) segments get no audio file
};

// Writes <dir>/class_labels_indices.csv, balanced_train_segments.csv, eval_segments.csv and
// audio/Y<YTID>.wav (16-bit mono). The same options give byte-identical files. Returns the
// files written, CSVs first. Throws gafx::Error on bad options or when a file cannot be written.
std::vector<std::string> write_audioset_demo(const std::string& dir, const AudioSetDemoOptions& options,
                                             const Feedback* feedback = nullptr);

} // namespace gafx::data
