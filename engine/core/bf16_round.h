#pragma once
// fp32 to bf16 as c10::BFloat16(float) rounds (to nearest, ties to even; NaN kept, quiet) but
// without its branch, which keeps a loop calling it scalar: train/fused_adam and
// models/layer_norm_rows write bf16 in loops the compiler vectorises.
#include <c10/util/BFloat16.h>

#include <cstdint>
#include <cstring>

namespace gafx {

inline c10::BFloat16 round_to_bf16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    const uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
    return c10::BFloat16(uint16_t((u & 0x7FFFFFFFu) > 0x7F800000u ? 0x7FC0u : rounded), c10::BFloat16::from_bits());
}

} // namespace gafx
