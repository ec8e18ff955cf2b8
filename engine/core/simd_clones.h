#pragma once
// A kernel compiled once per vector width an x86-64 CPU may have (AVX-512, AVX2, the baseline
// the package is built for), the widest the machine runs chosen when the program loads
// (target_clones, GCC and clang). For loops written to vectorise (OpenMP simd pragmas) where
// ATen has no kernel to call: the baseline alone gets 4-wide SSE.
#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define GAFX_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef GAFX_SIMD_CLONES
#define GAFX_SIMD_CLONES
#endif
