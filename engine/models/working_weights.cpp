#include "models/working_weights.h"

#include "core/autocast_state.h"
#include "models/onednn_matmul.h"

#include <torch/nn/modules/conv.h>

#include <unordered_set>

namespace gafx::models {
namespace {

thread_local const WorkingTable* current = nullptr;

// Asked of autocast itself, since its lists differ between libtorch versions.
bool autocast_lowers_conv_transpose(const torch::Device& device, torch::ScalarType dtype) {
    const bool cuda = device.is_cuda();
    auto state = autocast::State::current();
    (cuda ? state.cuda : state.cpu) = true;
    (cuda ? state.cuda_dtype : state.cpu_dtype) = dtype;
    autocast::Restore on(state);
    torch::NoGradGuard no_grad;
    const auto x = torch::zeros({1, 1, 2}, torch::TensorOptions().device(device));
    return at::conv_transpose1d(x, torch::zeros({1, 1, 1}, x.options())).scalar_type() == dtype;
}

} // namespace

const torch::Tensor& working(const torch::Tensor& w) {
    if (!current || !w.defined()) return w;
    const auto it = current->find(w.unsafeGetTensorImpl());
    return it == current->end() ? w : it->second;
}

bool has_working() { return current != nullptr; }

UseWorking::UseWorking(const WorkingTable* table) : before_(current) { current = table; }
UseWorking::~UseWorking() { current = before_; }

std::vector<torch::Tensor> low_precision_weights(torch::nn::Module& root, torch::ScalarType dtype) {
    std::vector<torch::Tensor> out;
    const auto params = root.parameters(true);
    if (params.empty()) return out;
    const bool transposed = autocast_lowers_conv_transpose(params.front().device(), dtype);
    std::unordered_set<const c10::TensorImpl*> seen;
    auto add = [&](const torch::Tensor& t) {
        if (t.defined() && seen.insert(t.unsafeGetTensorImpl()).second) out.push_back(t);
    };
    for (const auto& m : root.modules()) {
        const bool low = m->as<torch::nn::LinearImpl>() || m->as<torch::nn::Conv1dImpl>() ||
                         m->as<torch::nn::Conv2dImpl>() ||
                         (transposed && (m->as<torch::nn::ConvTranspose1dImpl>() ||
                                         m->as<torch::nn::ConvTranspose2dImpl>()));
        if (!low) continue;
        for (const auto& p : m->parameters(/*recurse=*/false)) add(p);
    }
    return out;
}

torch::Tensor linear(const torch::nn::Linear& l, const torch::Tensor& x) {
    return linear_fp32(x, working(l->weight), working(l->bias)); // at::linear but on fp32 CPU tensors
}

} // namespace gafx::models
