#include "models/vit_block.h"

#include "core/error.h"
#include "models/blocked_attention.h"
#include "models/gelu.h"
#include "models/layer_norm_bf16.h"
#include "models/onednn_matmul.h"
#include "models/softmax_bf16.h"
#include "models/working_weights.h"

#include <torch/nn/init.h>
#include <torch/version.h>

#include <cmath>
#include <string>

namespace gafx::models {

torch::nn::LayerNorm vit_layer_norm(int64_t dim) {
    return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6));
}

torch::Tensor trunc_normal_(torch::Tensor t, double std, double lo, double hi) {
    // Inverse-CDF sampling as torch.nn.init.trunc_normal_ does; the C++ API lacks it.
    torch::NoGradGuard no_grad;
    const auto cdf = [](double x) { return (1.0 + std::erf(x / std::sqrt(2.0))) / 2.0; };
    const double l = cdf(lo / std), u = cdf(hi / std);
    t.uniform_(2 * l - 1, 2 * u - 1).erfinv_().mul_(std * std::sqrt(2.0)).clamp_(lo, hi);
    return t;
}

void vit_init_linear(torch::nn::Linear& linear) {
    trunc_normal_(linear->weight);
    if (linear->bias.defined())
        torch::nn::init::zeros_(linear->bias);
}

torch::Tensor scaled_dot_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                   double scale) {
    // q is scaled before the product so fp16 logits stay far from their 65504 limit.
    const auto scores = matmul_fp32(q * scale, k.transpose(-2, -1)); // at::matmul but on fp32 CPU tensors
    // The CPU softmax kernels (ATen's and models/softmax_rows) accumulate bf16 rows in fp32 and
    // round once, so a bf16 softmax gives the fp32 softmax rounded to bf16 (but for a rare
    // element on a rounding boundary), which the product with v rounds to anyway; it saves four
    // casts of the N x N matrix and half the softmax traffic, a quarter of a bf16 AST step.
    // Other reduced types (fp16 on GPUs) take the fp32 softmax: 11 mantissa bits cannot hold
    // the statistics everywhere.
    if (scores.scalar_type() == at::kBFloat16 && scores.device().is_cpu())
        return at::matmul(softmax_last_dim(scores), v);
    return matmul_fp32(at::softmax(scores, -1, at::kFloat).to(v.scalar_type()), v);
}

AttentionPath attention_path(const torch::Device& device, bool recompute) {
#if TORCH_VERSION_MAJOR >= 2
    if (device.is_cuda()) return AttentionPath::Fused;
#endif
    return device.is_cpu() && recompute ? AttentionPath::Blocked : AttentionPath::Unfused;
}

const char* softmax_path(AttentionPath path, const torch::Device& device, bool bf16) {
    if (path == AttentionPath::Fused) return "inside the fused attention kernel";
    if (path == AttentionPath::Blocked) return "inside the blocked attention (logsumexp, exp)";
    if (!device.is_cpu() || !bf16) return "at::softmax in fp32";
    return softmax_rows_used(device) ? "bf16 rows, AVX-512 exp (models/softmax_rows)" : "at::_softmax in bf16";
}

void set_attention_recompute(torch::nn::Module& root, bool on) {
    for (const auto& m : root.modules())
        if (auto* a = m->as<AttentionImpl>()) a->recompute = on;
}

const char* to_string(AttentionPath p) {
    switch (p) {
    case AttentionPath::Fused: return "fused (scaled_dot_product_attention)";
    case AttentionPath::Blocked: return "blocked (models/blocked_attention)";
    default: return "unfused (matmul, softmax, matmul)";
    }
}

AttentionImpl::AttentionImpl(int64_t dim, int64_t heads, double dropout)
    : heads_(heads) {
    if (heads <= 0 || dim % heads != 0)
        throw Error({}, "attention width " + std::to_string(dim) + " is not divisible by " +
                            std::to_string(heads) + " heads",
                    "choose an embedding width that is a multiple of the head count");
    scale_ = 1.0 / std::sqrt(static_cast<double>(dim / heads));
    qkv = register_module("qkv", torch::nn::Linear(dim, 3 * dim));
    proj = register_module("proj", torch::nn::Linear(dim, dim));
    proj_drop = register_module("proj_drop", torch::nn::Dropout(dropout));
    vit_init_linear(qkv);
    vit_init_linear(proj);
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x) {
    const int64_t b = x.size(0), n = x.size(1), d = x.size(2);
    // unbind, not parts[i]: the backward of each select builds a zeroed [3, ...] gradient and
    // sums the three, where unbind's backward stacks the three gradients once.
    const auto parts = linear(qkv, x).reshape({b, n, 3, heads_, d / heads_}).permute({2, 0, 3, 1, 4}).unbind(0);
    const auto &q = parts[0], &k = parts[1], &v = parts[2]; // [B, H, N, hd]
    torch::Tensor out;
    const AttentionPath path = attention_path(x.device(), recompute);
#if TORCH_VERSION_MAJOR >= 2
    // The fused CUDA kernels keep softmax statistics in fp32 and never store the N x N scores.
    if (path == AttentionPath::Fused) out = at::scaled_dot_product_attention(q, k, v);
#endif
    if (path == AttentionPath::Blocked) out = blocked_attention(q, k, v, scale_);
    if (!out.defined()) out = scaled_dot_attention(q, k, v, scale_);
    return proj_drop(linear(proj, out.transpose(1, 2).reshape({b, n, d})));
}

MlpImpl::MlpImpl(int64_t dim, int64_t hidden, double dropout) {
    fc1 = register_module("fc1", torch::nn::Linear(dim, hidden));
    fc2 = register_module("fc2", torch::nn::Linear(hidden, dim));
    drop = register_module("drop", torch::nn::Dropout(dropout));
    vit_init_linear(fc1);
    vit_init_linear(fc2);
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
    // Exact (erf) GELU, as nn.GELU() in timm.
    return drop(linear(fc2, drop(models::gelu(linear(fc1, x)))));
}

VitBlockImpl::VitBlockImpl(int64_t dim, int64_t heads, int64_t mlp_ratio, double dropout, double layer_scale) {
    norm1 = register_module("norm1", vit_layer_norm(dim));
    attn = register_module("attn", Attention(dim, heads, dropout));
    norm2 = register_module("norm2", vit_layer_norm(dim));
    mlp = register_module("mlp", Mlp(dim, dim * mlp_ratio, dropout));
    if (layer_scale > 0) {
        gamma_1 = register_parameter("gamma_1", torch::full({dim}, layer_scale));
        gamma_2 = register_parameter("gamma_2", torch::full({dim}, layer_scale));
    }
}

torch::Tensor VitBlockImpl::forward(const torch::Tensor& x) {
    if (!gamma_1.defined()) {
        auto y = x + attn(norm(norm1, x));
        return y + mlp(norm(norm2, y));
    }
    auto y = x + gamma_1 * attn(norm(norm1, x));
    return y + gamma_2 * mlp(norm(norm2, y));
}

} // namespace gafx::models
