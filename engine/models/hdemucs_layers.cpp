#include "models/hdemucs_layers.h"

#include "core/error.h"
#include "models/gelu.h"
#include "models/working_weights.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/padding.h>

#include <cmath>
#include <string>

namespace gafx::models::hdemucs {

namespace F = torch::nn::functional;

namespace {
torch::nn::GroupNorm group_norm(torch::nn::Module& owner, const char* name, int64_t groups, int64_t channels) {
    return owner.register_module(name, torch::nn::GroupNorm(groups, channels));
}
// GroupNorm in fp32: CPU autocast (libtorch 1.13) leaves group_norm uncast, so a bf16
// activation would meet fp32 weights; statistics over long sequences want fp32 anyway. A
// float64 model (tests' reference) stays float64.
torch::Tensor maybe(const torch::nn::GroupNorm& norm, const torch::Tensor& x) {
    if (!norm) return x;
    return norm.ptr()->forward(x.scalar_type() == torch::kDouble ? x : x.to(torch::kFloat32));
}
} // namespace

ScaledEmbeddingImpl::ScaledEmbeddingImpl(int64_t num_embeddings, int64_t dim, double scale, bool smooth)
    : scale_(scale) {
    embedding = register_module("embedding", torch::nn::Embedding(num_embeddings, dim));
    torch::NoGradGuard no_grad;
    auto& w = embedding->weight;
    if (smooth) {
        // A sum of n gaussians grows as sqrt(n); dividing keeps the smoothed rows unit-scale.
        auto counts = torch::arange(1, num_embeddings + 1, w.options()).sqrt().unsqueeze(1);
        w.copy_(w.cumsum(0) / counts);
    }
    w.div_(scale);
}

torch::Tensor ScaledEmbeddingImpl::forward(const torch::Tensor& index) { return embedding(index) * scale_; }

LayerScaleImpl::LayerScaleImpl(int64_t channels, double init) {
    scale = register_parameter("scale", torch::full({channels}, init));
}

torch::Tensor LayerScaleImpl::forward(const torch::Tensor& x) { return scale.unsqueeze(1) * x; }

BLSTMImpl::BLSTMImpl(int64_t dim, int64_t layers, bool skip) : skip_(skip) {
    lstm = register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(dim, dim).num_layers(layers).bidirectional(true)));
    linear = register_module("linear", torch::nn::Linear(2 * dim, dim));
}

torch::Tensor BLSTMImpl::forward(const torch::Tensor& input) {
    const int64_t B = input.size(0), C = input.size(1), T = input.size(2);
    auto x = input;
    const bool framed = T > max_steps_;
    const int64_t width = max_steps_, stride = width / 2;
    int64_t nframes = 0;
    if (framed) {
        // torchaudio's _unfold: pad so that frames start every `stride` up to the end.
        nframes = (T + stride - 1) / stride;
        const int64_t target = (nframes - 1) * stride + width;
        auto frames = F::pad(x, F::PadFuncOptions({0, target - T})).unfold(-1, width, stride);
        x = frames.permute({0, 2, 1, 3}).reshape({-1, C, width});
    }
    x = std::get<0>(lstm(x.permute({2, 0, 1})));
    x = models::linear(linear, x).permute({1, 2, 0});
    if (framed) {
        // Keep each chunk's middle; the first keeps its start, the last its end.
        auto frames = x.reshape({B, -1, C, width});
        const int64_t limit = stride / 2;
        std::vector<torch::Tensor> out;
        for (int64_t k = 0; k < nframes; ++k) {
            auto f = frames.select(1, k);
            const int64_t begin = k == 0 ? 0 : limit;
            const int64_t end = k == nframes - 1 ? width : width - limit;
            out.push_back(f.slice(-1, begin, end));
        }
        x = torch::cat(out, -1).slice(-1, 0, T);
    }
    return skip_ ? x + input : x;
}

LocalStateImpl::LocalStateImpl(int64_t channels, int64_t heads, int64_t ndecay) : heads_(heads), ndecay_(ndecay) {
    if (channels % heads != 0)
        throw Error({}, "invalid HDemucs configuration",
                    "LocalState channels (" + std::to_string(channels) + ") must be divisible by heads");
    auto conv = [&](const char* name, int64_t out) {
        return register_module(name, torch::nn::Conv1d(torch::nn::Conv1dOptions(channels, out, 1)));
    };
    content = conv("content", channels);
    query = conv("query", channels);
    key = conv("key", channels);
    query_decay = conv("query_decay", heads * ndecay);
    if (ndecay) {
        // Decay starts near zero (after the sigmoid) so the initial window is as wide as possible.
        torch::NoGradGuard no_grad;
        query_decay->weight.mul_(0.01);
        query_decay->bias.fill_(-2);
    }
    proj = conv("proj", channels);
}

torch::Tensor LocalStateImpl::forward(const torch::Tensor& x) {
    const int64_t B = x.size(0), T = x.size(2);
    auto indexes = torch::arange(T, x.options());
    auto delta = indexes.unsqueeze(1) - indexes.unsqueeze(0);  // keys t (rows) minus queries s
    auto queries = models::conv(query, x).view({B, heads_, -1, T});
    auto keys = models::conv(key, x).view({B, heads_, -1, T});
    auto dots = at::einsum("bhct,bhcs->bhts", {keys, queries}) / std::sqrt(double(keys.size(2)));
    if (ndecay_) {
        auto decays = torch::arange(1, ndecay_ + 1, x.options());
        auto decay_q = torch::sigmoid(models::conv(query_decay, x).view({B, heads_, -1, T})) / 2;
        auto decay_kernel = -decays.view({-1, 1, 1}) * delta.abs() / std::sqrt(double(ndecay_));
        dots = dots + at::einsum("fts,bhfs->bhts", {decay_kernel, decay_q});
    }
    // No attending to oneself.
    dots = dots.masked_fill(torch::eye(T, x.options().dtype(torch::kBool)), -100);
    auto weights = torch::softmax(dots, 2);
    auto values = models::conv(content, x).view({B, heads_, -1, T});
    auto result = at::einsum("bhts,bhct->bhcs", {weights, values}).reshape({B, -1, T});
    return x + models::conv(proj, result);
}

DConvBranchImpl::DConvBranchImpl(int64_t channels, int64_t dilation, const DConvOptions& o) {
    const auto hidden = static_cast<int64_t>(double(channels) / o.compress);
    const int64_t padding = dilation * (o.kernel_size / 2);
    squeeze = register_module(
        "0", torch::nn::Conv1d(torch::nn::Conv1dOptions(channels, hidden, o.kernel_size).dilation(dilation).padding(padding)));
    if (o.group_norm) squeeze_norm = group_norm(*this, "1", 1, hidden);
    int64_t next = 3;
    if (o.lstm) blstm = register_module(std::to_string(next++), BLSTM(hidden, 2, true));
    if (o.attn) attention = register_module(std::to_string(next++), LocalState(hidden, o.heads, o.ndecay));
    expand = register_module(std::to_string(next++), torch::nn::Conv1d(torch::nn::Conv1dOptions(hidden, 2 * channels, 1)));
    if (o.group_norm) expand_norm = register_module(std::to_string(next), torch::nn::GroupNorm(1, 2 * channels));
    next += 2;  // the norm (also when it is an identity) and the GLU
    layer_scale = register_module(std::to_string(next), LayerScale(channels, o.init));
}

torch::Tensor DConvBranchImpl::forward(const torch::Tensor& x) {
    auto y = models::gelu(maybe(squeeze_norm, models::conv(squeeze, x)));
    if (blstm) y = blstm(y);
    if (attention) y = attention(y);
    y = at::glu(maybe(expand_norm, models::conv(expand, y)), 1);
    return layer_scale(y);
}

DConvImpl::DConvImpl(int64_t channels, const DConvOptions& o) {
    if (o.kernel_size % 2 == 0)
        throw Error({}, "invalid HDemucs configuration", "the DConv kernel size must be odd");
    layers = register_module("layers", torch::nn::ModuleList());
    const bool dilate = o.depth > 0;
    for (int64_t d = 0; d < std::abs(o.depth); ++d)
        layers->push_back(DConvBranch(channels, dilate ? (int64_t(1) << d) : 1, o));
}

torch::Tensor DConvImpl::forward(torch::Tensor x) {
    for (const auto& layer : *layers) x = x + layer->as<DConvBranchImpl>()->forward(x);
    return x;
}

AnyConv::AnyConv(torch::nn::Module& owner, const char* name, bool two_d, bool transposed, int64_t in, int64_t out,
                 int64_t kernel, int64_t stride, int64_t padding, bool square_kernel) {
    if (!two_d) {
        if (transposed)
            t1_ = owner.register_module(name, torch::nn::ConvTranspose1d(
                torch::nn::ConvTranspose1dOptions(in, out, kernel).stride(stride).padding(padding)));
        else
            c1_ = owner.register_module(name, torch::nn::Conv1d(
                torch::nn::Conv1dOptions(in, out, kernel).stride(stride).padding(padding)));
        return;
    }
    // Frequency layers convolve along F only, except the rewrite convs, which torchaudio
    // builds from a scalar size and so are square.
    const int64_t k2 = square_kernel ? kernel : 1, s2 = square_kernel ? stride : 1, p2 = square_kernel ? padding : 0;
    if (transposed)
        t2_ = owner.register_module(name, torch::nn::ConvTranspose2d(
            torch::nn::ConvTranspose2dOptions(in, out, {kernel, k2}).stride({stride, s2}).padding({padding, p2})));
    else
        c2_ = owner.register_module(name, torch::nn::Conv2d(
            torch::nn::Conv2dOptions(in, out, {kernel, k2}).stride({stride, s2}).padding({padding, p2})));
}

torch::Tensor AnyConv::operator()(const torch::Tensor& x) const {
    if (c1_) return models::conv(c1_, x);
    if (c2_) return models::conv(c2_, x);
    if (t1_) return models::conv(t1_, x);
    return models::conv(t2_, x);
}

HEncLayerImpl::HEncLayerImpl(int64_t chin, int64_t chout, const LayerOptions& o)
    : o_(o), pad_(o.pad ? o.kernel_size / 4 : 0) {
    conv = AnyConv(*this, "conv", o.freq, false, chin, chout, o.kernel_size, o.stride, pad_, false);
    if (o.group_norm) norm1 = group_norm(*this, "norm1", o.norm_groups, chout);
    if (o.empty) return;
    rewrite = AnyConv(*this, "rewrite", o.freq, false, chout, 2 * chout, 1 + 2 * o.context, 1, o.context, true);
    if (o.group_norm) norm2 = group_norm(*this, "norm2", o.norm_groups, 2 * chout);
    dconv = register_module("dconv", DConv(chout, o.dconv));
}

torch::Tensor HEncLayerImpl::forward(torch::Tensor x, torch::Tensor inject) {
    if (!o_.freq) {
        if (x.dim() == 4) x = x.reshape({x.size(0), -1, x.size(3)});
        const int64_t rest = x.size(-1) % o_.stride;
        if (rest) x = F::pad(x, F::PadFuncOptions({0, o_.stride - rest}));
    }
    auto y = conv(x);
    if (o_.empty) return y;
    if (inject.defined()) {
        if (inject.size(-1) != y.size(-1))
            throw Error({}, "HDemucs branch shapes do not align",
                        "the time branch gives " + std::to_string(inject.size(-1)) + " frames, the spectral branch " +
                            std::to_string(y.size(-1)));
        if (inject.dim() == 3 && y.dim() == 4) inject = inject.unsqueeze(2);
        y = y + inject;
    }
    y = models::gelu(maybe(norm1, y));
    if (o_.freq) {
        // DConv runs along time, each frequency row as its own batch entry.
        const int64_t B = y.size(0), C = y.size(1), Fr = y.size(2), T = y.size(3);
        y = dconv(y.permute({0, 2, 1, 3}).reshape({-1, C, T}));
        y = y.view({B, Fr, C, T}).permute({0, 2, 1, 3});
    } else {
        y = dconv(y);
    }
    return at::glu(maybe(norm2, rewrite(y)), 1);
}

HDecLayerImpl::HDecLayerImpl(int64_t chin, int64_t chout, const LayerOptions& o) : o_(o), chin_(chin), pad_(0) {
    if (o.pad) {
        if ((o.kernel_size - o.stride) % 2 != 0)
            throw Error({}, "invalid HDemucs configuration", "kernel size minus stride must be even");
        pad_ = (o.kernel_size - o.stride) / 2;
    }
    conv_tr = AnyConv(*this, "conv_tr", o.freq, true, chin, chout, o.kernel_size, o.stride, 0, false);
    if (o.group_norm) norm2 = group_norm(*this, "norm2", o.norm_groups, chout);
    if (o.empty) return;
    rewrite = AnyConv(*this, "rewrite", o.freq, false, chin, 2 * chin, 1 + 2 * o.context, 1, o.context, true);
    if (o.group_norm) norm1 = group_norm(*this, "norm1", o.norm_groups, 2 * chin);
}

std::pair<torch::Tensor, torch::Tensor> HDecLayerImpl::forward(torch::Tensor x, const torch::Tensor& skip, int64_t length) {
    if (o_.freq && x.dim() == 3) x = x.view({x.size(0), chin_, -1, x.size(2)});
    torch::Tensor y;
    if (!o_.empty) {
        y = at::glu(maybe(norm1, rewrite(x + skip)), 1);
    } else {
        if (skip.defined()) throw Error({}, "HDemucs decoder misuse", "an empty decoder layer takes no skip");
        y = x;
    }
    auto z = maybe(norm2, conv_tr(y));
    if (o_.freq) {
        if (pad_) z = z.slice(-2, pad_, z.size(-2) - pad_);
    } else {
        z = z.slice(-1, pad_, pad_ + length);
        if (z.size(-1) != length)
            throw Error({}, "HDemucs decoder length mismatch",
                        "expected " + std::to_string(length) + " samples, got " + std::to_string(z.size(-1)));
    }
    if (!o_.last) z = models::gelu(z);
    return {z, y};
}

} // namespace gafx::models::hdemucs
