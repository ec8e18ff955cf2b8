#include "models/onednn_matmul.h"

#include "core/autocast_state.h"

#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#ifdef GAFX_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace gafx::models {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

std::atomic<bool> switched_on{true};
std::atomic<uint64_t> products_run{0};

#ifdef GAFX_HAVE_ONEDNN
using dnnl::memory;

memory::desc desc_of(const at::Tensor& t) {
    return memory::desc(memory::dims(t.sizes().begin(), t.sizes().end()), memory::data_type::f32,
                        memory::dims(t.strides().begin(), t.strides().end()));
}

// One primitive per layout (sizes and strides of both operands, with or without a bias): a run
// repeats a few dozen layouts, and creating a primitive costs about what running it does.
// Null where oneDNN offers only its reference kernel for the layout, which ATen's beats.
class Primitives {
public:
    std::shared_ptr<dnnl::matmul> get(const at::Tensor& a, const at::Tensor& b, const at::Tensor& bias,
                                      const at::Tensor& out) {
        std::vector<int64_t> key;
        for (const at::Tensor* t : {&a, &b})
            for (auto r : {t->sizes(), t->strides()}) key.insert(key.end(), r.begin(), r.end()), key.push_back(-1);
        key.push_back(bias.defined());
        std::lock_guard<std::mutex> lock(mutex_);
        if (auto it = map_.find(key); it != map_.end()) return it->second;
        if (map_.size() >= 512) map_.clear(); // a bound, far above what one model uses
        std::shared_ptr<dnnl::matmul> made;
        try {
            const auto d = bias.defined() ? dnnl::matmul::desc(desc_of(a), desc_of(b), desc_of(bias), desc_of(out))
                                          : dnnl::matmul::desc(desc_of(a), desc_of(b), desc_of(out));
            dnnl::matmul::primitive_desc pd(d, engine());
            if (std::string(pd.impl_info_str()).rfind("ref", 0) != 0) made = std::make_shared<dnnl::matmul>(pd);
        } catch (const dnnl::error&) {
        }
        map_.emplace(std::move(key), made);
        return made;
    }
    static const dnnl::engine& engine() {
        static const dnnl::engine e(dnnl::engine::kind::cpu, 0);
        return e;
    }

private:
    struct Hash {
        size_t operator()(const std::vector<int64_t>& v) const {
            size_t h = v.size();
            for (int64_t x : v) h = h * 1000003u ^ static_cast<size_t>(x);
            return h;
        }
    };
    std::mutex mutex_;
    std::unordered_map<std::vector<int64_t>, std::shared_ptr<dnnl::matmul>, Hash> map_;
};

Primitives& primitives() {
    static Primitives p;
    return p;
}
#endif

// a @ b (+ bias over the last dimension), batch dimensions equal. oneDNN where it has a kernel
// for the layout, else ATen.
at::Tensor product(const at::Tensor& a, const at::Tensor& b, const at::Tensor& bias) {
#ifdef GAFX_HAVE_ONEDNN
    if (a.numel() > 0 && b.numel() > 0 && a.dim() == b.dim()) {
        auto sizes = a.sizes().vec();
        sizes.back() = b.size(-1);
        auto out = at::empty(sizes, a.options());
        at::Tensor bias_nd; // [1, ..., 1, N], as oneDNN's bias reads
        if (bias.defined()) {
            std::vector<int64_t> bs(a.dim(), 1);
            bs.back() = bias.size(0);
            bias_nd = bias.contiguous().view(bs);
        }
        if (auto prim = primitives().get(a, b, bias_nd, out)) {
            // Named with its operands, so `gafx bench train --ops` splits the products by layout.
            RECORD_FUNCTION("gafx::onednn_product", std::vector<c10::IValue>({a, b}));
            const auto& eng = Primitives::engine();
            dnnl::stream stream(eng);
            std::unordered_map<int, memory> args{
                {DNNL_ARG_SRC, memory(desc_of(a), eng, a.data_ptr())},
                {DNNL_ARG_WEIGHTS, memory(desc_of(b), eng, b.data_ptr())},
                {DNNL_ARG_DST, memory(desc_of(out), eng, out.data_ptr())}};
            if (bias_nd.defined()) args.emplace(DNNL_ARG_BIAS, memory(desc_of(bias_nd), eng, bias_nd.data_ptr()));
            prim->execute(stream, args);
            stream.wait();
            ++products_run;
            return out;
        }
    }
#endif
    auto out = at::matmul(a, b);
    return bias.defined() ? out.add_(bias) : out;
}

struct Matmul : torch::autograd::Function<Matmul> {
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& a, const torch::Tensor& b) {
        RECORD_FUNCTION("gafx::onednn_matmul", std::vector<c10::IValue>());
        ctx->save_for_backward({a, b});
        return product(a, b, {});
    }
    static variable_list backward(AutogradContext* ctx, variable_list grad) {
        RECORD_FUNCTION("gafx::onednn_matmul_backward", std::vector<c10::IValue>());
        const auto saved = ctx->get_saved_variables();
        const auto &a = saved[0], &b = saved[1];
        const auto& g = grad[0];
        torch::Tensor ga, gb;
        if (ctx->needs_input_grad(0)) ga = product(g, b.transpose(-2, -1), {});
        if (ctx->needs_input_grad(1)) gb = product(a.transpose(-2, -1), g, {});
        return {ga, gb};
    }
};

struct Linear : torch::autograd::Function<Linear> {
    // The bias optional: libtorch 1.13's Function takes no undefined tensor as an input.
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w,
                                 const c10::optional<torch::Tensor>& bias) {
        RECORD_FUNCTION("gafx::onednn_linear", std::vector<c10::IValue>());
        const auto x2 = x.reshape({-1, x.size(-1)});
        ctx->save_for_backward({x2, w});
        ctx->saved_data["bias"] = bias.has_value();
        auto sizes = x.sizes().vec();
        sizes.back() = w.size(0);
        return product(x2, w.t(), bias.value_or(torch::Tensor())).view(sizes);
    }
    static variable_list backward(AutogradContext* ctx, variable_list grad) {
        RECORD_FUNCTION("gafx::onednn_linear_backward", std::vector<c10::IValue>());
        const auto saved = ctx->get_saved_variables();
        const auto &x2 = saved[0], &w = saved[1];
        const auto g2 = grad[0].reshape({-1, w.size(0)});
        torch::Tensor gx, gw, gb;
        if (ctx->needs_input_grad(0)) {
            auto sizes = grad[0].sizes().vec();
            sizes.back() = w.size(1);
            gx = product(g2, w, {}).view(sizes);
        }
        if (ctx->needs_input_grad(1)) gw = product(g2.t(), x2, {});
        if (ctx->saved_data["bias"].toBool() && ctx->needs_input_grad(2)) gb = g2.sum(0);
        return {gx, gw, gb};
    }
};

} // namespace

bool onednn_matmul_available() {
#ifdef GAFX_HAVE_ONEDNN
    return true;
#else
    return false;
#endif
}

void set_onednn_matmul(bool on) { switched_on = on; }

uint64_t onednn_products_run() { return products_run; }

bool onednn_matmul_used(const torch::Tensor& a) {
    return onednn_matmul_available() && switched_on && a.device().is_cpu() && a.scalar_type() == at::kFloat &&
           !autocast::enabled(false);
}

const char* matmul_path(const torch::Device& device, bool fp32) {
    if (!device.is_cpu() || !fp32) return "ATen";
    if (!onednn_matmul_available()) return "ATen (OpenBLAS; built without libdnnl-dev)";
    return switched_on ? "oneDNN matmul (models/onednn_matmul)" : "ATen (OpenBLAS)";
}

torch::Tensor matmul_fp32(const torch::Tensor& a, const torch::Tensor& b) {
    if (!onednn_matmul_used(a) || b.scalar_type() != at::kFloat || a.dim() < 2 || a.dim() != b.dim() ||
        a.sizes().slice(0, a.dim() - 2) != b.sizes().slice(0, b.dim() - 2))
        return at::matmul(a, b);
    return Matmul::apply(a, b);
}

torch::Tensor linear_fp32(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& bias) {
    if (!onednn_matmul_used(x) || w.scalar_type() != at::kFloat || w.dim() != 2 || x.dim() < 1 ||
        (bias.defined() && (bias.scalar_type() != at::kFloat || bias.dim() != 1)))
        return at::linear(x, w, bias);
    return Linear::apply(x, w, bias.defined() ? c10::optional<torch::Tensor>(bias) : c10::nullopt);
}

} // namespace gafx::models
