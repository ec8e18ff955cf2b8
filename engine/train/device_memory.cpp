#include "train/device_memory.h"

#ifdef GAFX_HAVE_TORCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace gafx::train {

#ifdef GAFX_HAVE_TORCH_CUDA
namespace {
constexpr double kMiB = 1024.0 * 1024.0;
// Index 0 of each StatArray is the aggregate over small and large pools (StatType::AGGREGATE,
// whose namespace moved between libtorch 1.13 and 2.x; the index did not).
constexpr size_t kAggregate = 0;

// "cuda" without an index is the current device, as torch::Device means it.
int index_of(const torch::Device& device) { return device.has_index() ? device.index() : c10::cuda::current_device(); }
} // namespace

void reset_device_peak(const torch::Device& device) {
    if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(index_of(device));
}

std::optional<DevicePeak> device_peak(const torch::Device& device) {
    if (!device.is_cuda()) return std::nullopt;
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(index_of(device));
    return DevicePeak{double(stats.allocated_bytes[kAggregate].peak) / kMiB,
                      double(stats.reserved_bytes[kAggregate].peak) / kMiB};
}
#else
void reset_device_peak(const torch::Device&) {}
std::optional<DevicePeak> device_peak(const torch::Device&) { return std::nullopt; }
#endif

} // namespace gafx::train
