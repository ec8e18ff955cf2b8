#pragma once
// Hybrid Demucs (Défossez 2021) as torchaudio 0.13 builds it: a waveform U-Net and a
// spectrogram U-Net (complex STFT as channels) that share their innermost layers.
// Parameter names and shapes match torchaudio's HDemucs state_dict exactly, so its trained
// weights (hdemucs_high) load 1:1.
#include "models/hdemucs_layers.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace gafx::models {

// Defaults are torchaudio's hdemucs_high (nfft 4096, depth 6, 83 639 368 parameters).
struct HDemucsConfig {
    std::vector<std::string> sources{"drums", "bass", "other", "vocals"};
    int64_t audio_channels = 2;
    int64_t channels = 48;
    int64_t growth = 2;
    int64_t nfft = 4096;
    int64_t depth = 6;
    double freq_emb = 0.2;     // weight of the frequency embedding; 0 leaves it out
    double emb_scale = 10;
    bool emb_smooth = true;
    int64_t kernel_size = 8;
    int64_t time_stride = 2;   // stride of the layers after the branches merge
    int64_t stride = 4;
    int64_t context = 1;       // decoder rewrite conv context
    int64_t context_enc = 0;
    int64_t norm_starts = 4;   // layer index from which GroupNorm is used
    int64_t norm_groups = 4;
    int64_t dconv_depth = 2;
    double dconv_comp = 4;
    int64_t dconv_attn = 4;    // layer index from which DConv has LocalState attention
    int64_t dconv_lstm = 4;    // layer index from which DConv has a BLSTM
    double dconv_init = 1e-4;

    int64_t hop_length() const { return nfft / 4; }
    int64_t freq_bins() const { return nfft / 2; }  // the Nyquist bin is dropped
    // STFT frames for a waveform of `samples`: the spectral branch's time axis.
    int64_t frames(int64_t samples) const { return (samples + hop_length() - 1) / hop_length(); }
};

HDemucsConfig hdemucs_high();    // the paper's model, torchaudio.models.hdemucs_high
HDemucsConfig hdemucs_medium();  // torchaudio.models.hdemucs_medium (nfft 2048)
HDemucsConfig hdemucs_low();     // torchaudio.models.hdemucs_low (nfft 1024, depth 5)
// The same graph small enough for CPU tests (40 284 parameters) that still has every kind of
// layer: padded and unpadded frequency convs, the merged time layer, GroupNorm, BLSTM
// (chunked past 200 frames), LocalState and the frequency embedding.
HDemucsConfig hdemucs_small();

// Both branches' outputs before torchaudio adds them: `spectral` is the complex spectrogram
// per source [B, S, C, nfft/2, frames], `time` the waveform per source [B, S, C, T], both
// de-normalised. HDemucs' separated sources are time + ispec(spectral).
struct HDemucsBranches {
    torch::Tensor spectral;
    torch::Tensor time;
};

class HDemucsImpl : public torch::nn::Module {
public:
    explicit HDemucsImpl(HDemucsConfig config = {});

    // [B, audio_channels, T] -> separated sources [B, S, audio_channels, T].
    torch::Tensor forward(const torch::Tensor& mixture);
    HDemucsBranches branches(const torch::Tensor& mixture);

    // The model's STFT: complex [..., nfft/2, ceil(T / hop)], padded so that the frame count
    // is exactly the length over the hop (reflect padding, centred frames trimmed).
    torch::Tensor spec(const torch::Tensor& wave) const;
    torch::Tensor ispec(const torch::Tensor& spectrum, int64_t length) const;

    const HDemucsConfig& config() const { return config_; }
    // Activation checkpointing per encoder and decoder layer (models/recompute): training keeps
    // only each layer's inputs and outputs, the skips the decoders need anyway.
    void set_recompute(bool on) { recompute_ = on; }

private:
    torch::Tensor encode(hdemucs::HEncLayerImpl& layer, const torch::Tensor& x, const torch::Tensor& inject);
    std::pair<torch::Tensor, torch::Tensor> decode(hdemucs::HDecLayerImpl& layer, const torch::Tensor& x,
                                                   const torch::Tensor& skip, int64_t length);

    HDemucsConfig config_;
    bool recompute_ = false;
    torch::nn::ModuleList freq_encoder, freq_decoder, time_encoder, time_decoder;
    hdemucs::ScaledEmbedding freq_emb{nullptr};
};
TORCH_MODULE(HDemucs);

} // namespace gafx::models
