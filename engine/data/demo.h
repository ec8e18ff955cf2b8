#pragma once
// A synthetic dataset in the GTZAN layout, so every feature can be tried without a download:
// ten genres that differ in tempo, timbre, pitch range and noise colour (never in loudness),
// byte-identical for the same seed on every machine.
#include "core/feedback.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gafx::data {

struct DemoOptions {
    int tracks_per_genre = 10;
    double seconds = 30.0;
    uint64_t seed = 0;
    int sample_rate = 22050;
};

struct DemoResult {
    std::vector<std::string> files; // in writing order: genre by genre, index by index
};

// The genre folder names, in GTZAN's order.
const std::vector<std::string>& gtzan_genres();

// Writes <dir>/<genre>/<genre>.000NN.wav (16-bit PCM mono). Track (genre, i) depends only on
// (seed, genre, i), so asking for more tracks leaves the earlier files unchanged. Stops early,
// returning what was written, when `feedback` is cancelled. Throws gafx::Error naming a folder
// or file that cannot be written.
DemoResult write_gtzan_demo(const std::string& dir, const DemoOptions& options,
                            const gafx::Feedback* feedback = nullptr);

} // namespace gafx::data
