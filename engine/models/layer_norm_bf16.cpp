#include "models/layer_norm_bf16.h"

#include "core/autocast_state.h"
#include "models/layer_norm_rows.h"
#include "models/working_weights.h"

#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>

#include <vector>

namespace gafx::models {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

LayerNormRows rows_of(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, double eps) {
    LayerNormRows a;
    a.cols = x.size(-1);
    a.rows = a.cols ? x.numel() / a.cols : 0;
    a.x = x.data_ptr<float>();
    a.weight = w.data_ptr<float>();
    a.bias = b.data_ptr<float>();
    a.eps = float(eps);
    return a;
}

struct LayerNormToBf16 : torch::autograd::Function<LayerNormToBf16> {
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x_in, const torch::Tensor& weight,
                                 const torch::Tensor& bias, double eps) {
        RECORD_FUNCTION("gafx::layer_norm_rows_forward", std::vector<c10::IValue>({x_in})); // named in profiles
        const auto x = x_in.contiguous(), w = weight.contiguous(), b = bias.contiguous();
        const LayerNormRows a = rows_of(x, w, b, eps);
        auto y = torch::empty(x.sizes(), x.options().dtype(torch::kBFloat16));
        auto stats = torch::empty({2, a.rows}, x.options());
        layer_norm_rows_forward(a, y.data_ptr<c10::BFloat16>(), stats[0].data_ptr<float>(), stats[1].data_ptr<float>());
        ctx->save_for_backward({x, w, b, stats});
        ctx->saved_data["eps"] = eps;
        return y;
    }
    static variable_list backward(AutogradContext* ctx, variable_list grad) {
        RECORD_FUNCTION("gafx::layer_norm_rows_backward", std::vector<c10::IValue>({grad[0]}));
        const auto saved = ctx->get_saved_variables();
        const auto &x = saved[0], &w = saved[1], &b = saved[2], &stats = saved[3];
        const auto dy = grad[0].to(torch::kBFloat16).contiguous(); // bf16 already, from a bf16 linear
        const LayerNormRows a = rows_of(x, w, b, ctx->saved_data["eps"].toDouble());
        auto dx = torch::empty_like(x), dw = torch::empty_like(w), db = torch::empty_like(b);
        layer_norm_rows_backward(a, dy.data_ptr<c10::BFloat16>(), stats[0].data_ptr<float>(),
                                 stats[1].data_ptr<float>(), dx.data_ptr<float>(), dw.data_ptr<float>(),
                                 db.data_ptr<float>());
        return {dx, dw, db, torch::Tensor()};
    }
};

} // namespace

torch::Tensor layer_norm_to_bf16(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                 double eps) {
    TORCH_CHECK(x.device().is_cpu() && x.scalar_type() == torch::kFloat && weight.scalar_type() == torch::kFloat &&
                    bias.scalar_type() == torch::kFloat && x.dim() >= 1 && weight.numel() == x.size(-1) &&
                    bias.numel() == x.size(-1),
                "layer_norm_to_bf16: fp32 CPU tensors, weight and bias the size of x's last dimension");
    return LayerNormToBf16::apply(x, weight, bias, eps);
}

bool layer_norm_writes_bf16(const torch::Device& device) {
    return device.is_cpu() && has_working() && autocast::enabled(false) && autocast::dtype(false) == torch::kBFloat16;
}

const char* layer_norm_path(const torch::Device& device, bool bf16_working) {
    return device.is_cpu() && bf16_working ? "fp32 in, bf16 out (models/layer_norm_rows)"
                                            : "at::layer_norm (autocast casts its output at the next linear)";
}

torch::Tensor norm(const torch::nn::LayerNorm& ln, const torch::Tensor& x) {
    const auto& o = ln->options;
    if (x.scalar_type() != torch::kFloat || !o.elementwise_affine() || o.normalized_shape().size() != 1 ||
        !ln->weight.defined() || ln->weight.scalar_type() != torch::kFloat || !layer_norm_writes_bf16(x.device()))
        return ln.ptr()->forward(x);
    return layer_norm_to_bf16(x, ln->weight, ln->bias, o.eps());
}

} // namespace gafx::models
