#pragma once
// The softmax of attention's bf16 scores on a CPU: models/softmax_rows where this CPU runs it,
// at::_softmax elsewhere (other dtypes, devices and CPUs, or switched off for a reference).
#include <torch/types.h>

namespace gafx::models {

// softmax(scores, -1) in scores' dtype, differentiable; `scores` is bf16 on a CPU or anything
// at::_softmax takes.
torch::Tensor softmax_last_dim(const torch::Tensor& scores);

// The bf16 scores of a CPU tensor go through softmax_rows (true by default where it runs);
// `gafx bench train --unfused` switches it off for the whole process to time ATen's.
void set_softmax_rows(bool on);
bool softmax_rows_used(const torch::Device& device);

} // namespace gafx::models
