#pragma once
// The pre-norm transformer block of ViT/DeiT. Submodule names follow timm (norm1, attn.qkv,
// attn.proj, norm2, mlp.fc1, mlp.fc2) so timm and AST state dicts map onto ours by name.
#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>

namespace gafx::models {

// Which attention kernels a ViT block runs on `device`: libtorch 2.x's fused kernel on CUDA
// (it keeps no N x N matrix); on a CPU the unfused product (scaled_dot_attention), or with
// `recompute` (activation checkpointing) the blocked one (models/blocked_attention), which
// keeps no probabilities for backward but is slower (tests/bench/README.md). `gafx bench train`
// reports it.
enum class AttentionPath { Unfused, Blocked, Fused };
AttentionPath attention_path(const torch::Device& device, bool recompute);
const char* to_string(AttentionPath p);

// Which softmax the attention of `path` runs on `device` at `bf16` precision or not; `gafx bench
// train` reports it.
const char* softmax_path(AttentionPath path, const torch::Device& device, bool bf16);

// softmax(q k^T * scale) v with the softmax statistics in fp32 whatever the input dtype; q, k,
// v are [..., N, head_dim], the result has v's dtype.
torch::Tensor scaled_dot_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                   double scale);

// Multi-head self-attention whose softmax sums always run in fp32: under bf16 autocast the
// scores of long inputs (1650 tokens at 3308 frames) lose too much precision otherwise.
class AttentionImpl : public torch::nn::Module {
public:
    AttentionImpl(int64_t dim, int64_t heads, double dropout);
    torch::Tensor forward(const torch::Tensor& x); // [B, N, dim] -> [B, N, dim]

    torch::nn::Linear qkv{nullptr}, proj{nullptr};
    torch::nn::Dropout proj_drop{nullptr};
    bool recompute = false; // see attention_path

private:
    int64_t heads_;
    double scale_;
};
TORCH_MODULE(Attention);

class MlpImpl : public torch::nn::Module {
public:
    MlpImpl(int64_t dim, int64_t hidden, double dropout);
    torch::Tensor forward(const torch::Tensor& x);

    torch::nn::Linear fc1{nullptr}, fc2{nullptr};
    torch::nn::Dropout drop{nullptr};
};
TORCH_MODULE(Mlp);

class VitBlockImpl : public torch::nn::Module {
public:
    // layer_scale > 0 adds per-channel gains on both residual branches (CaiT's LayerScale,
    // parameters gamma_1 and gamma_2 as timm named them), started at that value.
    VitBlockImpl(int64_t dim, int64_t heads, int64_t mlp_ratio, double dropout, double layer_scale = 0.0);
    torch::Tensor forward(const torch::Tensor& x);

    torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
    Attention attn{nullptr};
    Mlp mlp{nullptr};
    torch::Tensor gamma_1, gamma_2; // undefined without layer scale
};
TORCH_MODULE(VitBlock);

// `recompute` of every attention under `root`: activation checkpointing for a ViT.
void set_attention_recompute(torch::nn::Module& root, bool on);

// LayerNorm as timm builds ViTs (eps 1e-6, not PyTorch's 1e-5), so imported weights behave alike.
torch::nn::LayerNorm vit_layer_norm(int64_t dim);

// timm's ViT initialisation: truncated normal (std 0.02) weights, zero biases, unit norms.
void vit_init_linear(torch::nn::Linear& linear);
torch::Tensor trunc_normal_(torch::Tensor t, double std = 0.02, double lo = -2.0, double hi = 2.0);

} // namespace gafx::models
