#pragma once
// GAFX-R (paper 3.1.2): the waveform cut into rows of `row` samples is a one-channel image of
// height frames x width row; a ResNet-18-style CNN shrinks only the width (time rows stay one
// per frame), and the width left over is averaged away, leaving [B, frames, last channels].
// Module names follow torchvision's resnet (conv1, bn1, layerN.M.conv1, layerN.M.downsample.0)
// so checkpoints read like any ResNet.
#include "models/feature_extractor.h"

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

#include <cstdint>
#include <vector>

namespace gafx::models {

struct GafxRConfig {
    int sample_rate = 22050;
    int64_t row = 200;               // samples per time row: 661 600 samples -> 3308 rows
    int64_t stem = 64;               // conv1 channels
    int64_t stem_kernel = 7;         // square; padding kernel/2 as in ResNet
    std::vector<int64_t> channels = {64, 128, 256, 512, 128}; // one stage each; last = bins
    std::vector<int64_t> strides = {1, 2, 2, 2, 2};           // along the width only
    int64_t blocks_per_stage = 2;

    static GafxRConfig paper() { return {}; }
    // Same layout, narrow stages; still 128 bins so it feeds the same classifiers.
    static GafxRConfig small();
    // Throws gafx::Error naming the bad value.
    void validate() const;
};

// ResNet BasicBlock with a 2-D stride (1, s): time resolution is never reduced.
class BasicBlockImpl : public torch::nn::Module {
public:
    BasicBlockImpl(int64_t in, int64_t out, int64_t width_stride);
    torch::Tensor forward(const torch::Tensor& x);

private:
    torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
    torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
    torch::nn::Sequential downsample{nullptr}; // 1x1 conv + BN when the shape changes
};
TORCH_MODULE(BasicBlock);

class GafxR : public FeatureExtractor {
public:
    explicit GafxR(GafxRConfig config = {});

    // wave [B, 1, T] -> [B, ceil(T/row), bins]; T is zero-padded up to a multiple of row.
    torch::Tensor forward(const torch::Tensor& wave) override;
    std::string name() const override { return "gafx-r"; }
    int sample_rate() const override { return config_.sample_rate; }
    int input_channels() const override { return 1; }
    int64_t output_frames(int64_t samples) const override;
    int64_t feature_bins() const override { return config_.channels.back(); }
    // Recomputes the stem (conv, BN, max-pool) and each residual block: at paper size the stem
    // alone keeps ~1 GiB per clip of 30 s for backward.
    bool set_activation_checkpointing(bool on) override {
        recompute_ = on;
        return true;
    }

    // Width of the map before the final mean (4 for the paper's 200-sample rows).
    int64_t output_width() const;
    const GafxRConfig& config() const { return config_; }

private:
    GafxRConfig config_;
    torch::nn::Conv2d conv1{nullptr};
    torch::nn::BatchNorm2d bn1{nullptr};
    std::vector<torch::nn::Sequential> layers_; // registered as layer1 ... layerN
    bool recompute_ = false;
};

} // namespace gafx::models
