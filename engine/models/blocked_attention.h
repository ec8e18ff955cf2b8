#pragma once
// softmax(q kᵀ · scale) v computed one block of queries at a time, for CPUs: forward keeps only
// the output and each query's log-sum-exp, never the [..., N, N] probabilities, and backward
// recomputes each block's probabilities from them (FlashAttention's scheme, with libtorch's GEMMs
// per block). Scores, softmax statistics and the gradient of the scores are fp32 whatever the
// inputs' dtype; the products run in the inputs' dtype (bf16 under autocast).
#include <torch/types.h>

#include <cstdint>

namespace gafx::models {

// q, k, v: [..., N, head_dim] of one dtype; the result has it too. `block`: queries per block
// (96 was the fastest of 32-1024 at 1650 tokens, bench_attention --block).
torch::Tensor blocked_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double scale,
                                int64_t block = 96);

} // namespace gafx::models
