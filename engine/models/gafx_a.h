#pragma once
// GAFX-A (paper 3.1.3): the GAFX-R CNN, then self-attention over the time rows, same
// [B, frames, 128] out. The paper's version diverged (NaN loss); this one is built to train:
// the CNN features are layer-normed before the positional encoding is added, every encoder layer
// is pre-norm with LayerScale on both residual branches, a LayerNorm closes the stack, and the
// softmax always runs in fp32 (bf16/fp16 logits overflow or lose the small probabilities).
//
// Memory: full attention over the paper's 3308 rows stores one [heads, 3308, 3308] fp32
// probability map per layer per example for the backward pass, 3308^2 x 4 heads x 4 bytes =
// 175 MB (plus a transient score map of the same size, and under bf16 a 88 MB bf16 copy):
// batch 4 with 2 layers keeps ~2 GB, less than the CNN's activations, so full attention it is.
#include "models/gafx_r.h"
#include "models/vit_block.h"

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

namespace gafx::models {

struct GafxAConfig {
    GafxRConfig cnn;           // d_model = cnn.channels.back()
    int64_t layers = 2;
    int64_t heads = 4;
    int64_t ffn_mult = 4;
    double dropout = 0.1;
    // CaiT's value for shallow stacks: the branches start small enough that the residual
    // stream (the GAFX-R features) dominates, yet at the paper's lr 5e-5 attention is
    // contributing within the warm-up instead of thousands of steps later.
    double layer_scale = 0.1;

    static GafxAConfig paper() { return {}; }
    static GafxAConfig small();
    void validate() const; // throws gafx::Error
};

// Sinusoidal encoding [frames, dim] (Vaswani et al.), so any input length works.
torch::Tensor sinusoidal_positions(int64_t frames, int64_t dim, const torch::TensorOptions& options);

class GafxA : public FeatureExtractor {
public:
    explicit GafxA(GafxAConfig config = {});

    // wave [B, 1, T] -> [B, ceil(T/row), bins], like GafxR.
    torch::Tensor forward(const torch::Tensor& wave) override;
    std::string name() const override { return "gafx-a"; }
    int sample_rate() const override { return config_.cnn.sample_rate; }
    int input_channels() const override { return 1; }
    int64_t output_frames(int64_t samples) const override { return cnn->output_frames(samples); }
    int64_t feature_bins() const override { return cnn->feature_bins(); }
    // Its CNN as GAFX-R recomputes, its attention blocked on a CPU (models/vit_block.h).
    bool set_activation_checkpointing(bool on) override;

    const GafxAConfig& config() const { return config_; }
    // Named "cnn", so a trained GAFX-R loads into it with the "cnn." prefix.
    std::shared_ptr<GafxR> cnn;

private:
    GafxAConfig config_;
    torch::nn::LayerNorm norm_in{nullptr}, norm{nullptr};
    torch::nn::ModuleList encoder{nullptr};
};

} // namespace gafx::models
