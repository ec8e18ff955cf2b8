#pragma once
// What a run trains: a feature extractor, the map's shaping (compression, frame count), the
// run's feature normalisation, SpecAugment while training, and an AST classifier, as one module
// whose state dict (extractor.*, classifier.*, norm_mean, norm_std) is the run's weights.
// Normalisation follows AST: (x - mean) / (2 std) with statistics of the training split
// (run_setup.h: fit_normalisation), for every extractor.
#include "models/ast.h"
#include "models/feature_extractor.h"

#include <torch/nn/module.h>
#include <torch/types.h>

#include <memory>
#include <string>

namespace gafx::train {

// Between extractor and classifier, as AST's recipe does it; all off by default.
struct FeatureOptions {
    bool log_compression = false; // sign(x) log(1 + |x|): GAFX-U's map brought to a log-mel-like range
    int64_t frames = 0;           // > 0: zero-pad or crop the map's time axis to this many frames
    int64_t freq_mask = 0;        // SpecAugment while training: one frequency mask of up to this many bins
    int64_t time_mask = 0;        // ... and one time mask of up to this many frames (AST: 48 and 192)
};

class TrainModelImpl : public torch::nn::Module {
public:
    TrainModelImpl(std::shared_ptr<models::FeatureExtractor> extractor, models::Ast classifier,
                   FeatureOptions options = {});

    // Each takes a waveform batch [B, C, T], or with front_end_in_loader the front end's output.
    torch::Tensor forward(const torch::Tensor& wave);     // [B, C, T] -> logits [B, K]
    torch::Tensor features(const torch::Tensor& wave);    // [B, C, T] -> normalised [B, frames, bins]
    // Extractor output compressed and fitted to the frame count, before normalisation and masks:
    // what the normalisation statistics are measured on.
    torch::Tensor shaped(const torch::Tensor& wave);
    void set_normalisation(double mean, double std);

    std::shared_ptr<models::FeatureExtractor> extractor;
    models::Ast classifier{nullptr};
    torch::Tensor norm_mean, norm_std;
    const FeatureOptions options;
    // The inputs are already the extractor's output [B, frames, bins]: the loader ran the
    // (fixed) front end (data::LoaderOptions::front_end). The weights are the same either way.
    bool front_end_in_loader = false;
};
TORCH_MODULE(TrainModel);

// Named parameters and buffers in module order, for checkpoints and exported weights.
std::vector<std::pair<std::string, torch::Tensor>> named_state(const torch::nn::Module& m);

} // namespace gafx::train
