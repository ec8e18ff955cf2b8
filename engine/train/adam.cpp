#include "train/adam.h"

#include "core/error.h"

#include <torch/autograd.h>

#include <cmath>

namespace gafx::train {

Adam::Adam(std::vector<std::pair<std::string, torch::Tensor>> named_params, AdamOptions options) : opt_(options) {
    for (auto& [name, p] : named_params)
        if (p.requires_grad()) params_.push_back(Param{name, p, torch::zeros_like(p), torch::zeros_like(p), 0});
}

void Adam::step(double lr) {
    torch::NoGradGuard no_grad;
    for (Param& s : params_) {
        const torch::Tensor& g = s.p.grad();
        if (!g.defined()) continue;
        ++s.step;
        const double bc1 = 1.0 - std::pow(opt_.beta1, double(s.step));
        const double bc2 = 1.0 - std::pow(opt_.beta2, double(s.step));
        s.exp_avg.mul_(opt_.beta1).add_(g, 1.0 - opt_.beta1);
        s.exp_avg_sq.mul_(opt_.beta2).addcmul_(g, g, 1.0 - opt_.beta2);
        const torch::Tensor denom = (s.exp_avg_sq.sqrt() / std::sqrt(bc2)).add_(opt_.eps);
        s.p.addcdiv_(s.exp_avg, denom, -lr / bc1);
    }
}

void Adam::zero_grad() {
    for (Param& s : params_)
        if (s.p.grad().defined()) s.p.mutable_grad().reset();
}

std::vector<torch::Tensor> Adam::gradients() {
    std::vector<torch::Tensor> out;
    for (Param& s : params_) {
        if (!s.p.grad().defined()) s.p.mutable_grad() = torch::zeros_like(s.p);
        out.push_back(s.p.grad());
    }
    return out;
}

bool Adam::unscale_and_check(double scale) {
    torch::NoGradGuard no_grad;
    bool finite = true;
    for (Param& s : params_)
        if (s.p.grad().defined()) {
            s.p.mutable_grad().div_(scale);
            finite = finite && s.p.grad().isfinite().all().item<bool>();
        }
    return finite;
}

models::StateDict Adam::state() const {
    models::StateDict out;
    for (const Param& s : params_) {
        out.emplace_back(s.name + ".exp_avg", s.exp_avg);
        out.emplace_back(s.name + ".exp_avg_sq", s.exp_avg_sq);
        out.emplace_back(s.name + ".step", torch::tensor(s.step, torch::kInt64));
    }
    return out;
}

void Adam::load_state(const models::StateDict& state, const std::string& file) {
    std::map<std::string, torch::Tensor> by_name(state.begin(), state.end());
    auto take = [&](const std::string& name, const torch::Tensor& like) {
        auto it = by_name.find(name);
        if (it == by_name.end())
            throw Error(file, "optimiser state '" + name + "' is missing",
                        "the checkpoint belongs to another model; start the run again");
        if (like.defined() && it->second.sizes() != like.sizes())
            throw Error(file, "optimiser state '" + name + "' has another shape",
                        "the checkpoint belongs to another model; start the run again");
        return it->second;
    };
    torch::NoGradGuard no_grad;
    for (Param& s : params_) {
        s.exp_avg.copy_(take(s.name + ".exp_avg", s.exp_avg));
        s.exp_avg_sq.copy_(take(s.name + ".exp_avg_sq", s.exp_avg_sq));
        s.step = take(s.name + ".step", {}).item<int64_t>();
    }
}

} // namespace gafx::train
