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
    std::string cpu_kernels;          // ATen's CPU capability in use: "AVX2", "AVX512", ...
    std::vector<std::string> tuning;  // cpu_tuning_summary()
    std::vector<std::string> warnings; // e.g. a BLAS kernel far below what the CPU can do
};

BuildInfo build_info();

// Every loaded shared object whose name mentions BLAS or LAPACK, as real paths.
std::vector<std::string> loaded_blas_libraries();

} // namespace gafx
