#include "train/precision.h"

#include "core/error.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <fstream>
#include <sstream>

namespace gafx::train {
namespace {

// PyTorch 2.4 replaced the per-device autocast setters with ones taking the device type.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool autocast_enabled(bool cuda) { return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU); }
void set_autocast(bool cuda, bool on) { at::autocast::set_autocast_enabled(cuda ? at::kCUDA : at::kCPU, on); }
torch::Dtype autocast_dtype(bool cuda) { return at::autocast::get_autocast_dtype(cuda ? at::kCUDA : at::kCPU); }
void set_autocast_dtype(bool cuda, torch::Dtype d) { at::autocast::set_autocast_dtype(cuda ? at::kCUDA : at::kCPU, d); }
#else
bool autocast_enabled(bool cuda) { return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled(); }
void set_autocast(bool cuda, bool on) { cuda ? at::autocast::set_enabled(on) : at::autocast::set_cpu_enabled(on); }
torch::Dtype autocast_dtype(bool cuda) {
    return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void set_autocast_dtype(bool cuda, torch::Dtype d) {
    cuda ? at::autocast::set_autocast_gpu_dtype(d) : at::autocast::set_autocast_cpu_dtype(d);
}
#endif

bool cuda_has_bf16(const torch::Device& device);

} // namespace

const char* to_string(Precision p) {
    switch (p) {
    case Precision::Bf16: return "bf16";
    case Precision::Fp16: return "fp16";
    default: return "fp32";
    }
}

bool cpu_has_bf16() {
    static const bool has = [] {
        std::ifstream in("/proc/cpuinfo");
        std::string line;
        while (std::getline(in, line)) {
            if (line.rfind("flags", 0) != 0) continue;
            std::istringstream words(line);
            std::string w;
            while (words >> w)
                if (w == "avx512_bf16" || w == "amx_bf16") return true;
            return false;
        }
        return false;
    }();
    return has;
}

Precision resolve_precision(const std::string& requested, const torch::Device& device) {
    const bool cuda = device.is_cuda();
    const std::string where = cuda ? "this GPU" : "this CPU";
    if (requested == "fp32") return Precision::Fp32;
    if (requested == "bf16") {
        if (cuda ? !cuda_has_bf16(device) : !cpu_has_bf16())
            throw Error({}, where + " has no native bf16 arithmetic",
                        "use precision \"auto\" or \"fp32\"" + std::string(cuda ? " or \"fp16\"" : ""));
        return Precision::Bf16;
    }
    if (requested == "fp16") {
        if (!cuda) throw Error({}, "fp16 training is only offered on CUDA", "use precision \"auto\", \"bf16\" or \"fp32\"");
        return Precision::Fp16;
    }
    if (requested != "auto")
        throw Error({}, "unknown precision '" + requested + "'", "use auto, fp32, bf16 or fp16");
    if (cuda) return cuda_has_bf16(device) ? Precision::Bf16 : Precision::Fp16;
    return cpu_has_bf16() ? Precision::Bf16 : Precision::Fp32;
}

AutocastScope::AutocastScope(const torch::Device& device, Precision precision) {
    if (precision == Precision::Fp32) return;
    active_ = true;
    cuda_ = device.is_cuda();
    was_enabled_ = autocast_enabled(cuda_);
    was_dtype_ = autocast_dtype(cuda_);
    set_autocast(cuda_, true);
    set_autocast_dtype(cuda_, precision == Precision::Bf16 ? torch::kBFloat16 : torch::kFloat16);
    at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
    if (!active_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    set_autocast(cuda_, was_enabled_);
    set_autocast_dtype(cuda_, was_dtype_);
}

namespace {

bool cuda_has_bf16(const torch::Device& device) {
    // Ampere (compute capability 8.0) and newer do bf16 natively; asking needs the CUDA
    // runtime, which a CPU build lacks, so test it by running a tiny bf16 matmul.
    try {
        const auto a = torch::ones({8, 8}, torch::TensorOptions().device(device).dtype(torch::kBFloat16));
        return a.matmul(a).sum().item<float>() == 512.0f;
    } catch (const std::exception&) {
        return false;
    }
}

} // namespace

} // namespace gafx::train
