#pragma once
// A ViT block's LayerNorm under CPU bf16 autocast. Its output only feeds linears, which autocast
// runs in bf16: at::layer_norm would write fp32 for them to cast down, and their bf16 gradient
// would be cast up again for its backward. In a training step with bf16 working copies (one
// cast per step: models/working_weights) this LayerNorm writes bf16 itself and reads that
// gradient as it is (models/layer_norm_rows); elsewhere it is the module's own forward.
#include <torch/nn/modules/normalization.h>
#include <torch/types.h>

namespace gafx::models {

// `ln`(x), through layer_norm_rows where layer_norm_writes_bf16 says so.
torch::Tensor norm(const torch::nn::LayerNorm& ln, const torch::Tensor& x);

// Whether norm() writes bf16 for an fp32 `x` here: on a CPU, under bf16 autocast, with working
// copies in use on this thread.
bool layer_norm_writes_bf16(const torch::Device& device);

// What `gafx bench train` reports for a step with (`bf16_working`) or without working copies.
const char* layer_norm_path(const torch::Device& device, bool bf16_working);

// The LayerNorm of layer_norm_rows on its own, differentiable: x fp32 [..., C], weight and bias
// fp32 [C]; the result is bf16. For tests and benchmarks; norm() is what models call.
torch::Tensor layer_norm_to_bf16(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                 double eps);

} // namespace gafx::models
