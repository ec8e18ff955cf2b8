#include "models/gafx_r.h"

#include "core/error.h"
#include "models/recompute.h"
#include "models/working_weights.h"

#include <torch/nn/init.h>

#include <string>

namespace gafx::models {
namespace {

using torch::nn::BatchNorm2d;
using torch::nn::Conv2d;
using torch::nn::Conv2dOptions;

Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t width_stride) {
    return Conv2d(Conv2dOptions(in, out, k).stride({1, width_stride}).padding(k / 2).bias(false));
}

// Output width of a kernel-k, stride-s, padding-k/2 window (conv or pool) over w columns.
int64_t strided(int64_t w, int64_t k, int64_t s) { return (w + 2 * (k / 2) - k) / s + 1; }

// torchvision's init: the stem sees raw samples, so fan-out Kaiming keeps activations in range
// whatever the row width.
void init_resnet(torch::nn::Module& m) {
    torch::NoGradGuard no_grad;
    for (auto& mod : m.modules(/*include_self=*/false)) {
        if (auto* c = mod->as<torch::nn::Conv2dImpl>()) {
            torch::nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
        } else if (auto* b = mod->as<torch::nn::BatchNorm2dImpl>()) {
            b->weight.fill_(1.0);
            b->bias.zero_();
        }
    }
}

} // namespace

GafxRConfig GafxRConfig::small() {
    GafxRConfig c;
    c.stem = 8;
    c.channels = {8, 16, 16, 32, 128};
    return c;
}

void GafxRConfig::validate() const {
    auto bad = [](const std::string& what) { throw Error({}, "GAFX-R config: " + what); };
    if (sample_rate <= 0) bad("sample_rate must be positive");
    if (row <= 0) bad("row must be positive");
    if (stem <= 0 || stem_kernel <= 0 || stem_kernel % 2 == 0) bad("stem and an odd stem_kernel needed");
    if (channels.empty() || channels.size() != strides.size())
        bad("channels and strides need one entry per stage");
    for (size_t i = 0; i < channels.size(); ++i)
        if (channels[i] <= 0 || strides[i] <= 0) bad("stage " + std::to_string(i + 1) + " needs channels, stride > 0");
    if (blocks_per_stage <= 0) bad("blocks_per_stage must be positive");
}

BasicBlockImpl::BasicBlockImpl(int64_t in, int64_t out, int64_t width_stride) {
    conv1 = register_module("conv1", conv(in, out, 3, width_stride));
    bn1 = register_module("bn1", BatchNorm2d(out));
    conv2 = register_module("conv2", conv(out, out, 3, 1));
    bn2 = register_module("bn2", BatchNorm2d(out));
    if (width_stride != 1 || in != out) {
        downsample = register_module(
            "downsample", torch::nn::Sequential(conv(in, out, 1, width_stride), BatchNorm2d(out)));
    }
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
    auto y = torch::relu(bn1(models::conv(conv1, x)));
    y = bn2(models::conv(conv2, y));
    if (!downsample) return torch::relu(y + x);
    const auto shortcut = models::conv(std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(downsample->ptr(0)), x);
    return torch::relu(y + downsample->ptr(1)->as<torch::nn::BatchNorm2dImpl>()->forward(shortcut));
}

GafxR::GafxR(GafxRConfig config) : config_(std::move(config)) {
    config_.validate();
    conv1 = register_module("conv1", conv(1, config_.stem, config_.stem_kernel, 2));
    bn1 = register_module("bn1", BatchNorm2d(config_.stem));
    int64_t in = config_.stem;
    for (size_t s = 0; s < config_.channels.size(); ++s) {
        torch::nn::Sequential stage;
        for (int64_t b = 0; b < config_.blocks_per_stage; ++b) {
            stage->push_back(BasicBlock(in, config_.channels[s], b == 0 ? config_.strides[s] : 1));
            in = config_.channels[s];
        }
        layers_.push_back(register_module("layer" + std::to_string(s + 1), stage));
    }
    init_resnet(*this);
}

int64_t GafxR::output_frames(int64_t samples) const {
    return samples <= 0 ? 0 : (samples + config_.row - 1) / config_.row;
}

int64_t GafxR::output_width() const {
    int64_t w = strided(config_.row, config_.stem_kernel, 2); // conv1
    w = strided(w, 3, 2);                                     // max-pool
    for (int64_t s : config_.strides) w = strided(w, 3, s);   // first block of each stage
    return w;
}

torch::Tensor GafxR::forward(const torch::Tensor& wave) {
    if (wave.dim() != 3 || wave.size(1) != 1 || wave.size(2) == 0) {
        throw Error({}, "GAFX-R expects a mono waveform batch [B, 1, T], got " + c10::str(wave.sizes()),
                    "mix the audio down to one channel");
    }
    const int64_t batch = wave.size(0), samples = wave.size(2);
    const int64_t frames = output_frames(samples);
    auto x = at::constant_pad_nd(wave, {0, frames * config_.row - samples}, 0.0);
    x = x.reshape({batch, 1, frames, config_.row});

    auto stem = [conv1 = conv1, bn1 = bn1](const torch::Tensor& in) mutable {
        return at::max_pool2d(torch::relu(bn1(models::conv(conv1, in))), {3, 3}, {1, 2}, {1, 1});
    };
    if (!recompute_) {
        x = stem(x);
        for (auto& stage : layers_) x = stage->forward(x);
    } else {
        // The stem's owner is the whole model: its blocks' parameters get no gradient from it.
        x = recompute(*this, x, stem);
        for (auto& stage : layers_)
            for (const auto& block : *stage) {
                auto b = block.ptr<BasicBlockImpl>();
                x = recompute(*b, x, [b](const torch::Tensor& in) { return b->forward(in); });
            }
    }
    // [B, C, frames, w] -> mean over w -> [B, frames, C]
    return x.mean(-1).transpose(1, 2).contiguous();
}

} // namespace gafx::models
