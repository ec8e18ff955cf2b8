#pragma once
// Softmax over the last dimension of bf16 rows on a CPU, and its backward: the N x N scores of
// unfused attention in a CPU bf16 step. ATen's bf16 softmax spends ~2 ms of a 514-token AST-Tiny
// block's forward on its accurate exp (3.2 M elements at 4 cycles each, measured); an exp to fp32
// rounding (~1e-7) is all a bf16 result can show, and runs ~3.5x faster with AVX-512. Statistics,
// sums and the product in the backward are fp32, each result rounded once to bf16.
#include <c10/util/BFloat16.h>

#include <cstdint>

namespace gafx::models {

// Whether this build and CPU run these kernels (x86-64 with AVX-512 F/BW); elsewhere callers
// keep ATen's softmax.
bool softmax_rows_available();

// y[r] = softmax(x[r]) for `rows` rows of `cols` contiguous values. -inf gives 0; a row whose
// maximum is -inf or +inf, or that holds a NaN, gives NaN, as at::softmax does.
void softmax_rows_forward(const c10::BFloat16* x, c10::BFloat16* y, int64_t rows, int64_t cols);

// dx[r] = y[r] * (dy[r] - <dy[r], y[r]>), the softmax's backward from its output.
void softmax_rows_backward(const c10::BFloat16* dy, const c10::BFloat16* y, c10::BFloat16* dx, int64_t rows,
                           int64_t cols);

} // namespace gafx::models
