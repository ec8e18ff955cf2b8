#include "models/softmax_rows.h"

#include "core/parallel.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

// The kernels are compiled for AVX-512 as one region and called only where the CPU has it.
// core/simd_clones.h's per-function clones do not do here: GCC optimises the inlined exp for the
// baseline before cloning and leaves the AVX-512 clone's exp loop scalar (3.5 ms a forward of
// AST-Tiny's 514-token scores, against 0.62 ms from this region, 2.2 ms ATen's).
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GAFX_SOFTMAX_AVX512 1
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,fma")
#endif

namespace gafx::models::avx512 {
namespace {

// bf16 bits to fp32 and back (round to nearest even, NaN kept quiet), without library calls the
// vectoriser would stop at: the region may inline nothing compiled for the baseline.
inline float widen(uint16_t h) { return __builtin_bit_cast(float, uint32_t(h) << 16); }

inline uint16_t narrow(float f) {
    const uint32_t u = __builtin_bit_cast(uint32_t, f);
    const uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
    return uint16_t((u & 0x7FFFFFFFu) > 0x7F800000u ? 0x7FC0u : rounded);
}

// e^d for d <= 0: 2^n e^r with |r| <= ln2/2, Cephes' expf polynomial (relative error ~1e-7, far
// below a bf16 step of 2^-8). Below -87 (e^d under fp32's smallest normal) it gives 0; NaN stays.
inline float exp_nonpositive(float d) {
    const float c = d > -87.0f ? d : -87.0f;
    // Adding and taking away 1.5 * 2^23 rounds to the nearest integer, with no call to rintf.
    const float n = (c * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    const float r = c - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const float e = p * __builtin_bit_cast(float, uint32_t(int32_t(n) + 127) << 23);
    return d > -87.0f ? e : (d != d ? d : 0.0f);
}

void forward_rows(const c10::BFloat16* x, c10::BFloat16* y, int64_t first, int64_t last, int64_t n,
                  float* __restrict buf) {
    for (int64_t row = first; row < last; ++row) {
        const c10::BFloat16* __restrict xr = x + row * n;
        c10::BFloat16* __restrict yr = y + row * n;
        float m = -__builtin_inff();
#pragma omp simd reduction(max : m)
        for (int64_t j = 0; j < n; ++j) {
            const float v = widen(xr[j].x);
            m = v > m ? v : m;
        }
        // m = +inf or -inf: inf - inf is NaN, so the row is NaN, as ATen's is.
        float sum = 0;
#pragma omp simd reduction(+ : sum)
        for (int64_t j = 0; j < n; ++j) {
            const float e = exp_nonpositive(widen(xr[j].x) - m);
            buf[j] = e;
            sum += e;
        }
        const float inv = 1.0f / sum;
#pragma omp simd
        for (int64_t j = 0; j < n; ++j) yr[j].x = narrow(buf[j] * inv);
    }
}

void backward_rows(const c10::BFloat16* dy, const c10::BFloat16* y, c10::BFloat16* dx, int64_t first, int64_t last,
                   int64_t n) {
    for (int64_t row = first; row < last; ++row) {
        const c10::BFloat16* __restrict g = dy + row * n;
        const c10::BFloat16* __restrict yr = y + row * n;
        c10::BFloat16* __restrict out = dx + row * n;
        float dot = 0;
#pragma omp simd reduction(+ : dot)
        for (int64_t j = 0; j < n; ++j) dot += widen(g[j].x) * widen(yr[j].x);
#pragma omp simd
        for (int64_t j = 0; j < n; ++j) out[j].x = narrow(widen(yr[j].x) * (widen(g[j].x) - dot));
    }
}

} // namespace
} // namespace gafx::models::avx512

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif

namespace gafx::models {

bool softmax_rows_available() {
#ifdef GAFX_SOFTMAX_AVX512
    static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                            __builtin_cpu_supports("fma");
    return has;
#else
    return false;
#endif
}

void softmax_rows_forward(const c10::BFloat16* x, c10::BFloat16* y, int64_t rows, int64_t cols) {
#ifdef GAFX_SOFTMAX_AVX512
    if (!softmax_rows_available()) throw std::logic_error("softmax_rows_forward: this CPU has no AVX-512");
    gafx::parallel_for(0, rows, grain_rows(cols), [&](int64_t first, int64_t last) {
        std::vector<float> buf(size_t(std::max<int64_t>(cols, 1)));
        avx512::forward_rows(x, y, first, last, cols, buf.data());
    });
#else
    (void)x, (void)y, (void)rows, (void)cols;
    throw std::logic_error("softmax_rows_forward: built without AVX-512 kernels");
#endif
}

void softmax_rows_backward(const c10::BFloat16* dy, const c10::BFloat16* y, c10::BFloat16* dx, int64_t rows,
                           int64_t cols) {
#ifdef GAFX_SOFTMAX_AVX512
    if (!softmax_rows_available()) throw std::logic_error("softmax_rows_backward: this CPU has no AVX-512");
    gafx::parallel_for(0, rows, grain_rows(cols),
                       [&](int64_t first, int64_t last) { avx512::backward_rows(dy, y, dx, first, last, cols); });
#else
    (void)dy, (void)y, (void)dx, (void)rows, (void)cols;
    throw std::logic_error("softmax_rows_backward: built without AVX-512 kernels");
#endif
}

} // namespace gafx::models
