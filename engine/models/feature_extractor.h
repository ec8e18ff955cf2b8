#pragma once
// The contract every feature extractor keeps, so any extractor feeds any classifier: a waveform
// batch [B, C, T] at sample_rate() in, a feature map [B, frames, bins] out (bins = 128).
#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <string>

namespace gafx::models {

class FeatureExtractor : public torch::nn::Module {
public:
    virtual torch::Tensor forward(const torch::Tensor& wave) = 0;
    virtual std::string name() const = 0;         // "mel", "gafx-u", "gafx-r", "gafx-a"
    virtual int sample_rate() const = 0;          // the rate the waveform must have
    virtual int input_channels() const = 0;       // 1 (mono) or 2 (stereo)
    virtual int64_t output_frames(int64_t samples) const = 0;
    virtual int64_t feature_bins() const { return 128; }
    // Activation checkpointing (models/recompute, blocked attention): same results, less memory,
    // one more forward of the recomputed parts in backward. False where the extractor has none
    // (mel has nothing to train).
    virtual bool set_activation_checkpointing(bool /*on*/) { return false; }
    // Non-empty for a fixed front end (nothing to train) whose output for a clip may be kept on
    // disk: every setting that decides that output, and a version for its code. Empty otherwise.
    virtual std::string front_end_key() const { return {}; }
};

} // namespace gafx::models
