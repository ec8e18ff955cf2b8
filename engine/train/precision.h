#pragma once
// Which arithmetic a run trains in, and the autocast scope that applies it. bf16 autocast
// keeps weights, optimiser state and reductions in fp32 and runs matmuls and convolutions in
// bf16: ~3x an fp32 matmul on CPUs with avx512_bf16/AMX, and the norm on recent GPUs. fp16
// needs loss scaling (the trainer does it) and is only offered on CUDA.
#include "core/autocast_state.h"

#include <torch/types.h>

#include <optional>
#include <string>

namespace gafx::train {

enum class Precision { Fp32, Bf16, Fp16 };
const char* to_string(Precision p);

// True when this CPU has native bf16 arithmetic (avx512_bf16 or amx_bf16 in /proc/cpuinfo).
bool cpu_has_bf16();

// "auto" -> bf16 where the device does it natively, fp16 on older GPUs, else fp32. An explicit
// choice the device cannot do throws gafx::Error saying why and what to pick instead.
Precision resolve_precision(const std::string& requested, const torch::Device& device);

// Autocast on for `device` in `precision` for the scope (nothing for fp32); nests like
// torch.autocast and clears the cast-weight cache when the outermost scope ends.
class AutocastScope {
public:
    AutocastScope(const torch::Device& device, Precision precision);

private:
    std::optional<autocast::Restore> restore_;
};

} // namespace gafx::train
