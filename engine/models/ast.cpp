#include "models/ast.h"

#include "core/error.h"
#include "models/onednn_matmul.h"
#include "models/working_weights.h"

#include <torch/nn/functional/upsampling.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/linear.h>

#include <memory>
#include <string>

namespace gafx::models {
namespace {

std::string shape_of(const torch::Tensor& t) {
    std::string s = "[";
    for (int64_t i = 0; i < t.dim(); ++i)
        s += (i ? ", " : "") + std::to_string(t.size(i));
    return s + "]";
}

void check(const AstConfig& c) {
    if (c.embed_dim <= 0 || c.depth <= 0 || c.heads <= 0 || c.mlp_ratio <= 0 || c.num_classes <= 0 ||
        c.patch <= 0)
        throw Error({}, "AST config has a zero or negative size", "check the model settings");
    if (c.freq_patches() < 1 || c.time_patches() < 1)
        throw Error({}, "AST input of " + std::to_string(c.frames) + " x " + std::to_string(c.bins) +
                            " is smaller than one " + std::to_string(c.patch) + " x " +
                            std::to_string(c.patch) + " patch",
                    "use longer inputs or a smaller patch");
    if (c.embed_dim % c.heads != 0)
        throw Error({}, "AST width " + std::to_string(c.embed_dim) + " is not divisible by " +
                            std::to_string(c.heads) + " heads",
                    "choose a width that is a multiple of the head count");
    if (c.dropout < 0.0 || c.dropout >= 1.0)
        throw Error({}, "AST dropout must lie in [0, 1)", "check the model settings");
}

torch::nn::Linear make_classifier(int64_t dim, int64_t classes) {
    torch::nn::Linear head(dim, classes);
    vit_init_linear(head);
    return head;
}

} // namespace

AstImpl::AstImpl(AstConfig config) : config_(config) {
    check(config_);
    const int64_t d = config_.embed_dim;
    auto patch_embed = register_module("patch_embed", std::make_shared<torch::nn::Module>("PatchEmbed"));
    patch_proj = patch_embed->register_module(
        "proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, d, config_.patch).stride(config_.patch)));
    cls_token = register_parameter("cls_token", trunc_normal_(torch::empty({1, 1, d})));
    dist_token = register_parameter("dist_token", trunc_normal_(torch::empty({1, 1, d})));
    pos_embed = register_parameter("pos_embed", trunc_normal_(torch::empty({1, config_.tokens(), d})));
    pos_drop = register_module("pos_drop", torch::nn::Dropout(config_.dropout));
    blocks = register_module("blocks", torch::nn::ModuleList());
    for (int64_t i = 0; i < config_.depth; ++i)
        blocks->push_back(VitBlock(d, config_.heads, config_.mlp_ratio, config_.dropout));
    norm = register_module("norm", vit_layer_norm(d));
    head_norm = vit_layer_norm(d);
    head = make_classifier(d, config_.num_classes);
    mlp_head = register_module("mlp_head", torch::nn::Sequential(head_norm, head));
}

torch::Tensor AstImpl::patch_tokens(const torch::Tensor& features) {
    const int64_t b = features.size(0);
    // AST's image is [B, 1, bins, frames] (frequency is the height) cut into p x p patches. As
    // they do not overlap, cutting is a reshape and the patch convolution one matrix product with
    // its kernel [D, 1, kh, kw] flattened: the convolution's backward alone took 3 % of an
    // AST-Tiny bf16 step. Patches are numbered frequency-major, as the convolution flattens them.
    const int64_t p = config_.patch, f = config_.freq_patches(), t = config_.time_patches();
    const auto patches = features.narrow(1, 0, t * p)
                             .narrow(2, 0, f * p)
                             .reshape({b, t, p, f, p})  // [B, t, kw (frames), f, kh (bins)]
                             .permute({0, 3, 1, 4, 2})  // [B, f, t, kh, kw]
                             .reshape({b, f * t, p * p});
    const torch::Tensor& w = working(patch_proj->weight);
    return linear_fp32(patches, w.reshape({w.size(0), p * p}), working(patch_proj->bias));
}

torch::Tensor AstImpl::forward_features(const torch::Tensor& features) {
    if (features.dim() != 3 || features.size(1) != config_.frames || features.size(2) != config_.bins)
        throw Error({}, "AST expects features [batch, " + std::to_string(config_.frames) + ", " +
                            std::to_string(config_.bins) + "], got " + shape_of(features),
                    "the model's frame count must match the feature extractor's output");
    const int64_t b = features.size(0);
    auto x = patch_tokens(features);
    x = torch::cat({cls_token.expand({b, -1, -1}).to(x.scalar_type()),
                    dist_token.expand({b, -1, -1}).to(x.scalar_type()), x},
                   1);
    x = pos_drop(x + pos_embed);
    for (const auto& block : *blocks)
        x = block->as<VitBlock>()->forward(x);
    return norm(x).narrow(1, 0, 2);
}

torch::Tensor AstImpl::pooled(const torch::Tensor& features) { return forward_features(features).mean(1); }

torch::Tensor AstImpl::forward(const torch::Tensor& features) {
    // AST (and DeiT at inference) average the class and distillation tokens.
    return linear(head, head_norm(forward_features(features).mean(1)));
}

void AstImpl::reset_head(int64_t classes) {
    if (classes <= 0)
        throw Error({}, "a classifier needs at least one class");
    auto fresh = make_classifier(config_.embed_dim, classes);
    fresh->to(head->weight.device(), head->weight.scalar_type());
    head = fresh;
    mlp_head = replace_module("mlp_head", torch::nn::Sequential(head_norm, head));
    config_.num_classes = classes;
}

torch::Tensor resize_pos_embed(const torch::Tensor& pe, int64_t old_f, int64_t old_t, int64_t new_f,
                               int64_t new_t) {
    if (pe.dim() != 3 || pe.size(0) != 1 || pe.size(1) != 2 + old_f * old_t)
        throw Error({}, "positional embedding " + shape_of(pe) + " does not hold two tokens and a " +
                            std::to_string(old_f) + " x " + std::to_string(old_t) + " grid",
                    "check the source model's patch grid");
    if (new_f < 1 || new_t < 1)
        throw Error({}, "positional grid must be at least 1 x 1");
    if (old_f == new_f && old_t == new_t)
        return pe;
    const int64_t d = pe.size(2);
    auto grid = pe.narrow(1, 2, old_f * old_t).reshape({1, old_f, old_t, d}).permute({0, 3, 1, 2});
    namespace F = torch::nn::functional;
    // In fp32: bilinear upsampling of half types is missing on CPU in older libtorch.
    grid = F::interpolate(grid.to(torch::kFloat), F::InterpolateFuncOptions()
                                                      .size(std::vector<int64_t>{new_f, new_t})
                                                      .mode(torch::kBilinear)
                                                      .align_corners(false));
    grid = grid.permute({0, 2, 3, 1}).reshape({1, new_f * new_t, d}).to(pe.scalar_type());
    return torch::cat({pe.narrow(1, 0, 2), grid}, 1);
}

} // namespace gafx::models
