#pragma once
// Exact (erf) GELU whose gradient is right for every layout of the incoming gradient. Debian's
// libtorch 1.13 computes at::gelu's backward wrongly on CPU when that gradient is not contiguous
// (measured: [2, 8, 8, 125] through a permute, every element off by up to its own size); Hybrid
// Demucs' frequency layers permute right after their GELU, so GAFX-U's first encoders trained
// on noise. Here backward makes the gradient contiguous first.
#include <torch/types.h>

namespace gafx::models {

torch::Tensor gelu(const torch::Tensor& x);

} // namespace gafx::models
