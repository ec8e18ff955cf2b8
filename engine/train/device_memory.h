#pragma once
// What a GPU's caching allocator saw: the most memory tensors held at once since the last reset
// (torch.cuda.max_memory_allocated) and the most it reserved from the driver
// (torch.cuda.max_memory_reserved). The statistics are libtorch_cuda's, so they are read only in
// a build against a CUDA libtorch (GAFX_HAVE_TORCH_CUDA); elsewhere, and for a CPU, there are none.
#include <torch/types.h>

#include <optional>

namespace gafx::train {

struct DevicePeak {
    double allocated_mib = 0; // tensors alive at once: what the step itself needs
    double reserved_mib = 0;  // held by the allocator's cache: what nvidia-smi shows the process using
};

// Starts a new peak on `device` (a no-op where there are no statistics).
void reset_device_peak(const torch::Device& device);
// The peak since the last reset, or nothing where this build or device keeps no statistics.
std::optional<DevicePeak> device_peak(const torch::Device& device);

} // namespace gafx::train
