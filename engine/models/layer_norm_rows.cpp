#include "models/layer_norm_rows.h"

#include "core/bf16_round.h"
#include "core/parallel.h"
#include "core/simd_clones.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace gafx::models {
namespace {

// The row blocks of the backward's weight and bias sums; fixed, so the sums' order is too.
constexpr int64_t kBlockRows = 64;

GAFX_SIMD_CLONES void forward_rows(const LayerNormRows& a, int64_t first, int64_t last, c10::BFloat16* y, float* mean,
                                   float* rstd) {
    const int64_t n = a.cols;
    const float* __restrict w = a.weight;
    const float* __restrict b = a.bias;
    for (int64_t r = first; r < last; ++r) {
        const float* __restrict x = a.x + r * n;
        c10::BFloat16* __restrict out = y + r * n;
        // Two passes (mean, then the squared deviations) in fp32, the first about the row's
        // first value: a row far from zero (a mean of 1000, a spread of 3) summed as it is
        // loses the spread's low bits to the sum's rounding.
        const float x0 = n ? x[0] : 0.0f;
        float sum = 0;
#pragma omp simd reduction(+ : sum)
        for (int64_t j = 0; j < n; ++j) sum += x[j] - x0;
        const float mu = x0 + sum / float(n);
        float sq = 0;
#pragma omp simd reduction(+ : sq)
        for (int64_t j = 0; j < n; ++j) sq += (x[j] - mu) * (x[j] - mu);
        const float rs = 1.0f / std::sqrt(sq / float(n) + a.eps);
        mean[r] = mu;
        rstd[r] = rs;
#pragma omp simd
        for (int64_t j = 0; j < n; ++j) out[j] = round_to_bf16((x[j] - mu) * rs * w[j] + b[j]);
    }
}

// One block of rows: their dx, and their share of dweight and dbias in `partial` ([2, cols]).
GAFX_SIMD_CLONES void backward_block(const LayerNormRows& a, int64_t blk, const c10::BFloat16* dy, const float* mean,
                                     const float* rstd, float* dx, float* partial) {
    const int64_t n = a.cols;
    const float* __restrict w = a.weight;
    float* __restrict dw = partial;
    float* __restrict db = partial + n;
    for (int64_t r = blk * kBlockRows; r < std::min(a.rows, (blk + 1) * kBlockRows); ++r) {
        const float* __restrict x = a.x + r * n;
        const c10::BFloat16* __restrict g = dy + r * n;
        float* __restrict out = dx + r * n;
        const float mu = mean[r], rs = rstd[r];
        // dx = rstd * (g w - mean(g w) - xhat * mean(g w xhat)), xhat = (x - mean) * rstd
        float sum_gw = 0, sum_gwx = 0;
#pragma omp simd reduction(+ : sum_gw, sum_gwx)
        for (int64_t j = 0; j < n; ++j) {
            const float gj = float(g[j]), xh = (x[j] - mu) * rs;
            sum_gw += gj * w[j];
            sum_gwx += gj * w[j] * xh;
            dw[j] += gj * xh;
            db[j] += gj;
        }
        const float m1 = sum_gw / float(n), m2 = sum_gwx / float(n);
#pragma omp simd
        for (int64_t j = 0; j < n; ++j) out[j] = rs * (float(g[j]) * w[j] - m1 - (x[j] - mu) * rs * m2);
    }
}

} // namespace

void layer_norm_rows_forward(const LayerNormRows& a, c10::BFloat16* y, float* mean, float* rstd) {
    gafx::parallel_for(0, a.rows, grain_rows(a.cols),
                       [&](int64_t first, int64_t last) { forward_rows(a, first, last, y, mean, rstd); });
}

void layer_norm_rows_backward(const LayerNormRows& a, const c10::BFloat16* dy, const float* mean, const float* rstd,
                              float* dx, float* dweight, float* dbias) {
    const int64_t n = a.cols, blocks = (a.rows + kBlockRows - 1) / kBlockRows;
    // Each block's own weight and bias sums, added up in block order below.
    std::vector<float> partial(size_t(blocks) * size_t(2 * n), 0.0f);
    gafx::parallel_for(0, blocks, std::max<int64_t>(1, grain_rows(n) / kBlockRows), [&](int64_t first, int64_t last) {
        for (int64_t blk = first; blk < last; ++blk)
            backward_block(a, blk, dy, mean, rstd, dx, partial.data() + blk * 2 * n);
    });
    std::fill(dweight, dweight + n, 0.0f);
    std::fill(dbias, dbias + n, 0.0f);
    for (int64_t blk = 0; blk < blocks; ++blk) {
        const float* dw = partial.data() + blk * 2 * n;
        for (int64_t j = 0; j < n; ++j) {
            dweight[j] += dw[j];
            dbias[j] += dw[n + j];
        }
    }
}

} // namespace gafx::models
