#include "train/train_model.h"

#include <algorithm>

namespace gafx::train {

TrainModelImpl::TrainModelImpl(std::shared_ptr<models::FeatureExtractor> e, models::Ast c, FeatureOptions o)
    : extractor(register_module("extractor", std::move(e))), classifier(register_module("classifier", std::move(c))),
      options(o) {
    norm_mean = register_buffer("norm_mean", torch::zeros({}));
    norm_std = register_buffer("norm_std", torch::full({}, 0.5));
}

torch::Tensor TrainModelImpl::shaped(const torch::Tensor& wave) {
    torch::Tensor x = front_end_in_loader ? wave : extractor->forward(wave);
    if (options.log_compression) x = x.sign() * x.abs().log1p();
    if (options.frames > 0) {
        const int64_t have = x.size(1);
        if (have > options.frames) x = x.narrow(1, 0, options.frames);
        else if (have < options.frames) x = torch::constant_pad_nd(x, {0, 0, 0, options.frames - have});
    }
    return x;
}

namespace {

// One zeroed band of width U[0, max_width) per example along `dim` (1: time, 2: frequency), as
// torchaudio's FrequencyMasking/TimeMasking with iid_masks. Drawn from the CPU generator, so a
// checkpoint's RNG state resumes the same masks on any device.
torch::Tensor mask_band(const torch::Tensor& x, int64_t dim, int64_t max_width) {
    const int64_t b = x.size(0), n = x.size(dim);
    const auto cpu = torch::TensorOptions().dtype(torch::kFloat32);
    const torch::Tensor width = (torch::rand({b}, cpu) * double(std::min(max_width, n))).floor();
    const torch::Tensor start = (torch::rand({b}, cpu) * (double(n) - width)).floor();
    const torch::Tensor pos = torch::arange(n, cpu).unsqueeze(0);                         // [1, n]
    const torch::Tensor band = (pos >= start.unsqueeze(1)) & (pos < (start + width).unsqueeze(1)); // [b, n]
    const torch::Tensor shape_mask = dim == 1 ? band.unsqueeze(2) : band.unsqueeze(1);
    return x.masked_fill(shape_mask.to(x.device()), 0.0);
}

} // namespace

torch::Tensor TrainModelImpl::features(const torch::Tensor& wave) {
    torch::Tensor x = shaped(wave);
    // AST masks the map before normalising it; evaluation never augments.
    if (is_training() && options.freq_mask > 0) x = mask_band(x, 2, options.freq_mask);
    if (is_training() && options.time_mask > 0) x = mask_band(x, 1, options.time_mask);
    return (x - norm_mean) / (2 * norm_std);
}

torch::Tensor TrainModelImpl::forward(const torch::Tensor& wave) { return classifier->forward(features(wave)); }

void TrainModelImpl::set_normalisation(double mean, double std) {
    torch::NoGradGuard no_grad;
    norm_mean.fill_(mean);
    norm_std.fill_(std);
}

std::vector<std::pair<std::string, torch::Tensor>> named_state(const torch::nn::Module& m) {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& p : m.named_parameters(true)) out.emplace_back(p.key(), p.value());
    for (const auto& b : m.named_buffers(true)) out.emplace_back(b.key(), b.value());
    return out;
}

} // namespace gafx::train
