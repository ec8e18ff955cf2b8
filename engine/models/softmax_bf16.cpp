#include "models/softmax_bf16.h"

#include "models/softmax_rows.h"

#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>

#include <atomic>
#include <vector>

namespace gafx::models {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

std::atomic<bool> rows_on{true};

struct SoftmaxRows : torch::autograd::Function<SoftmaxRows> {
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& scores) {
        RECORD_FUNCTION("gafx::softmax_rows_forward", std::vector<c10::IValue>({scores})); // named in profiles
        const auto x = scores.contiguous();
        auto y = torch::empty_like(x);
        const int64_t cols = x.dim() ? x.size(-1) : 1;
        softmax_rows_forward(x.data_ptr<c10::BFloat16>(), y.data_ptr<c10::BFloat16>(), cols ? x.numel() / cols : 0,
                             cols);
        ctx->save_for_backward({y});
        return y;
    }
    static variable_list backward(AutogradContext* ctx, variable_list grad) {
        RECORD_FUNCTION("gafx::softmax_rows_backward", std::vector<c10::IValue>({grad[0]}));
        const auto y = ctx->get_saved_variables()[0];
        const auto dy = grad[0].to(torch::kBFloat16).contiguous(); // bf16 already, from the product with v
        auto dx = torch::empty_like(y);
        const int64_t cols = y.dim() ? y.size(-1) : 1;
        softmax_rows_backward(dy.data_ptr<c10::BFloat16>(), y.data_ptr<c10::BFloat16>(), dx.data_ptr<c10::BFloat16>(),
                              cols ? y.numel() / cols : 0, cols);
        return {dx};
    }
};

} // namespace

void set_softmax_rows(bool on) { rows_on = on; }

bool softmax_rows_used(const torch::Device& device) {
    return device.is_cpu() && rows_on && softmax_rows_available();
}

torch::Tensor softmax_last_dim(const torch::Tensor& scores) {
    if (scores.scalar_type() != torch::kBFloat16 || !softmax_rows_used(scores.device()) || scores.dim() == 0)
        return at::_softmax(scores, -1, false);
    return SoftmaxRows::apply(scores);
}

} // namespace gafx::models
