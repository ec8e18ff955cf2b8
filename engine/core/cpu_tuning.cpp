#include "core/cpu_tuning.h"

#include "core/cpu_block_cache.h"
#include "core/cpu_env.h"

#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdlib>

namespace gafx {
namespace {

bool has_avx512_kernels() {
    // ATen's AVX-512 kernels need exactly these (aten/src/ATen/native/DispatchStub.cpp).
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("fma");
}

const char* better_openblas_core() {
    using CoreFn = char* (*)();
    auto core = reinterpret_cast<CoreFn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    if (!core || std::string(core()) != "Prescott") return nullptr;
    return __builtin_cpu_supports("avx512f") ? "SkylakeX" : __builtin_cpu_supports("avx2") ? "Haswell" : nullptr;
}

// The spin count only means something to GNU OpenMP (Debian's libtorch and PyTorch's wheels
// both use it); under another runtime a restart would buy nothing.
bool uses_libgomp() { return dlsym(RTLD_DEFAULT, "GOMP_parallel") != nullptr; }

} // namespace

void tune_cpu_runtime(char** argv) {
    if (cpu_tuning_off()) return;
    // glibc returns freed memory at the top of the heap to the kernel once it exceeds twice its
    // (self-adjusting) mmap threshold, and maps larger blocks afresh: a training step's big
    // activations are freed together and so were faulted in and zeroed again on every step.
    // 32 MiB is the largest mmap threshold glibc accepts.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    // Above that threshold glibc maps and unmaps every block; tensors that big are kept here.
    // Not under AddressSanitizer, whose use-after-free checks a reused block would hide.
#if !defined(__SANITIZE_ADDRESS__)
    if (!env_switch_on("GAFX_NO_BLOCK_CACHE")) install_cpu_block_cache();
#endif
    // ATen reads this on its first kernel dispatch, not at load, so setting it here suffices.
    if (!std::getenv("ATEN_CPU_CAPABILITY") && has_avx512_kernels()) ::setenv("ATEN_CPU_CAPABILITY", "avx512", 1);

    std::vector<const char*> set;
    if (uses_libgomp() && export_openmp_spin_count()) set.push_back("GOMP_SPINCOUNT");
    if (!std::getenv("OPENBLAS_CORETYPE"))
        if (const char* core = better_openblas_core()) {
            ::setenv("OPENBLAS_CORETYPE", core, 1);
            set.push_back("OPENBLAS_CORETYPE");
        }
    if (set.empty()) return;
    ::execv("/proc/self/exe", argv);
    // exec failed: carry on with what is loaded, and do not claim settings that never took.
    for (const char* var : set) ::unsetenv(var);
}

void set_compute_threads(int n) {
    n = std::max(1, n);
    at::set_num_threads(n);
    using SetFn = void (*)(int);
    if (auto set = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(n);
}

std::vector<std::string> cpu_tuning_summary() {
    std::vector<std::string> out;
    if (cpu_tuning_off()) out.emplace_back("GAFX_NO_TUNING set: allocator, OpenMP and BLAS left at their defaults");
    if (cpu_block_cache_installed())
        out.emplace_back("CPU tensors of " + std::to_string(kCachedBlockMin >> 20) + " MiB and more kept for reuse");
    for (const char* var : {"ATEN_CPU_CAPABILITY", "GOMP_SPINCOUNT", "OMP_WAIT_POLICY", "OPENBLAS_CORETYPE"})
        if (const char* v = std::getenv(var)) out.push_back(std::string(var) + "=" + v);
    return out;
}

} // namespace gafx
