#pragma once
// fp32 matrix products on a CPU through oneDNN's matmul. Debian's libtorch 1.13 runs fp32 mm,
// addmm and bmm in OpenBLAS, whose kernels reach ~50-150 GFLOP/s on the products of an AST
// step (514 x 64 x 514 per head, 2056 x 192 x 576 in a linear) where oneDNN's brgemm kernels
// reach ~150-370 on the same 2 cores (bench_matmul; tests/bench/README.md, "fp32 products
// through oneDNN"): an AST-Tiny fp32 step runs 2.1-2.7x faster.
// libtorch itself links the same libdnnl.so.2 (for its bf16 products), so this adds no library
// to the process. Used by the ViT blocks' linears and attention on fp32 CPU tensors outside
// autocast; elsewhere, and in a build without libdnnl-dev, the same calls run ATen's.
#include <torch/types.h>

#include <cstdint>

namespace gafx::models {

bool onednn_matmul_available(); // this build has oneDNN's headers and library
void set_onednn_matmul(bool on); // process-wide; `gafx bench train --unfused` turns it off
// The tensors' device and dtype (and the thread's autocast) take the oneDNN path.
bool onednn_matmul_used(const torch::Tensor& a);

// How many products oneDNN has run in this process (the rest of the calls above ran ATen's).
uint64_t onednn_products_run();

// What an fp32 (or not) step's linears and attention products run on `device`, for bench's paths.
const char* matmul_path(const torch::Device& device, bool fp32);

// a [..., M, K] times b [..., K, N], batch dimensions equal; any strides. Differentiable.
torch::Tensor matmul_fp32(const torch::Tensor& a, const torch::Tensor& b);

// x [..., K] times wᵀ (w [N, K]) plus bias [N] (may be undefined), as at::linear. Differentiable.
torch::Tensor linear_fp32(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& bias);

} // namespace gafx::models
