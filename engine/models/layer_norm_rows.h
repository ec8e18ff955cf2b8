#pragma once
// LayerNorm over the last dimension of fp32 rows whose result feeds bf16 matmuls: the forward
// writes bf16 directly and the backward reads the bf16 gradient those matmuls return, where
// autocast runs LayerNorm in fp32, then casts its output down and the gradient back up (two
// passes over the activations each way). The arithmetic is fp32 throughout; only the output is
// rounded, once.
#include <c10/util/BFloat16.h>

#include <cstdint>

namespace gafx::models {

struct LayerNormRows {
    const float* x = nullptr;      // [rows, cols], contiguous
    const float* weight = nullptr; // [cols]
    const float* bias = nullptr;   // [cols]
    int64_t rows = 0, cols = 0;
    float eps = 1e-6f;
};

// y = bf16((x - mean) * rstd * weight + bias), rstd = 1 / sqrt(var + eps) with the biased
// variance, as at::layer_norm; mean and rstd ([rows]) are kept for the backward.
void layer_norm_rows_forward(const LayerNormRows& a, c10::BFloat16* y, float* mean, float* rstd);

// From dy [rows, cols] in bf16: dx [rows, cols] and, summed over the rows, dweight and dbias
// ([cols]). The row sums go through fixed blocks of rows, so they do not depend on the thread count.
void layer_norm_rows_backward(const LayerNormRows& a, const c10::BFloat16* dy, const float* mean, const float* rstd,
                              float* dx, float* dweight, float* dbias);

} // namespace gafx::models
