#include "train/device_input.h"

#include <ATen/Context.h>

namespace gafx::train {

DevicePath prepare_device(const torch::Device& device) {
    DevicePath p;
    if (!device.is_cuda()) return p;
    auto& ctx = at::globalContext();
    p.pinned_input = ctx.hasCUDA();
    p.cudnn_autotune = ctx.hasCuDNN();
    if (p.cudnn_autotune) ctx.setBenchmarkCuDNN(true);
    return p;
}

torch::Tensor to_device(const torch::Tensor& host, const torch::Device& device) {
    if (host.device() == device) return host;
    return host.to(device, /*non_blocking=*/host.is_pinned());
}

std::vector<std::pair<std::string, std::string>> describe(const DevicePath& path, const torch::Device& device) {
    const char* input = !device.is_cuda()   ? "host memory, no copy"
                        : path.pinned_input ? "pinned, copied without waiting"
                                            : "pageable, copied and waited for";
    const char* autotune = path.cudnn_autotune ? "on" : device.is_cuda() ? "off (no cuDNN in this libtorch)" : "off (CPU)";
    return {{"input", input}, {"cudnn_autotune", autotune}};
}

} // namespace gafx::train
