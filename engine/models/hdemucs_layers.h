#pragma once
// The building blocks of Hybrid Demucs, ported from torchaudio 0.13 (models/_hdemucs.py).
// Every module registers its children under the names torchaudio's state_dict uses
// ("conv", "rewrite", "dconv.layers.0.3.lstm", ...), so trained weights load by name.
// A layer that torchaudio builds as nn.Identity has no parameters there and is left
// unregistered (a null holder) here.
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/modules/rnn.h>
#include <torch/types.h>

#include <cstdint>
#include <utility>

namespace gafx::models::hdemucs {

// Embedding whose stored weight is divided by `scale` and multiplied back on use, which
// acts as a `scale`-times larger learning rate.
class ScaledEmbeddingImpl : public torch::nn::Module {
public:
    ScaledEmbeddingImpl(int64_t num_embeddings, int64_t dim, double scale, bool smooth);
    torch::Tensor forward(const torch::Tensor& index);

private:
    torch::nn::Embedding embedding{nullptr};
    double scale_;
};
TORCH_MODULE(ScaledEmbedding);

// Per-channel residual scale (Touvron et al. 2021), started near zero.
class LayerScaleImpl : public torch::nn::Module {
public:
    LayerScaleImpl(int64_t channels, double init);
    torch::Tensor forward(const torch::Tensor& x);

private:
    torch::Tensor scale;
};
TORCH_MODULE(LayerScale);

// Bidirectional LSTM over [B, C, T]; long inputs run as 200-step chunks overlapping by half.
class BLSTMImpl : public torch::nn::Module {
public:
    BLSTMImpl(int64_t dim, int64_t layers, bool skip);
    torch::Tensor forward(const torch::Tensor& x);

private:
    torch::nn::LSTM lstm{nullptr};
    torch::nn::Linear linear{nullptr};
    int64_t max_steps_ = 200;
    bool skip_;
};
TORCH_MODULE(BLSTM);

// Attention without positional embedding, with a learnt penalty on time distance.
class LocalStateImpl : public torch::nn::Module {
public:
    LocalStateImpl(int64_t channels, int64_t heads, int64_t ndecay);
    torch::Tensor forward(const torch::Tensor& x);

private:
    int64_t heads_, ndecay_;
    torch::nn::Conv1d content{nullptr}, query{nullptr}, key{nullptr}, query_decay{nullptr}, proj{nullptr};
};
TORCH_MODULE(LocalState);

struct DConvOptions {
    double compress = 4;
    int64_t depth = 2;       // negative: no dilation
    double init = 1e-4;
    bool group_norm = true;  // torchaudio always passes "group_norm" here
    bool attn = false;
    int64_t heads = 4;
    int64_t ndecay = 4;
    bool lstm = false;
    int64_t kernel_size = 3;
};

// One residual branch of DConv; children are numbered like torchaudio's nn.Sequential
// (conv 0, norm 1, GELU 2, [BLSTM], [LocalState], conv, norm, GLU, LayerScale).
class DConvBranchImpl : public torch::nn::Module {
public:
    DConvBranchImpl(int64_t channels, int64_t dilation, const DConvOptions& o);
    torch::Tensor forward(const torch::Tensor& x);

private:
    torch::nn::Conv1d squeeze{nullptr}, expand{nullptr};
    torch::nn::GroupNorm squeeze_norm{nullptr}, expand_norm{nullptr};
    BLSTM blstm{nullptr};
    LocalState attention{nullptr};
    LayerScale layer_scale{nullptr};
};
TORCH_MODULE(DConvBranch);

// Residual branches of dilated convolutions on a projection to channels / compress.
class DConvImpl : public torch::nn::Module {
public:
    DConvImpl(int64_t channels, const DConvOptions& o);
    torch::Tensor forward(torch::Tensor x);

private:
    torch::nn::ModuleList layers;
};
TORCH_MODULE(DConv);

struct LayerOptions {
    int64_t kernel_size = 8;
    int64_t stride = 4;
    int64_t norm_groups = 4;
    bool empty = false;       // only the first (transposed) conv: where the branches merge
    bool freq = true;         // Conv2d over [C, F, T] with kernels along F, else Conv1d over [C, T]
    bool group_norm = true;   // false: torchaudio's norm_type "none"
    int64_t context = 0;      // the rewrite conv's kernel is 1 + 2 * context
    DConvOptions dconv;
    bool pad = true;
    bool last = false;        // decoder only: no GELU on the network's output
};

// A conv of either rank, since the same layer classes serve the time and frequency branches.
class AnyConv {
public:
    AnyConv() = default;
    AnyConv(torch::nn::Module& owner, const char* name, bool two_d, bool transposed, int64_t in, int64_t out,
            int64_t kernel, int64_t stride, int64_t padding, bool square_kernel);
    torch::Tensor operator()(const torch::Tensor& x) const;
    explicit operator bool() const { return c1_ || c2_ || t1_ || t2_; }

private:
    torch::nn::Conv1d c1_{nullptr};
    torch::nn::Conv2d c2_{nullptr};
    torch::nn::ConvTranspose1d t1_{nullptr};
    torch::nn::ConvTranspose2d t2_{nullptr};
};

class HEncLayerImpl : public torch::nn::Module {
public:
    HEncLayerImpl(int64_t chin, int64_t chout, const LayerOptions& o);
    // inject: the time branch's output added after the first conv of the layer where the
    // branches merge; undefined elsewhere.
    torch::Tensor forward(torch::Tensor x, torch::Tensor inject = {});
    bool empty() const { return o_.empty; }

private:
    LayerOptions o_;
    int64_t pad_;
    AnyConv conv, rewrite;
    torch::nn::GroupNorm norm1{nullptr}, norm2{nullptr};
    DConv dconv{nullptr};
};
TORCH_MODULE(HEncLayer);

class HDecLayerImpl : public torch::nn::Module {
public:
    HDecLayerImpl(int64_t chin, int64_t chout, const LayerOptions& o);
    // Returns the output and the input of the last transposed conv (where the branches split).
    std::pair<torch::Tensor, torch::Tensor> forward(torch::Tensor x, const torch::Tensor& skip, int64_t length);
    bool empty() const { return o_.empty; }

private:
    LayerOptions o_;
    int64_t chin_, pad_;
    AnyConv conv_tr, rewrite;
    torch::nn::GroupNorm norm1{nullptr}, norm2{nullptr};
};
TORCH_MODULE(HDecLayer);

} // namespace gafx::models::hdemucs
