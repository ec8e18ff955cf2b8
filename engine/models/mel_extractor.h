#pragma once
// The mel baseline: AST's Kaldi log-mel fbank (audio/fbank.h) as a feature extractor with nothing
// to train. Dataset mean/std normalisation is not here: it belongs to the run, computed on its
// training split, and is applied by whoever holds those statistics.
#include "audio/fbank.h"
#include "models/feature_extractor.h"

#include <cstdint>
#include <mutex>

namespace gafx::models {

struct MelConfig {
    int sample_rate = 22050;
    int num_mel_bins = 128;
    // 0: every frame the audio yields (3005 for 661 500 samples at 22050 Hz). Otherwise a fixed
    // length, as AST's target_length: later frames are cropped, missing ones are zero rows
    // appended at the end (AST's ZeroPad2d), so e.g. table 3 can run the mel map at 3308 frames.
    int64_t frames = 0;
    // AST's dataloader subtracts each clip's mean before fbank. Per-frame DC removal makes that
    // a no-op in exact arithmetic, but float32 rounding near the log floor moves features by up
    // to ~4e-3. Off by default so `mel` is exactly torchaudio's kaldi.fbank (what `gafx
    // features` promises); an experiment reproducing AST's pipeline bit for bit turns it on.
    bool subtract_mean = false;

    audio::FbankOptions fbank() const;
    // Throws gafx::Error naming the bad value.
    void validate() const;
};

class MelExtractor : public FeatureExtractor {
public:
    explicit MelExtractor(MelConfig config = {});

    // wave [B, 1, T] -> [B, output_frames(T), num_mel_bins]. Throws gafx::Error for other
    // shapes or audio shorter than one 25 ms window.
    torch::Tensor forward(const torch::Tensor& wave) override;
    std::string name() const override { return "mel"; }
    int sample_rate() const override { return config_.sample_rate; }
    int input_channels() const override { return 1; }
    int64_t output_frames(int64_t samples) const override;
    int64_t feature_bins() const override { return config_.num_mel_bins; }
    std::string front_end_key() const override;

    const MelConfig& config() const { return config_; }

private:
    MelConfig config_;
    // For the last batch's device and dtype; the loader's threads share one extractor.
    std::mutex tables_mutex_;
    audio::FbankTables tables_;
};

} // namespace gafx::models
