#pragma once
// What this binary was built with and what it actually loaded at run time: Debian's libtorch
// takes its BLAS from the system alternatives, so the BLAS in use is only known at run time.
#include <string>
#include <vector>

namespace gafx {

struct BuildInfo {
    std::string gafx;
    std::string libtorch;
    std::string blas;      // e.g. "OpenBLAS 0.3.21 ... (/usr/lib/.../openblas-pthread/libblas.so.3)"
    std::string qt;        // empty when built without Qt
    std::string sqlite;
    std::string sndfile;
    std::string soxr;
    bool cuda_available = false;
    int cuda_devices = 0;
    int torch_threads = 0;
    std::vector<std::string> warnings; // e.g. a BLAS kernel far below what the CPU can do
};

BuildInfo build_info();

// OpenBLAS 0.3.21 (bookworm) does not recognise newer Xeons and falls back to its SSE3
// "Prescott" kernel, ~4x slower for fp32 matrix products. The kernel is chosen when the
// library loads, from OPENBLAS_CORETYPE, so the only fix from inside is to set it and re-exec
// this program once. Call first thing in main(); returns (doing nothing) when the BLAS is fine,
// the variable is already set, GAFX_KEEP_BLAS is set, or the exec fails.
void prefer_fast_blas_kernel(char** argv);

// Every loaded shared object whose name mentions BLAS or LAPACK, as real paths.
std::vector<std::string> loaded_blas_libraries();

} // namespace gafx
