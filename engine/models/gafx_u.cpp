#include "models/gafx_u.h"

#include "core/error.h"

#include <ATen/ATen.h>

#include <utility>

namespace gafx::models {

GafxUConfig gafx_u_paper() { return {}; }

GafxUConfig gafx_u_small() {
    GafxUConfig c;
    c.hdemucs = hdemucs_small();
    return c;
}

GafxU::GafxU(GafxUConfig config) : config_(std::move(config)) {
    const int64_t stft_bins = config_.hdemucs.freq_bins();
    if (config_.bins < 1 || stft_bins % config_.bins != 0)
        throw Error({}, "invalid GAFX-U configuration",
                    "feature bins (" + std::to_string(config_.bins) + ") must divide the " +
                        std::to_string(stft_bins) + " STFT bins");
    hdemucs_ = register_module("hdemucs", HDemucs(config_.hdemucs));
}

int64_t GafxU::output_frames(int64_t samples) const {
    return int64_t(config_.hdemucs.sources.size()) * config_.hdemucs.frames(samples);
}

torch::Tensor GafxU::forward(const torch::Tensor& wave) {
    const int64_t channels = config_.hdemucs.audio_channels;
    if (wave.dim() != 3 || (wave.size(1) != 1 && wave.size(1) != channels))
        throw Error({}, "GAFX-U input shape", "expected [batch, 1 or " + std::to_string(channels) + ", samples]");
    // The pretrained separator expects stereo; a mono track becomes two identical channels.
    const auto mixture = wave.size(1) == channels ? wave : wave.expand({-1, channels, -1}).contiguous();
    const int64_t B = mixture.size(0), length = mixture.size(-1);
    const int64_t S = int64_t(config_.hdemucs.sources.size());

    auto branches = hdemucs_->branches(mixture);
    auto time_spec = hdemucs_->spec(branches.time.reshape({B * S, channels, length}));
    auto spectral = branches.spectral.abs();
    auto magnitude = time_spec.abs().view_as(spectral) + spectral;
    // [B, S, C, F, T] -> channel mean -> sources stacked along time -> [B, S * T, F].
    auto maps = magnitude.mean(2).transpose(-1, -2);
    const int64_t frames = maps.size(2), stft_bins = maps.size(3);
    maps = maps.reshape({B, S * frames, stft_bins});
    return maps.view({B, S * frames, config_.bins, stft_bins / config_.bins}).mean(-1);
}

} // namespace gafx::models
