#pragma once
// One optimiser step, shared by the Trainer and `gafx bench train` so the benchmark times
// exactly what training runs: forward under autocast, the loss in fp32, backward (loss-scaled
// for fp16), Adam.
#include "train/adam.h"
#include "train/precision.h"

#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>

namespace gafx::train {

struct StepSettings {
    torch::Device device{torch::kCPU};
    Precision precision = Precision::Fp32;
    bool multi_label = false;
    double lr = 0;
    int64_t step = 0;         // steps done before this one (for the loss-scale growth)
    double* loss_scale = nullptr; // fp16 only: updated in place
    // Data parallelism: this rank's input is a slice of a global batch of `global_batch` clips
    // (0: the input is the whole batch), by which its loss is divided. `combine` sums the loss
    // and correct count over ranks before the finiteness test, so every rank decides alike;
    // `before_backward` (after the gradients are cleared) and `after_backward` sum the gradients
    // over ranks before the update, during backward where they can (train/grad_reducer). An empty
    // slice skips the forward pass and contributes zeros.
    int64_t global_batch = 0;
    std::function<void(double& loss, int64_t& correct)> combine = nullptr;
    std::function<void()> before_backward = nullptr;
    std::function<void()> after_backward = nullptr;
};

struct StepOutput {
    double loss = 0;      // mean over the batch; not finite: nothing was applied
    int64_t correct = 0;  // clips whose top-1 class is among their labels
    bool applied = false; // false when the loss was not finite or fp16 gradients overflowed
};

using Forward = std::function<torch::Tensor(const torch::Tensor&)>;

// A bf16 step reads bf16 working copies of the model's matmul and convolution weights, written
// by Adam's update once per step, instead of autocast casting every weight at every use and its
// gradient back; the values are the same (both round to nearest even). Other precisions keep
// autocast's casts (fp16's loss scaling unscales fp32 gradients).
void keep_working_copies(Adam& adam, torch::nn::Module& model, Precision precision);

StepOutput train_step(const Forward& forward, Adam& adam, const torch::Tensor& input, const torch::Tensor& targets,
                      const StepSettings& s);

// train_step's forward half, read back by nobody (a CUDA graph captures it): the forward under
// autocast with Adam's working copies, and the loss per clip of the global batch (or of `input`).
struct Forwarded {
    torch::Tensor logits, loss;
};
Forwarded forward_loss(const Forward& forward, Adam& adam, const torch::Tensor& input, const torch::Tensor& targets,
                       const StepSettings& s);

// The per-clip loss summed over the batch, in fp32: cross-entropy (int64 targets) or
// BCE-with-logits averaged over the classes (multi-hot targets).
// Single-label targets are class indices [B], or a distribution [B, K] (mixup).
torch::Tensor loss_sum(const torch::Tensor& logits, const torch::Tensor& targets, bool multi_label);

// mixup (Zhang et al. 2018, as AST trains): one λ ~ Beta(alpha, alpha) per batch, each example
// mixed with another of the batch (a seeded permutation), targets mixed alike (single-label
// indices become distributions over `classes`). Drawn from the CPU generator, so a checkpoint
// resumes the same mixes. alpha <= 0 returns the batch unchanged.
struct Mixed {
    torch::Tensor input, targets;
    double lambda = 1;
};
Mixed mixup(const torch::Tensor& input, const torch::Tensor& targets, bool multi_label, int64_t classes, double alpha);
int64_t correct_count(const torch::Tensor& logits, const torch::Tensor& targets, bool multi_label);
// The same count as an int64 scalar tensor on the logits' device, read by nobody yet (a CUDA
// graph computes it without stopping the host).
torch::Tensor correct_tensor(const torch::Tensor& logits, const torch::Tensor& targets, bool multi_label);

} // namespace gafx::train
