#include "args.h"
#include "commands.h"
#include "core/build_info.h"

#include <cstdio>

namespace gafx::cli {

int cmd_version(const std::vector<std::string>& argv) {
    Args args(argv, {}, {"--json"});
    args.expect_positional(0, "");
    const BuildInfo b = build_info();
    std::printf("gafx %s\n", b.gafx.c_str());
    std::printf("libtorch   %s (%d threads)\n", b.libtorch.c_str(), b.torch_threads);
    std::printf("kernels    %s\n", b.cpu_kernels.c_str());
    std::printf("BLAS       %s\n", b.blas.c_str());
    for (const auto& t : b.tuning) std::printf("tuning     %s\n", t.c_str());
    std::printf("Qt         %s\n", b.qt.empty() ? "not built with Qt" : b.qt.c_str());
    std::printf("SQLite     %s\n", b.sqlite.c_str());
    std::printf("libsndfile %s\n", b.sndfile.c_str());
    std::printf("soxr       %s\n", b.soxr.c_str());
    if (b.cuda_available)
        std::printf("CUDA       available (%d device%s)\n", b.cuda_devices, b.cuda_devices == 1 ? "" : "s");
    else
        std::printf("CUDA       not available (CPU only)\n");
    for (const auto& w : b.warnings) std::printf("warning: %s\n", w.c_str());
    return 0;
}

} // namespace gafx::cli
