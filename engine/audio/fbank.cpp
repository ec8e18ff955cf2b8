// Mirrors torchaudio/compliance/kaldi.py op for op, in the input's dtype, because "close to Kaldi"
// is not enough: float32 rounding in the mel banks and the log floor shows up in the features,
// and the mel baseline's claim is that it sees exactly what AST saw.
#include "audio/fbank.h"

#include "core/error.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace gafx::audio {
namespace {

constexpr double kMsToSeconds = 0.001;

[[noreturn]] void fail(const std::string& reason) {
    throw Error({}, "fbank: " + reason);
}

int64_t next_power_of_two(int64_t x) {
    int64_t p = 1;
    while (p < x)
        p *= 2;
    return p;
}

int64_t padded_window_size(const FbankOptions& o) {
    const int64_t w = fbank_window_size(o);
    return o.round_to_power_of_two ? next_power_of_two(w) : w;
}

double mel_scale(double hz) { return 1127.0 * std::log(1.0 + hz / 700.0); }

torch::Tensor mel_scale(const torch::Tensor& hz) { return 1127.0 * (1.0 + hz / 700.0).log(); }

void check(const FbankOptions& o) {
    if (o.sample_rate <= 0)
        fail("sample rate must be positive, got " + std::to_string(o.sample_rate));
    if (fbank_window_size(o) < 2)
        fail("the frame length gives a window under 2 samples");
    if (fbank_window_shift(o) <= 0)
        fail("the frame shift gives a hop of 0 samples");
    if (padded_window_size(o) % 2 != 0)
        fail("the FFT size must be even: use round_to_power_of_two or change the frame length");
    if (!(o.preemphasis >= 0.0 && o.preemphasis <= 1.0))
        fail("the preemphasis coefficient must lie in [0, 1]");
    if (o.num_mel_bins <= 3)
        fail("at least 4 mel bins are needed");
}

} // namespace

int64_t fbank_window_size(const FbankOptions& o) {
    // Same left-to-right double product and truncation as Python's int(sr * ms * 0.001):
    // 22050 Hz gives 551.25 -> 551, not a rounded 551 by luck of another order.
    return static_cast<int64_t>(double(o.sample_rate) * o.frame_length_ms * kMsToSeconds);
}

int64_t fbank_window_shift(const FbankOptions& o) {
    return static_cast<int64_t>(double(o.sample_rate) * o.frame_shift_ms * kMsToSeconds);
}

int64_t fbank_frames(int64_t samples, const FbankOptions& o) {
    const int64_t w = fbank_window_size(o), s = fbank_window_shift(o);
    if (w <= 0 || s <= 0 || samples < w)
        return 0;
    return 1 + (samples - w) / s;
}

torch::Tensor kaldi_mel_banks(const FbankOptions& o) {
    check(o);
    const int64_t padded = padded_window_size(o);
    const double nyquist = 0.5 * o.sample_rate;
    const double high = o.high_freq <= 0.0 ? o.high_freq + nyquist : o.high_freq;
    if (!(o.low_freq >= 0.0 && o.low_freq < nyquist && high > 0.0 && high <= nyquist && o.low_freq < high))
        fail("mel band edges " + std::to_string(o.low_freq) + "-" + std::to_string(high) +
             " Hz do not fit below Nyquist " + std::to_string(nyquist) + " Hz");

    const double fft_bin_width = double(o.sample_rate) / double(padded);
    const double mel_low = mel_scale(o.low_freq);
    const double mel_high = mel_scale(high);
    const double mel_delta = (mel_high - mel_low) / (o.num_mel_bins + 1);

    // torchaudio builds these in the default dtype (float32) from an int64 arange and Python
    // doubles; the same tensor-scalar ops here round the same way.
    const auto bin = torch::arange(o.num_mel_bins, torch::kLong).unsqueeze(1);
    const auto left = mel_low + bin * mel_delta;
    const auto center = mel_low + (bin + 1.0) * mel_delta;
    const auto right = mel_low + (bin + 2.0) * mel_delta;
    const auto mel = mel_scale(fft_bin_width * torch::arange(double(padded / 2), torch::kFloat)).unsqueeze(0);

    const auto up = (mel - left) / (center - left);
    const auto down = (right - mel) / (right - center);
    const auto banks = torch::max(torch::zeros({1}), torch::min(up, down));
    // The Nyquist bin gets no weight.
    return at::constant_pad_nd(banks, {0, 1}, 0);
}

namespace {

// One waveform [T] -> [frames, bins], as torchaudio computes it per call.
torch::Tensor fbank_one(const torch::Tensor& wave, const FbankOptions& o, const torch::Tensor& window,
                        const torch::Tensor& banks_t) {
    const int64_t w = fbank_window_size(o), shift = fbank_window_shift(o), padded = padded_window_size(o);
    // [frames, w]: a strided view, like torchaudio's as_strided with snip_edges.
    auto frames = wave.unfold(0, w, shift);
    if (o.remove_dc_offset)
        frames = frames - frames.mean(1, /*keepdim=*/true);
    if (o.preemphasis != 0.0) {
        // x[j] - k * x[j-1] with x[-1] = x[0] (torchaudio's replicate pad).
        const auto previous = torch::cat({frames.narrow(1, 0, 1), frames.narrow(1, 0, w - 1)}, 1);
        frames = frames - o.preemphasis * previous;
    }
    frames = frames * window;
    // rfft's own zero padding to n gives the same transform as padding first, without the copy.
    const auto power = at::fft_rfft(frames, padded).abs().pow(2.0);
    const auto mel = torch::mm(power, banks_t);
    return torch::clamp_min(mel, double(std::numeric_limits<float>::epsilon())).log();
}

} // namespace

FbankTables fbank_tables(const FbankOptions& o, const torch::TensorOptions& options) {
    check(o);
    return {torch::hann_window(fbank_window_size(o), /*periodic=*/false, options), kaldi_mel_banks(o).to(options).t()};
}

torch::Tensor kaldi_fbank(const torch::Tensor& wave, const FbankOptions& o) {
    // Tables only for a floating-point input: any other is refused below, as the waveform's fault.
    return kaldi_fbank(wave, o, wave.is_floating_point() ? fbank_tables(o, wave.options()) : FbankTables{});
}

torch::Tensor kaldi_fbank(const torch::Tensor& wave, const FbankOptions& o, const FbankTables& tables) {
    check(o);
    if (wave.dim() != 1 && wave.dim() != 2)
        fail("expected a waveform [T] or [B, T], got " + std::to_string(wave.dim()) + " dimensions");
    if (!wave.is_floating_point())
        fail("expected floating-point samples");
    const int64_t w = fbank_window_size(o);
    const int64_t samples = wave.size(-1);
    if (samples < w)
        fail(std::to_string(samples) + " samples is shorter than one " + std::to_string(w) + "-sample window");

    if (!tables.fits(wave) || tables.window.size(0) != w)
        fail("the fbank tables were made for another window, device or dtype");
    const auto& window = tables.window;
    const auto& banks_t = tables.banks_t;
    if (wave.dim() == 1)
        return fbank_one(wave, o, window, banks_t);
    // Item by item, not one big product: BLAS and pocketfft round differently for other row
    // counts, and a track's features must not depend on what it was batched with.
    if (wave.size(0) == 0)
        return torch::empty({0, fbank_frames(samples, o), o.num_mel_bins}, wave.options());
    std::vector<torch::Tensor> items;
    items.reserve(size_t(wave.size(0)));
    for (int64_t i = 0; i < wave.size(0); ++i)
        items.push_back(fbank_one(wave[i], o, window, banks_t));
    return torch::stack(items);
}

} // namespace gafx::audio
