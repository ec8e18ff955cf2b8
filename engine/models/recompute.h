#pragma once
// Activation checkpointing without torch.utils.checkpoint (C++ has none): a segment runs in
// forward without keeping its intermediate activations, and backward runs it again, with the
// autocast settings its forward had, to get its gradients. Only the segment's inputs and outputs
// stay alive between forward and backward: memory for time (one more forward of each segment).
// Segments must be deterministic (no dropout); BatchNorm's running statistics, which the second
// run would update again, are put back as the first run left them.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <functional>
#include <vector>

namespace gafx::models {

using Tensors = std::vector<torch::Tensor>;
using Segment = std::function<Tensors(const Tensors&)>;

// `body(inputs)` whose parameters are `owner`'s. Runs it directly when nothing would be kept
// for backward (grad mode off, or neither the inputs nor `owner` need gradients). Every input
// must be a defined tensor; every output a floating-point tensor. `body` is kept until backward:
// what it captures, it must capture by value.
Tensors recompute(torch::nn::Module& owner, const Tensors& inputs, const Segment& body);
torch::Tensor recompute(torch::nn::Module& owner, const torch::Tensor& input,
                        const std::function<torch::Tensor(const torch::Tensor&)>& body);

} // namespace gafx::models
