#include "train/precision.h"

#include "core/error.h"

#include <fstream>
#include <sstream>

namespace gafx::train {
namespace {

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
    auto state = autocast::State::current();
    const auto dtype = precision == Precision::Bf16 ? torch::kBFloat16 : torch::kFloat16;
    if (device.is_cuda()) {
        state.cuda = true;
        state.cuda_dtype = dtype;
    } else {
        state.cpu = true;
        state.cpu_dtype = dtype;
    }
    restore_.emplace(state);
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
