#include "train/step.h"

#include <torch/autograd.h>
#include <torch/nn/functional/loss.h>

#include <cmath>

namespace gafx::train {

torch::Tensor loss_sum(const torch::Tensor& logits, const torch::Tensor& targets, bool multi_label) {
    namespace F = torch::nn::functional;
    const torch::Tensor l = logits.to(torch::kFloat32);
    // Per clip, BCE is the mean over classes (torch's BCEWithLogitsLoss, as AST trains AudioSet).
    if (multi_label)
        return F::binary_cross_entropy_with_logits(l, targets,
                                                   F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kSum)) /
               double(l.size(1));
    // Soft targets (mixup): cross entropy against a distribution rather than an index.
    if (targets.dim() == 2) return -(targets.to(torch::kFloat32) * l.log_softmax(1)).sum();
    return F::cross_entropy(l, targets, F::CrossEntropyFuncOptions().reduction(torch::kSum));
}

torch::Tensor correct_tensor(const torch::Tensor& logits, const torch::Tensor& targets, bool multi_label) {
    const torch::Tensor pred = logits.argmax(1);
    if (multi_label) return targets.gather(1, pred.unsqueeze(1)).gt(0.5).sum();
    if (targets.dim() == 2) return pred.eq(targets.argmax(1)).sum(); // mixup: the larger share
    return pred.eq(targets).sum();
}

int64_t correct_count(const torch::Tensor& logits, const torch::Tensor& targets, bool multi_label) {
    return correct_tensor(logits, targets, multi_label).item<int64_t>();
}

Mixed mixup(const torch::Tensor& input, const torch::Tensor& targets, bool multi_label, int64_t classes, double alpha) {
    if (!(alpha > 0) || input.size(0) < 2) return {input, targets, 1.0};
    const auto cpu = torch::TensorOptions().dtype(torch::kFloat64);
    // Beta(a, a) as X / (X + Y) with X, Y ~ Gamma(a, 1).
    const torch::Tensor g = at::_standard_gamma(torch::full({2}, alpha, cpu));
    const double lambda = (g[0] / (g[0] + g[1])).item<double>();
    const torch::Tensor perm = torch::randperm(input.size(0), torch::TensorOptions().dtype(torch::kLong)).to(input.device());
    torch::Tensor soft = multi_label ? targets.to(torch::kFloat32)
                                     : torch::one_hot(targets.clamp_min(0), classes).to(torch::kFloat32);
    Mixed m;
    m.lambda = lambda;
    m.input = input * lambda + input.index_select(0, perm) * (1 - lambda);
    m.targets = soft * lambda + soft.index_select(0, perm) * (1 - lambda);
    return m;
}

void keep_working_copies(Adam& adam, torch::nn::Module& model, Precision precision) {
    if (precision == Precision::Bf16) adam.keep_working_copies(models::low_precision_weights(model, torch::kBFloat16), torch::kBFloat16);
}

Forwarded forward_loss(const Forward& forward, Adam& adam, const torch::Tensor& input, const torch::Tensor& targets,
                       const StepSettings& s) {
    Forwarded f;
    {
        AutocastScope autocast(s.device, s.precision);
        models::UseWorking working(adam.working_table());
        f.logits = forward(input);
    }
    f.loss = loss_sum(f.logits, targets, s.multi_label) / double(s.global_batch > 0 ? s.global_batch : input.size(0));
    return f;
}

StepOutput train_step(const Forward& forward, Adam& adam, const torch::Tensor& input, const torch::Tensor& targets,
                      const StepSettings& s) {
    StepOutput out;
    const int64_t n = input.size(0);
    torch::Tensor loss;
    if (n > 0) {
        const Forwarded f = forward_loss(forward, adam, input, targets, s);
        loss = f.loss;
        out.loss = loss.item<double>();
        if (std::isfinite(out.loss)) out.correct = correct_count(f.logits.detach(), targets, s.multi_label);
    }
    if (s.combine) s.combine(out.loss, out.correct);
    if (!std::isfinite(out.loss)) return out;
    adam.zero_grad();
    if (s.before_backward) s.before_backward();
    const bool fp16 = s.precision == Precision::Fp16 && s.loss_scale;
    if (n > 0) (fp16 ? loss * *s.loss_scale : loss).backward();
    if (s.after_backward) s.after_backward();
    if (fp16 && !adam.unscale_and_check(*s.loss_scale)) {
        *s.loss_scale /= 2; // overflow: skip this step at a smaller scale
        return out;
    }
    if (fp16 && (s.step + 1) % 2000 == 0) *s.loss_scale *= 2;
    adam.step(s.lr);
    out.applied = true;
    return out;
}

} // namespace gafx::train
