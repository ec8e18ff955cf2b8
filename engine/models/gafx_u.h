#pragma once
// GAFX-U (paper section 3.1.1): Hybrid Demucs used as a feature extractor. For each of its
// sources the time branch's waveform is turned into a magnitude map with the model's own
// STFT and added to the spectral branch's magnitude; the source maps are stacked along time
// and the bins averaged in groups down to 128: [B, sources * frames, 128], i.e. 4 x 469 = 1876
// frames for 30 s at 16 kHz with the paper's (hdemucs_high) model.
#include "models/feature_extractor.h"
#include "models/hdemucs.h"

#include <cstdint>
#include <string>

namespace gafx::models {

struct GafxUConfig {
    HDemucsConfig hdemucs = hdemucs_high();
    int sample_rate = 16000;
    int64_t bins = 128;  // must divide hdemucs.nfft / 2
};

GafxUConfig gafx_u_paper();
GafxUConfig gafx_u_small();  // hdemucs_small: 128 STFT bins, so no grouping

class GafxU : public FeatureExtractor {
public:
    explicit GafxU(GafxUConfig config = {});

    // [B, 1 or 2, T] at 16 kHz (mono is duplicated) -> [B, sources * ceil(T / hop), bins].
    torch::Tensor forward(const torch::Tensor& wave) override;
    std::string name() const override { return "gafx-u"; }
    int sample_rate() const override { return config_.sample_rate; }
    int input_channels() const override { return int(config_.hdemucs.audio_channels); }
    int64_t output_frames(int64_t samples) const override;
    int64_t feature_bins() const override { return config_.bins; }
    bool set_activation_checkpointing(bool on) override {
        hdemucs_->set_recompute(on);
        return true;
    }

    // Registered as "hdemucs", so torchaudio weights load under the prefix "hdemucs.".
    HDemucs& hdemucs() { return hdemucs_; }
    const GafxUConfig& config() const { return config_; }

private:
    GafxUConfig config_;
    HDemucs hdemucs_{nullptr};
};

} // namespace gafx::models
