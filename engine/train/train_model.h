#pragma once
// What a run trains: a feature extractor, the run's feature normalisation and an AST classifier,
// as one module whose state dict (extractor.*, classifier.*, norm_mean, norm_std) is the run's
// weights. Normalisation follows AST: (x - mean) / (2 std) with statistics of the training
// split, computed for the fixed mel front end; learned extractors keep identity (0, 0.5).
#include "models/ast.h"
#include "models/feature_extractor.h"

#include <torch/nn/module.h>
#include <torch/types.h>

#include <memory>
#include <string>

namespace gafx::train {

class TrainModelImpl : public torch::nn::Module {
public:
    TrainModelImpl(std::shared_ptr<models::FeatureExtractor> extractor, models::Ast classifier);

    torch::Tensor forward(const torch::Tensor& wave);     // [B, C, T] -> logits [B, K]
    torch::Tensor features(const torch::Tensor& wave);    // [B, C, T] -> normalised [B, frames, bins]
    void set_normalisation(double mean, double std);

    std::shared_ptr<models::FeatureExtractor> extractor;
    models::Ast classifier{nullptr};
    torch::Tensor norm_mean, norm_std;
};
TORCH_MODULE(TrainModel);

// Named parameters and buffers in module order, for checkpoints and exported weights.
std::vector<std::pair<std::string, torch::Tensor>> named_state(const torch::nn::Module& m);

} // namespace gafx::train
