#pragma once
// The host side of a step on a GPU: batches built by the loader's threads in page-locked
// (pinned) memory, so that copying one to the device does not hold the host up, and cuDNN
// autotuning for the fixed shapes a run uses. Each is used only where the device and this
// libtorch offer it; on a CPU a batch is used where it lies.
#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

namespace gafx::train {

struct DevicePath {
    bool pinned_input = false;   // batches in pinned memory, copied with non_blocking
    bool cudnn_autotune = false; // cudnn.benchmark: each convolution shape's fastest algorithm, timed once
};

// The path for `device`; turns cuDNN autotuning on where it is used (process-wide, as
// torch.backends.cudnn.benchmark is). Autotuned algorithms need not be deterministic, which a
// GPU run never was: exact resume is a CPU promise.
DevicePath prepare_device(const torch::Device& device);

// `host` on `device`: without waiting for the copy when `host` is pinned (the copy is queued on
// the device's stream ahead of the work that reads it), a plain copy otherwise, and `host`
// itself when it is already there.
torch::Tensor to_device(const torch::Tensor& host, const torch::Device& device);

// What `gafx bench train` reports of the path: {"input", ...} and {"cudnn_autotune", ...}.
std::vector<std::pair<std::string, std::string>> describe(const DevicePath& path, const torch::Device& device);

} // namespace gafx::train
