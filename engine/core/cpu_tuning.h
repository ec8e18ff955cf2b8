#pragma once
// Process-wide settings that decide how fast libtorch trains on a CPU, and that libtorch and
// its libraries only read when they load or first run. Measured on the 2-core Xeon this project
// is developed on (AST-Tiny training step, 1024 frames, batch 4; tests/bench/README.md):
//  - glibc gives freed memory back to the kernel (trimming the heap, unmapping large blocks),
//    so each step page-faulted in and zeroed its N x N attention matrices afresh; keeping them
//    took a bf16 step from 0.53 to 0.36-0.43 s. Blocks above glibc's largest mmap threshold
//    (32 MiB) are kept by core/cpu_block_cache.
//  - libgomp's idle threads spin for ~300k iterations and fight OpenBLAS's own pthreads for the
//    two cores: a shorter spin took an fp32 step from 2.2 to ~1.1 s.
//  - Debian's libtorch 1.13 runs its AVX2 kernels on CPUs with AVX-512 unless asked.
//  - OpenBLAS 0.3.21 (bookworm) does not recognise newer Xeons and falls back to its SSE3
//    "Prescott" kernel, ~4x slower for fp32 matrix products.
#include <string>
#include <vector>

namespace gafx {

// Call first thing in main(). Sets what can be set in-process (allocator, ATen CPU capability)
// and, when an environment variable read at library load time is missing (GOMP_SPINCOUNT,
// OPENBLAS_CORETYPE), sets it and re-executes this program once. A variable the user set is
// never overridden; GAFX_NO_TUNING (any value but empty or 0) turns all of it off, and
// GAFX_NO_BLOCK_CACHE the large-tensor cache alone (for comparing with and without).
void tune_cpu_runtime(char** argv);

// Torch's intra-op threads and OpenBLAS's own pool set to the same `n`. OpenBLAS keeps one
// thread per core whatever torch's count, so processes sharing a machine (--parallel, --nproc)
// each ran that many: on 2 cores, 2 ranks of AST-Tiny took 1.16 s per step instead of 0.71 s
// (tests/bench/bench_dp_step). Its results also depend on its thread count, so a run's depend on
// this one number. Not OpenBLAS (another BLAS, or ATen's own kernels): torch's count only.
void set_compute_threads(int n);

// The settings in force, one line each, for `gafx --version` and benchmarks: the variables
// tune_cpu_runtime sets, whoever set them (tuning or the user).
std::vector<std::string> cpu_tuning_summary();

} // namespace gafx
