#pragma once
// Adam's update for many tensors in one parallel pass over memory: per element it reads the
// gradient (fp32, or the bf16 gradient of a working copy), updates the two moments and the fp32
// weight, and writes the weight's bf16 working copy, where torch's per-tensor Adam runs eight
// kernels per tensor and the copy would be one more. The arithmetic is torch.optim.Adam's, in
// the same order, in fp32.
#include <c10/util/BFloat16.h>

#include <cstdint>
#include <vector>

namespace gafx::train {

struct AdamSlice {
    float* param = nullptr;
    float* exp_avg = nullptr;
    float* exp_avg_sq = nullptr;
    const float* grad = nullptr;           // one of grad and grad_bf16
    const c10::BFloat16* grad_bf16 = nullptr;
    c10::BFloat16* working = nullptr;      // optional: receives the updated weight in bf16
    int64_t size = 0;
    // The tensor's own scalars (its step count sets the bias corrections), each rounded to fp32
    // from double as torch passes them: 1 - beta2 taken in fp32 would be 1.3e-5 off.
    float beta1 = 0, beta2 = 0, one_minus_beta1 = 0, one_minus_beta2 = 0, eps = 0, step_size = 0,
          bias_correction2_sqrt = 1;
};

// Contiguous, non-overlapping buffers only; runs on gafx::parallel_for's threads (core/parallel.h).
void fused_adam(const std::vector<AdamSlice>& slices);

} // namespace gafx::train
