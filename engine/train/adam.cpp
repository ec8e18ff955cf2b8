#include "train/adam.h"

#include "core/error.h"
#include "train/fused_adam.h"

#include <ATen/ops/_foreach_add.h>
#include <ATen/ops/_foreach_addcdiv.h>
#include <ATen/ops/_foreach_addcmul.h>
#include <ATen/ops/_foreach_div.h>
#include <ATen/ops/_foreach_mul.h>
#include <ATen/ops/_foreach_sqrt.h>
#include <ATen/record_function.h>
#include <torch/autograd.h>
#include <torch/csrc/autograd/variable.h>

#include <cmath>
#include <map>
#include <unordered_set>
#include <utility>

namespace gafx::train {
namespace {

// What the fused pass can read through a raw pointer.
bool plain(const torch::Tensor& t, torch::ScalarType type) {
    return t.device().is_cpu() && t.scalar_type() == type && t.is_contiguous();
}

// The tensors of one device and dtype that take the multi-tensor kernels, with each one's
// bias corrections (their step counts may differ).
struct ForeachGroup {
    std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs;
    std::vector<c10::Scalar> bc2_sqrt, neg_step_size;
};

// torch.optim.Adam's _multi_tensor_adam (1.13), without weight decay or amsgrad: the same
// operations as the per-tensor update below, in the same order, so the same results.
void foreach_adam(ForeachGroup& g, const AdamOptions& o) {
    at::_foreach_mul_(g.exp_avgs, o.beta1);
    at::_foreach_add_(g.exp_avgs, g.grads, 1.0 - o.beta1);
    at::_foreach_mul_(g.exp_avg_sqs, o.beta2);
    at::_foreach_addcmul_(g.exp_avg_sqs, g.grads, g.grads, 1.0 - o.beta2);
    std::vector<torch::Tensor> denom = at::_foreach_sqrt(g.exp_avg_sqs);
    at::_foreach_div_(denom, g.bc2_sqrt);
    at::_foreach_add_(denom, o.eps);
    at::_foreach_addcdiv_(g.params, g.exp_avgs, denom, g.neg_step_size);
}

} // namespace

Adam::Adam(std::vector<std::pair<std::string, torch::Tensor>> named_params, AdamOptions options) : opt_(options) {
    for (auto& [name, p] : named_params)
        if (p.requires_grad()) {
            Param s;
            s.name = name;
            s.p = p;
            s.exp_avg = torch::zeros_like(p);
            s.exp_avg_sq = torch::zeros_like(p);
            params_.push_back(std::move(s));
        }
}

void Adam::keep_working_copies(const std::vector<torch::Tensor>& weights, torch::ScalarType dtype) {
    torch::NoGradGuard no_grad;
    std::unordered_set<const c10::TensorImpl*> wanted;
    for (const auto& w : weights) wanted.insert(w.unsafeGetTensorImpl());
    for (Param& s : params_) {
        if (!wanted.count(s.p.unsafeGetTensorImpl()) || s.p.scalar_type() != torch::kFloat32) continue;
        s.work = s.p.detach().to(dtype).requires_grad_(true);
        s.work_version = s.p._version();
        table_[s.p.unsafeGetTensorImpl()] = s.work;
    }
}

const models::WorkingTable* Adam::working_table() {
    if (table_.empty()) return nullptr;
    torch::NoGradGuard no_grad;
    for (Param& s : params_)
        if (s.work_version != s.p._version()) refresh_working_copy(s);
    return &table_;
}

void Adam::refresh_working_copy(Param& s) {
    if (!s.work.defined()) return;
    s.work.copy_(s.p);
    s.work_version = s.p._version();
}

bool Adam::fusable(const Param& s) const {
    return opt_.fused && plain(s.p, torch::kFloat32) && plain(s.exp_avg, torch::kFloat32) &&
           plain(s.exp_avg_sq, torch::kFloat32) && (!s.work.defined() || plain(s.work, torch::kBFloat16));
}

void Adam::step(double lr) {
    RECORD_FUNCTION("gafx::adam_step", std::vector<c10::IValue>()); // its fused pass is no ATen op: name it in profiles
    torch::NoGradGuard no_grad;
    std::vector<AdamSlice> slices;
    std::vector<Param*> sliced;
    std::vector<torch::Tensor> sums; // gradients made here, alive until the pass reads them
    std::map<std::pair<std::string, torch::ScalarType>, ForeachGroup> groups;
    std::vector<Param*> in_groups;
    bool per_tensor = false;
    for (Param& s : params_) {
        torch::Tensor g = s.p.grad();
        const torch::Tensor wg = s.work.defined() ? s.work.grad() : torch::Tensor();
        if (g.defined() && wg.defined()) sums.push_back(g = g + wg); // used inside and outside UseWorking
        if (!g.defined() && !wg.defined()) continue;
        ++s.step;
        const double bc1 = 1.0 - std::pow(opt_.beta1, double(s.step));
        const double bc2 = 1.0 - std::pow(opt_.beta2, double(s.step));
        const bool g32 = g.defined() && plain(g, torch::kFloat32);
        const bool g16 = !g.defined() && plain(wg, torch::kBFloat16);
        if (fusable(s) && (g32 || g16)) {
            AdamSlice a;
            a.param = s.p.data_ptr<float>();
            a.exp_avg = s.exp_avg.data_ptr<float>();
            a.exp_avg_sq = s.exp_avg_sq.data_ptr<float>();
            if (g32) a.grad = g.data_ptr<float>();
            else a.grad_bf16 = wg.data_ptr<c10::BFloat16>();
            if (s.work.defined()) a.working = s.work.data_ptr<c10::BFloat16>();
            a.size = s.p.numel();
            a.beta1 = float(opt_.beta1);
            a.beta2 = float(opt_.beta2);
            a.one_minus_beta1 = float(1.0 - opt_.beta1);
            a.one_minus_beta2 = float(1.0 - opt_.beta2);
            a.eps = float(opt_.eps);
            a.step_size = float(lr / bc1);
            a.bias_correction2_sqrt = float(std::sqrt(bc2));
            slices.push_back(a);
            sliced.push_back(&s);
            continue;
        }
        const torch::Tensor grad = g.defined() ? g : wg.to(s.p.scalar_type());
        if (opt_.fused) {
            ForeachGroup& fg = groups[{s.p.device().str(), s.p.scalar_type()}];
            fg.params.push_back(s.p);
            fg.grads.push_back(grad);
            fg.exp_avgs.push_back(s.exp_avg);
            fg.exp_avg_sqs.push_back(s.exp_avg_sq);
            fg.bc2_sqrt.emplace_back(std::sqrt(bc2));
            fg.neg_step_size.emplace_back(-lr / bc1);
            in_groups.push_back(&s);
            continue;
        }
        per_tensor = true;
        s.exp_avg.mul_(opt_.beta1).add_(grad, 1.0 - opt_.beta1);
        s.exp_avg_sq.mul_(opt_.beta2).addcmul_(grad, grad, 1.0 - opt_.beta2);
        const torch::Tensor denom = (s.exp_avg_sq.sqrt() / std::sqrt(bc2)).add_(opt_.eps);
        s.p.addcdiv_(s.exp_avg, denom, -lr / bc1);
        refresh_working_copy(s);
    }
    fused_adam(slices);
    for (Param* s : sliced) {
        // Written through pointers: the version counters say so, as an in-place op's would.
        for (auto* t : {&s->p, &s->exp_avg, &s->exp_avg_sq, &s->work})
            if (t->defined()) torch::autograd::impl::bump_version(*t);
        s->work_version = s->p._version();
    }
    for (auto& [key, group] : groups) foreach_adam(group, opt_);
    for (Param* s : in_groups) refresh_working_copy(*s);
    if (per_tensor) last_update_ = "per tensor";
    else if (!slices.empty() && !groups.empty()) last_update_ = "fused + multi-tensor";
    else if (!slices.empty()) last_update_ = "fused";
    else if (!groups.empty()) last_update_ = "multi-tensor";
}

void Adam::fold_working_grads() {
    torch::NoGradGuard no_grad;
    for (Param& s : params_) {
        if (!s.work.defined() || !s.work.grad().defined()) continue;
        const torch::Tensor wg = s.work.grad().to(s.p.scalar_type());
        s.p.mutable_grad() = s.p.grad().defined() ? s.p.grad() + wg : wg;
        s.work.mutable_grad().reset();
    }
}

void Adam::zero_grad() {
    for (Param& s : params_) {
        if (s.p.grad().defined()) s.p.mutable_grad().reset();
        if (s.work.defined() && s.work.grad().defined()) s.work.mutable_grad().reset();
    }
}

std::vector<torch::Tensor> Adam::gradients() {
    fold_working_grads();
    std::vector<torch::Tensor> out;
    for (Param& s : params_) {
        if (!s.p.grad().defined()) s.p.mutable_grad() = torch::zeros_like(s.p);
        out.push_back(s.p.grad());
    }
    return out;
}

std::vector<torch::Tensor> Adam::grad_holders() const {
    std::vector<torch::Tensor> out;
    for (const Param& s : params_) {
        out.push_back(s.p);
        if (s.work.defined()) out.push_back(s.work);
    }
    return out;
}

std::vector<std::pair<torch::Tensor, torch::Tensor>> Adam::params_and_copies() const {
    std::vector<std::pair<torch::Tensor, torch::Tensor>> out;
    for (const Param& s : params_) out.emplace_back(s.p, s.work);
    return out;
}

bool Adam::unscale_and_check(double scale) {
    fold_working_grads();
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
