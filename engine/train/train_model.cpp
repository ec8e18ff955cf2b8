#include "train/train_model.h"

namespace gafx::train {

TrainModelImpl::TrainModelImpl(std::shared_ptr<models::FeatureExtractor> e, models::Ast c)
    : extractor(register_module("extractor", std::move(e))), classifier(register_module("classifier", std::move(c))) {
    norm_mean = register_buffer("norm_mean", torch::zeros({}));
    norm_std = register_buffer("norm_std", torch::full({}, 0.5));
}

torch::Tensor TrainModelImpl::features(const torch::Tensor& wave) {
    return (extractor->forward(wave) - norm_mean) / (2 * norm_std);
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
