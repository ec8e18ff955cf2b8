#include "models/gelu.h"

#include <torch/csrc/autograd/custom_function.h>

namespace gafx::models {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct Gelu : torch::autograd::Function<Gelu> {
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x) {
        ctx->save_for_backward({x});
        return at::gelu(x);
    }
    static variable_list backward(AutogradContext* ctx, variable_list grad) {
        const auto x = ctx->get_saved_variables()[0];
        return {at::gelu_backward(grad[0].contiguous(), x.contiguous())};
    }
};

} // namespace

torch::Tensor gelu(const torch::Tensor& x) {
    if (!torch::GradMode::is_enabled() || !x.requires_grad()) return at::gelu(x);
    return Gelu::apply(x);
}

} // namespace gafx::models
