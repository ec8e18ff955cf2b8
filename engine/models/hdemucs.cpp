#include "models/hdemucs.h"

#include "core/error.h"
#include "models/recompute.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/padding.h>
#include <torch/nn/modules/conv.h>

#include <algorithm>
#include <cmath>
#include <memory>

namespace gafx::models {

namespace F = torch::nn::functional;
using hdemucs::HDecLayer;
using hdemucs::HDecLayerImpl;
using hdemucs::HEncLayer;
using hdemucs::HEncLayerImpl;
using hdemucs::LayerOptions;

HDemucsConfig hdemucs_high() { return {}; }

HDemucsConfig hdemucs_medium() {
    HDemucsConfig c;
    c.nfft = 2048;
    return c;
}

HDemucsConfig hdemucs_low() {
    HDemucsConfig c;
    c.nfft = 1024;
    c.depth = 5;
    return c;
}

HDemucsConfig hdemucs_small() {
    HDemucsConfig c;
    c.channels = 4;
    c.nfft = 256;
    c.depth = 4;
    c.norm_starts = 2;
    c.dconv_attn = 2;
    c.dconv_lstm = 2;
    return c;
}

namespace {

// torchaudio's _rescale_module: every conv's initial weights scaled towards std 0.1.
void rescale_convs(torch::nn::Module& root) {
    torch::NoGradGuard no_grad;
    for (const auto& m : root.modules(/*include_self=*/false)) {
        const bool conv = dynamic_cast<torch::nn::Conv1dImpl*>(m.get()) || dynamic_cast<torch::nn::Conv2dImpl*>(m.get()) ||
                          dynamic_cast<torch::nn::ConvTranspose1dImpl*>(m.get()) ||
                          dynamic_cast<torch::nn::ConvTranspose2dImpl*>(m.get());
        if (!conv) continue;
        auto params = m->named_parameters(false);
        auto* weight = params.find("weight");
        auto* bias = params.find("bias");
        const auto scale = (weight->std() / 0.1).sqrt();
        weight->div_(scale);
        if (bias && bias->defined()) bias->div_(scale);
    }
}

// F.pad in reflect mode needs the input longer than the padding; torchaudio zero-extends first.
torch::Tensor pad1d_reflect(torch::Tensor x, int64_t left, int64_t right) {
    const int64_t max_pad = std::max(left, right);
    if (x.size(-1) <= max_pad) x = F::pad(x, F::PadFuncOptions({0, max_pad - x.size(-1) + 1}));
    return F::pad(x, F::PadFuncOptions({left, right}).mode(torch::kReflect));
}

template <typename Layer>
Layer& at_index(torch::nn::ModuleList& list, size_t i) {
    return *list->ptr(i)->as<Layer>();
}

} // namespace

HDemucsImpl::HDemucsImpl(HDemucsConfig c) : config_(std::move(c)) {
    if (config_.sources.empty() || config_.audio_channels < 1 || config_.depth < 1 || config_.nfft < 8 ||
        config_.channels < 1)
        throw Error({}, "invalid HDemucs configuration", "sources, channels, depth and nfft must be positive");
    freq_encoder = register_module("freq_encoder", torch::nn::ModuleList());
    freq_decoder = register_module("freq_decoder", torch::nn::ModuleList());
    time_encoder = register_module("time_encoder", torch::nn::ModuleList());
    time_decoder = register_module("time_decoder", torch::nn::ModuleList());

    // Decoders are built outermost-first like the encoders but run innermost-first.
    std::vector<std::shared_ptr<HDecLayerImpl>> freq_dec, time_dec;
    int64_t chin = config_.audio_channels, chin_z = chin * 2;  // the spectral branch has re and im
    int64_t chout = config_.channels, chout_z = config_.channels;
    int64_t freqs = config_.nfft / 2;
    for (int64_t index = 0; index < config_.depth; ++index) {
        LayerOptions kw;
        kw.dconv.lstm = index >= config_.dconv_lstm;
        kw.dconv.attn = index >= config_.dconv_attn;
        kw.dconv.depth = config_.dconv_depth;
        kw.dconv.compress = config_.dconv_comp;
        kw.dconv.init = config_.dconv_init;
        kw.group_norm = index >= config_.norm_starts;
        kw.norm_groups = config_.norm_groups;
        kw.freq = freqs > 1;
        kw.stride = config_.stride;
        kw.kernel_size = config_.kernel_size;
        if (!kw.freq) {
            if (freqs != 1)
                throw Error({}, "invalid HDemucs configuration", "the frequency axis must shrink to exactly 1");
            kw.kernel_size = config_.time_stride * 2;
            kw.stride = config_.time_stride;
        }
        bool last_freq = false;
        if (kw.freq && freqs <= config_.kernel_size) {
            // The last frequency layer folds the remaining bins into channels.
            kw.kernel_size = freqs;
            kw.pad = false;
            last_freq = true;
        }
        LayerOptions kwt = kw;
        kwt.freq = false;
        kwt.kernel_size = config_.kernel_size;
        kwt.stride = config_.stride;
        kwt.pad = true;
        if (last_freq) {
            chout_z = std::max(chout, chout_z);
            chout = chout_z;
        }

        LayerOptions enc = kw;
        enc.context = config_.context_enc;
        freq_encoder->push_back(HEncLayer(chin_z, chout_z, enc));
        if (kw.freq) {
            if (last_freq && config_.nfft == 2048) {
                kwt.stride = 2;
                kwt.kernel_size = 4;
            }
            LayerOptions tenc = kwt;
            tenc.context = config_.context_enc;
            tenc.empty = last_freq;
            time_encoder->push_back(HEncLayer(chin, chout, tenc));
        }
        if (index == 0) {
            chin = config_.audio_channels * int64_t(config_.sources.size());
            chin_z = chin * 2;
        }
        LayerOptions dec = kw;
        dec.context = config_.context;
        dec.last = index == 0;
        freq_dec.insert(freq_dec.begin(), std::make_shared<HDecLayerImpl>(chout_z, chin_z, dec));
        if (kw.freq) {
            LayerOptions tdec = kwt;
            tdec.context = config_.context;
            tdec.last = index == 0;
            tdec.empty = last_freq;
            time_dec.insert(time_dec.begin(), std::make_shared<HDecLayerImpl>(chout, chin, tdec));
        }

        chin = chout;
        chin_z = chout_z;
        chout = config_.growth * chout;
        chout_z = config_.growth * chout_z;
        if (kw.freq) freqs = freqs <= config_.kernel_size ? 1 : freqs / config_.stride;
        if (index == 0 && config_.freq_emb != 0.0)
            freq_emb = hdemucs::ScaledEmbedding(freqs, chin_z, config_.emb_scale, config_.emb_smooth);
    }
    for (auto& d : freq_dec) freq_decoder->push_back(HDecLayer(d));
    for (auto& d : time_dec) time_decoder->push_back(HDecLayer(d));
    // Registered last, as in torchaudio, so the parameter order matches its state_dict.
    if (freq_emb) register_module("freq_emb", freq_emb);
    rescale_convs(*this);
}

torch::Tensor HDemucsImpl::spec(const torch::Tensor& wave) const {
    const int64_t hl = config_.hop_length(), nfft = config_.nfft, length = wave.size(-1);
    const int64_t le = config_.frames(length);
    const int64_t pad = hl / 2 * 3;
    auto x = pad1d_reflect(wave, pad, pad + le * hl - length);
    auto lead = x.sizes().vec();
    lead.pop_back();
    auto z = at::stft(x.reshape({-1, x.size(-1)}), nfft, hl, nfft, torch::hann_window(nfft, x.options()),
                      /*center=*/true, "reflect", /*normalized=*/true, /*onesided=*/c10::nullopt,
                      /*return_complex=*/true);
    lead.push_back(z.size(-2));
    lead.push_back(z.size(-1));
    z = z.view(lead).slice(-2, 0, nfft / 2);
    if (z.size(-1) != le + 4)
        throw Error({}, "HDemucs STFT frame count", "expected " + std::to_string(le + 4) + " frames");
    return z.slice(-1, 2, 2 + le);
}

torch::Tensor HDemucsImpl::ispec(const torch::Tensor& spectrum, int64_t length) const {
    const int64_t hl = config_.hop_length();
    auto z = at::constant_pad_nd(spectrum, {2, 2, 0, 1});  // back the Nyquist bin and the 2 + 2 trimmed frames
    const int64_t pad = hl / 2 * 3;
    const int64_t le = hl * config_.frames(length) + 2 * pad;
    auto lead = z.sizes().vec();
    const int64_t freqs = z.size(-2), frames = z.size(-1);
    lead.resize(lead.size() - 2);
    const int64_t n_fft = 2 * freqs - 2;
    auto x = at::istft(z.reshape({-1, freqs, frames}), n_fft, hl, n_fft,
                       torch::hann_window(n_fft, z.options().dtype(c10::toRealValueType(z.scalar_type()))),
                       /*center=*/true, /*normalized=*/true, /*onesided=*/c10::nullopt, le);
    lead.push_back(x.size(-1));
    return x.view(lead).slice(-1, pad, pad + length);
}

torch::Tensor HDemucsImpl::encode(HEncLayerImpl& layer, const torch::Tensor& x, const torch::Tensor& inject) {
    if (!recompute_) return layer.forward(x, inject);
    auto* l = &layer;
    if (!inject.defined()) return recompute(layer, x, [l](const torch::Tensor& in) { return l->forward(in); });
    return recompute(layer, {x, inject}, [l](const Tensors& in) { return Tensors{l->forward(in[0], in[1])}; })[0];
}

std::pair<torch::Tensor, torch::Tensor> HDemucsImpl::decode(HDecLayerImpl& layer, const torch::Tensor& x,
                                                            const torch::Tensor& skip, int64_t length) {
    if (!recompute_) return layer.forward(x, skip, length);
    auto* l = &layer;
    Tensors inputs{x};
    if (skip.defined()) inputs.push_back(skip);
    const auto out = recompute(layer, inputs, [l, length](const Tensors& in) {
        auto [z, y] = l->forward(in[0], in.size() > 1 ? in[1] : torch::Tensor(), length);
        return Tensors{z, y};
    });
    return {out[0], out[1]};
}

HDemucsBranches HDemucsImpl::branches(const torch::Tensor& mixture) {
    if (mixture.dim() != 3 || mixture.size(1) != config_.audio_channels)
        throw Error({}, "HDemucs input shape",
                    "expected [batch, " + std::to_string(config_.audio_channels) + ", samples]");
    const int64_t length = mixture.size(-1);

    // Complex spectrogram as channels: [B, C * 2 (re, im), F, T].
    auto z = spec(mixture);
    const int64_t B = z.size(0), C = z.size(1), Fq = z.size(2), T = z.size(3);
    auto x = at::view_as_real(z).permute({0, 1, 4, 2, 3}).reshape({B, C * 2, Fq, T});

    const auto mean = x.mean({1, 2, 3}, true);
    const auto std = x.std({1, 2, 3}, /*unbiased=*/true, /*keepdim=*/true);
    x = (x - mean) / (1e-5 + std);
    const auto meant = mixture.mean({1, 2}, true);
    const auto stdt = mixture.std({1, 2}, /*unbiased=*/true, /*keepdim=*/true);
    auto xt = (mixture - meant) / (1e-5 + stdt);

    std::vector<torch::Tensor> saved, saved_t;
    std::vector<int64_t> lengths, lengths_t;
    for (size_t idx = 0; idx < freq_encoder->size(); ++idx) {
        lengths.push_back(x.size(-1));
        torch::Tensor inject;
        if (idx < time_encoder->size()) {
            lengths_t.push_back(xt.size(-1));
            auto& tenc = at_index<HEncLayerImpl>(time_encoder, idx);
            xt = encode(tenc, xt, {});
            if (!tenc.empty())
                saved_t.push_back(xt);
            else
                inject = xt;  // just the first conv: now the same shape as the spectral branch
        }
        x = encode(at_index<HEncLayerImpl>(freq_encoder, idx), x, inject);
        if (idx == 0 && freq_emb) {
            // Lets the otherwise translation-invariant convs know where they are on the F axis.
            auto frs = torch::arange(x.size(-2), x.options().dtype(torch::kLong));
            auto emb = freq_emb(frs).t().unsqueeze(0).unsqueeze(-1).expand_as(x);
            x = x + config_.freq_emb * emb;
        }
        saved.push_back(x);
    }

    // The decoders start from zeros: everything reaches them through the skips.
    x = torch::zeros_like(x);
    xt = torch::zeros_like(x);
    const size_t offset = freq_decoder->size() - time_decoder->size();
    auto pop = [](auto& v) {
        auto back = v.back();
        v.pop_back();
        return back;
    };
    for (size_t idx = 0; idx < freq_decoder->size(); ++idx) {
        auto [out, pre] = decode(at_index<HDecLayerImpl>(freq_decoder, idx), x, pop(saved), pop(lengths));
        x = out;
        if (idx < offset) continue;
        auto& tdec = at_index<HDecLayerImpl>(time_decoder, idx - offset);
        const int64_t length_t = pop(lengths_t);
        if (tdec.empty()) {
            if (pre.size(2) != 1) throw Error({}, "HDemucs branch split", "the spectral branch has not reached one bin");
            xt = decode(tdec, pre.select(2, 0), {}, length_t).first;
        } else {
            xt = decode(tdec, xt, pop(saved_t), length_t).first;
        }
    }

    const int64_t S = int64_t(config_.sources.size());
    x = x.view({B, S, -1, Fq, T}) * std.unsqueeze(1) + mean.unsqueeze(1);
    // Channels are (audio channel, re/im) pairs; turn each pair back into one complex value.
    auto spectral = at::view_as_complex(
        x.view({B, S, -1, 2, Fq, T}).permute({0, 1, 2, 4, 5, 3}).contiguous());
    auto time = xt.view({B, S, -1, length}) * stdt.unsqueeze(1) + meant.unsqueeze(1);
    return {spectral, time};
}

torch::Tensor HDemucsImpl::forward(const torch::Tensor& mixture) {
    auto b = branches(mixture);
    return b.time + ispec(b.spectral, mixture.size(-1));
}

} // namespace gafx::models
