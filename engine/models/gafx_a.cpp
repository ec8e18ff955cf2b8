#include "models/gafx_a.h"

#include "core/error.h"

#include <torch/nn/init.h>

#include <cmath>
#include <string>

namespace gafx::models {

GafxAConfig GafxAConfig::small() {
    GafxAConfig c;
    c.cnn = GafxRConfig::small();
    return c;
}

void GafxAConfig::validate() const {
    cnn.validate();
    auto bad = [](const std::string& what) { throw Error({}, "GAFX-A config: " + what); };
    if (layers < 0) bad("layers must be 0 or more");
    if (heads <= 0 || cnn.channels.back() % heads != 0)
        bad(std::to_string(heads) + " heads do not divide the " + std::to_string(cnn.channels.back()) + " feature bins");
    if (ffn_mult <= 0) bad("ffn_mult must be positive");
    if (!(dropout >= 0.0 && dropout < 1.0)) bad("dropout must be in [0, 1)");
    if (!(layer_scale > 0.0)) bad("layer_scale must be positive");
}

torch::Tensor sinusoidal_positions(int64_t frames, int64_t dim, const torch::TensorOptions& options) {
    auto f32 = options.dtype(at::kFloat);
    auto pos = torch::arange(frames, f32).unsqueeze(1);
    auto freq = torch::exp(torch::arange(0, dim, 2, f32) * (-std::log(10000.0) / double(dim)));
    auto pe = torch::zeros({frames, dim}, f32);
    pe.slice(1, 0, dim, 2).copy_(torch::sin(pos * freq));
    pe.slice(1, 1, dim, 2).copy_(torch::cos(pos * freq).slice(1, 0, dim / 2));
    return pe.to(options.dtype());
}

GafxA::GafxA(GafxAConfig config) : config_(std::move(config)) {
    config_.validate();
    cnn = register_module("cnn", std::make_shared<GafxR>(config_.cnn));
    const int64_t d = cnn->feature_bins();
    norm_in = register_module("norm_in", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    encoder = register_module("encoder", torch::nn::ModuleList());
    for (int64_t i = 0; i < config_.layers; ++i)
        encoder->push_back(VitBlock(d, config_.heads, config_.ffn_mult, config_.dropout, config_.layer_scale));
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
}

bool GafxA::set_activation_checkpointing(bool on) {
    cnn->set_activation_checkpointing(on);
    set_attention_recompute(*this, on);
    return true;
}

torch::Tensor GafxA::forward(const torch::Tensor& wave) {
    // The residual stream in fp32 (under bf16 autocast the CNN hands over bf16, which CPU
    // layer_norm in libtorch 1.13 refuses beside fp32 weights); the CNN's post-ReLU scale is arbitrary.
    // A float64 model (the tests' reference) stays float64.
    auto x = cnn->forward(wave);
    x = norm_in(x.scalar_type() == torch::kDouble ? x : x.to(torch::kFloat32));
    x = x + sinusoidal_positions(x.size(1), x.size(2), x.options());
    x = at::dropout(x, config_.dropout, is_training());
    for (auto& layer : *encoder) x = layer->as<VitBlockImpl>()->forward(x);
    return norm(x);
}

} // namespace gafx::models
