#include "core/build_info.h"

#include "core/cpu_tuning.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <ATen/Version.h>
#include <torch/version.h>

#include <dlfcn.h>
#include <link.h>
// The libraries are asked directly, as for SQLite: core/ sits below audio/ and must not include it.
#include <sndfile.h>
#include <soxr.h>
#include <sqlite3.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <unistd.h>

namespace gafx {
namespace {

int collect_blas(struct dl_phdr_info* info, size_t, void* out) {
    const std::string name = info->dlpi_name ? info->dlpi_name : "";
    const auto slash = name.find_last_of('/');
    const std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
    if (base.find("blas") != std::string::npos || base.find("lapack") != std::string::npos) {
        char resolved[PATH_MAX];
        const char* real = realpath(name.c_str(), resolved);
        auto* libs = static_cast<std::vector<std::string>*>(out);
        const std::string path = real ? real : name;
        if (std::find(libs->begin(), libs->end(), path) == libs->end()) libs->push_back(path);
    }
    return 0;
}

std::string describe_blas() {
    // Make sure BLAS is loaded (it is, through libtorch_cpu) and ask OpenBLAS itself if present.
    using ConfigFn = char* (*)();
    std::string kind;
    if (auto fn = reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_config"))) {
        kind = fn(); // "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ..." (the build's baseline target)
        // With DYNAMIC_ARCH the kernel is chosen at run time; that is the one that matters.
        if (auto core = reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_corename")))
            kind += ", kernel " + std::string(core());
    } else if (dlsym(RTLD_DEFAULT, "mkl_get_version")) {
        kind = "Intel MKL";
    }
    std::string where;
    for (const auto& lib : loaded_blas_libraries()) {
        if (lib.find("lapack") != std::string::npos) continue;
        where += (where.empty() ? "" : ", ") + lib;
    }
    if (kind.empty()) {
        kind = where.find("/blas/") != std::string::npos
                   ? "reference BLAS (slow: apt-get install libopenblas0-pthread)"
                   : "unknown BLAS";
    }
    return where.empty() ? kind : kind + " [" + where + "]";
}

} // namespace

std::vector<std::string> loaded_blas_libraries() {
    std::vector<std::string> libs;
    dl_iterate_phdr(collect_blas, &libs);
    return libs;
}

BuildInfo build_info() {
    BuildInfo info;
    info.gafx = GAFX_VERSION;
    info.libtorch = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) +
                    "." + std::to_string(TORCH_VERSION_PATCH);
    info.blas = describe_blas();
    info.qt = GAFX_QT_VERSION;
    info.sqlite = sqlite3_libversion();
    info.sndfile = sf_version_string();
    info.soxr = ::soxr_version();
    info.cuda_available = torch::cuda::is_available();
    info.cuda_devices = info.cuda_available ? static_cast<int>(torch::cuda::device_count()) : 0;
    info.torch_threads = at::get_num_threads();
    const std::string config = at::show_config();
    const std::string key = "CPU capability usage: ";
    if (const auto at = config.find(key); at != std::string::npos)
        info.cpu_kernels = config.substr(at + key.size(), config.find('\n', at) - at - key.size());
    info.tuning = cpu_tuning_summary();
    // OpenBLAS 0.3.21 (bookworm) does not know some newer Xeons and falls back to its SSE3
    // kernel: measured here 10 GFLOP/s for a 1024^2 sgemm, against 37 with SkylakeX.
    if (info.blas.find("kernel Prescott") != std::string::npos && __builtin_cpu_supports("avx512f") &&
        !std::getenv("OPENBLAS_CORETYPE"))
        info.warnings.push_back("OpenBLAS chose its generic Prescott kernel on a CPU with AVX-512; "
                                "unset GAFX_NO_TUNING (gafx then sets OPENBLAS_CORETYPE itself) or export "
                                "OPENBLAS_CORETYPE=SkylakeX for ~4x faster fp32 matrix products");
    return info;
}

} // namespace gafx
