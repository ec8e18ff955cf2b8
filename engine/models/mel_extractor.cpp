#include "models/mel_extractor.h"

#include "core/error.h"

#include <ATen/ATen.h>

#include <cstdio>
#include <string>
#include <vector>

namespace gafx::models {

audio::FbankOptions MelConfig::fbank() const {
    audio::FbankOptions o;
    o.sample_rate = sample_rate;
    o.num_mel_bins = num_mel_bins;
    return o;
}

void MelConfig::validate() const {
    if (sample_rate <= 0)
        throw Error({}, "mel: sample_rate must be positive, got " + std::to_string(sample_rate));
    if (num_mel_bins <= 3)
        throw Error({}, "mel: num_mel_bins must be at least 4, got " + std::to_string(num_mel_bins));
    if (frames < 0)
        throw Error({}, "mel: frames must be 0 (natural length) or positive, got " + std::to_string(frames));
}

MelExtractor::MelExtractor(MelConfig config) : config_(config) { config_.validate(); }

std::string MelExtractor::front_end_key() const {
    // Bump the version whenever kaldi_fbank's arithmetic changes: cached features must not
    // outlive the code that made them.
    const audio::FbankOptions o = config_.fbank();
    char key[256];
    std::snprintf(key, sizeof key, "kaldi-fbank-v1 sr=%d bins=%d len=%g shift=%g pre=%g lo=%g hi=%g dc=%d pow2=%d frames=%lld mean=%d",
                  o.sample_rate, o.num_mel_bins, o.frame_length_ms, o.frame_shift_ms, o.preemphasis, o.low_freq,
                  o.high_freq, int(o.remove_dc_offset), int(o.round_to_power_of_two), (long long)config_.frames,
                  int(config_.subtract_mean));
    return key;
}

int64_t MelExtractor::output_frames(int64_t samples) const {
    return config_.frames > 0 ? config_.frames : audio::fbank_frames(samples, config_.fbank());
}

torch::Tensor MelExtractor::forward(const torch::Tensor& wave) {
    if (wave.dim() != 3 || wave.size(1) != 1)
        throw Error({}, "mel: expected a mono waveform batch [B, 1, T], got " + std::to_string(wave.dim()) +
                            " dimensions" + (wave.dim() == 3 ? " with " + std::to_string(wave.size(1)) + " channels" : ""));
    auto mono = wave.select(1, 0);
    if (config_.subtract_mean) {
        // Each item's own full-length mean, as AST's waveform - waveform.mean() computes it, so
        // an item's features do not depend on its batch.
        std::vector<torch::Tensor> centered;
        centered.reserve(size_t(mono.size(0)));
        for (int64_t i = 0; i < mono.size(0); ++i)
            centered.push_back(mono[i] - mono[i].mean());
        if (!centered.empty())
            mono = torch::stack(centered);
    }
    audio::FbankTables tables;
    {
        std::lock_guard<std::mutex> lock(tables_mutex_);
        if (!tables_.fits(mono)) tables_ = audio::fbank_tables(config_.fbank(), mono.options());
        tables = tables_;
    }
    auto mel = audio::kaldi_fbank(mono, config_.fbank(), tables);
    const int64_t have = mel.size(1), want = config_.frames;
    if (want > 0 && have > want)
        mel = mel.narrow(1, 0, want).contiguous();
    else if (want > 0 && have < want)
        mel = at::constant_pad_nd(mel, {0, 0, 0, want - have}, 0);
    return mel;
}

} // namespace gafx::models
