#pragma once
// Log-mel filterbank with the exact arithmetic of torchaudio.compliance.kaldi.fbank, as AST calls
// it (htk_compat, hanning window, no dither, no energy column), so the mel baseline sees the same
// features as the published AST numbers. Parity with torchaudio 0.13 is pinned by tests/engine/test_fbank.
#include <torch/types.h>

#include <cstdint>

namespace gafx::audio {

// Kaldi options that cannot change AST's output are left out: with dither 0 and no energy column,
// energy_floor, raw_energy and htk_compat (which only places that column) do nothing.
struct FbankOptions {
    int sample_rate = 22050;
    int num_mel_bins = 128;
    double frame_length_ms = 25.0;
    double frame_shift_ms = 10.0;
    double preemphasis = 0.97;
    double low_freq = 20.0;
    double high_freq = 0.0; // <= 0: offset from Nyquist
    bool remove_dc_offset = true;
    bool round_to_power_of_two = true;
};

// Samples per frame and per hop, truncated the way torchaudio does (22050 Hz: 551 and 220).
int64_t fbank_window_size(const FbankOptions& o);
int64_t fbank_window_shift(const FbankOptions& o);

// Frames Kaldi's snip_edges=true yields: 1 + (samples - window) / shift, 0 when too short.
int64_t fbank_frames(int64_t samples, const FbankOptions& o);

// [num_mel_bins, fft_size / 2 + 1] triangular weights on the Kaldi mel scale (last column zero).
torch::Tensor kaldi_mel_banks(const FbankOptions& o);

// wave: float32 [T] or [B, T] in whatever scale the caller wants (torchaudio's [-1, 1] for AST).
// Returns [frames, bins] or [B, frames, bins]. Throws gafx::Error for bad options or audio shorter
// than one window (torchaudio asserts there too).
torch::Tensor kaldi_fbank(const torch::Tensor& wave, const FbankOptions& o = {});

// What kaldi_fbank builds on every call, for one dtype and device: the window and the mel banks
// (made on the host, so on a GPU each call would copy them over and wait; a step that did could
// not be captured as a CUDA graph either).
struct FbankTables {
    torch::Tensor window;  // [window size]
    torch::Tensor banks_t; // [fft_size / 2 + 1, num_mel_bins]
    bool fits(const torch::Tensor& wave) const {
        return window.defined() && window.device() == wave.device() && window.scalar_type() == wave.scalar_type();
    }
};
FbankTables fbank_tables(const FbankOptions& o, const torch::TensorOptions& options);
// kaldi_fbank with tables from fbank_tables(o, wave.options()): the same numbers.
torch::Tensor kaldi_fbank(const torch::Tensor& wave, const FbankOptions& o, const FbankTables& tables);

} // namespace gafx::audio
