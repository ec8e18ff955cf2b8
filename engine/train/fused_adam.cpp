#include "train/fused_adam.h"

#include "core/bf16_round.h"
#include "core/parallel.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace gafx::train {
namespace {

// Enough elements per task to amortise scheduling; small enough to share a layer between threads.
constexpr int64_t kChunk = 1 << 15;

struct Task {
    const AdamSlice* slice;
    int64_t begin, end;
};

// One chunk. Written so that the compiler vectorises it (engine/CMakeLists.txt: OpenMP's simd and
// -fno-math-errno for this file): no branch in the loop, the working copy in a second pass over
// the chunk while it is still in cache.
template <class Grad>
void update(const AdamSlice& s, const Grad* __restrict g, int64_t begin, int64_t end) {
    float* __restrict p = s.param;
    float* __restrict m = s.exp_avg;
    float* __restrict v = s.exp_avg_sq;
    const float b1 = s.beta1, b2 = s.beta2, c1 = s.one_minus_beta1, c2 = s.one_minus_beta2;
    const float bc2 = s.bias_correction2_sqrt, eps = s.eps, lr = -s.step_size;
    // torch: exp_avg.mul_(b1).add_(g, 1-b1); exp_avg_sq.mul_(b2).addcmul_(g, g, 1-b2);
    // denom = exp_avg_sq.sqrt() / bc2 + eps; param.addcdiv_(exp_avg, denom, -step_size).
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) {
        const float gi = static_cast<float>(g[i]);
        const float mi = m[i] * b1 + c1 * gi;
        const float vi = v[i] * b2 + c2 * gi * gi;
        const float denom = std::sqrt(vi) / bc2 + eps;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] + lr * mi / denom;
    }
    if (c10::BFloat16* __restrict w = s.working) {
#pragma omp simd
        for (int64_t i = begin; i < end; ++i) w[i] = round_to_bf16(p[i]);
    }
}

} // namespace

void fused_adam(const std::vector<AdamSlice>& slices) {
    std::vector<Task> tasks;
    for (const AdamSlice& s : slices)
        for (int64_t b = 0; b < s.size; b += kChunk) tasks.push_back({&s, b, std::min(s.size, b + kChunk)});
    gafx::parallel_for(0, int64_t(tasks.size()), 1, [&](int64_t first, int64_t last) {
        for (int64_t t = first; t < last; ++t) {
            const Task& k = tasks[t];
            if (k.slice->grad) update(*k.slice, k.slice->grad, k.begin, k.end);
            else update(*k.slice, k.slice->grad_bf16, k.begin, k.end);
        }
    });
}

} // namespace gafx::train
