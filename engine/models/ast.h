#pragma once
// The AST classifier (Gong et al., "AST: Audio Spectrogram Transformer") on DeiT: the feature
// map of any extractor is a one-channel image cut into 16 x 16 patches without overlap (the
// GAFX paper's choice; AST itself overlaps by 6). Parameter names match timm DeiT and AST
// (patch_embed.proj, cls_token, dist_token, pos_embed, blocks.N.*, norm, mlp_head.0/1) so
// pretrained state dicts map by name.
#include "models/ast_config.h"
#include "models/vit_block.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>

namespace gafx::models {

class AstImpl : public torch::nn::Module {
public:
    explicit AstImpl(AstConfig config);

    // [B, frames, bins] -> logits [B, num_classes].
    torch::Tensor forward(const torch::Tensor& features);
    // [B, frames, bins] -> the normed class and distillation token outputs [B, 2, embed_dim].
    torch::Tensor forward_features(const torch::Tensor& features);
    // [B, frames, bins] -> the token the head classifies [B, embed_dim]: forward() is
    // mlp_head(pooled(features)), bit for bit (train/embeddings.h).
    torch::Tensor pooled(const torch::Tensor& features);
    // [B, frames, bins] -> the projected patches [B, f*t, embed_dim], frequency-major.
    torch::Tensor patch_tokens(const torch::Tensor& features);
    // A fresh classifier for `classes` (fine-tuning after pretraining); the head norm is kept.
    void reset_head(int64_t classes);

    const AstConfig& config() const { return config_; }

    torch::nn::Conv2d patch_proj{nullptr};
    torch::Tensor cls_token, dist_token, pos_embed;
    torch::nn::Dropout pos_drop{nullptr};
    torch::nn::ModuleList blocks{nullptr};
    torch::nn::LayerNorm norm{nullptr};
    torch::nn::Sequential mlp_head{nullptr}; // mlp_head.0 = head_norm, mlp_head.1 = head
    torch::nn::LayerNorm head_norm{nullptr};
    torch::nn::Linear head{nullptr};

private:
    AstConfig config_;
};
TORCH_MODULE(Ast);

// Bilinear resampling of a ViT positional embedding [1, 2 + f*t, D] from an old_f x old_t patch
// grid (frequency-major, as the patches are flattened) to new_f x new_t; the two token
// embeddings are kept. Used by weight import: DeiT's 14 x 14 grid, AST AudioSet's 12 x 101.
torch::Tensor resize_pos_embed(const torch::Tensor& pe, int64_t old_f, int64_t old_t, int64_t new_f,
                               int64_t new_t);

} // namespace gafx::models
