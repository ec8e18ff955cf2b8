#pragma once
// Low-precision working copies of the weights that matmuls and convolutions read. Under bf16
// autocast every forward casts each such weight again and every backward casts its gradient
// back to fp32; a training step can instead read copies made once per optimiser step
// (train::Adam refreshes them in its update pass). While a UseWorking scope lives on a thread,
// the layers here read a weight's copy, and its gradient accumulates on the copy, in the copy's
// dtype. Elsewhere (evaluation, recomputation in backward, other threads) they read the weight.
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <memory>
#include <unordered_map>
#include <vector>

namespace gafx::models {

// From a weight's storage to its working copy (a leaf that requires grad).
using WorkingTable = std::unordered_map<const c10::TensorImpl*, torch::Tensor>;

// `w`'s working copy when this thread's table has one, else `w` (also when undefined).
const torch::Tensor& working(const torch::Tensor& w);

class UseWorking {
public:
    explicit UseWorking(const WorkingTable* table); // null: read the weights themselves
    ~UseWorking();
    UseWorking(const UseWorking&) = delete;
    UseWorking& operator=(const UseWorking&) = delete;

private:
    const WorkingTable* before_;
};

// The weights and biases autocast runs in `dtype` on the device `root`'s parameters are on: those
// of every Linear and convolution under `root`, each once, and of transposed convolutions only
// where autocast lowers them (libtorch 1.13's CPU autocast runs them in fp32, where a bf16 copy
// would round the weight).
std::vector<torch::Tensor> low_precision_weights(torch::nn::Module& root, torch::ScalarType dtype);

// A Linear's forward on its working copies.
torch::Tensor linear(const torch::nn::Linear& l, const torch::Tensor& x);

bool has_working(); // a table is set on this thread

// A convolution module's own forward (its padding rules kept) with its weight and bias members
// pointing at their working copies for the call; a module serves one thread at a time.
template <class Impl>
torch::Tensor conv(const std::shared_ptr<Impl>& c, const torch::Tensor& x) {
    Impl& m = *c;
    if (!has_working()) return m.forward(x);
    const torch::Tensor w = m.weight, b = m.bias;
    m.weight = working(w);
    m.bias = working(b);
    struct Back {
        Impl& mod;
        const torch::Tensor &w, &b;
        ~Back() { mod.weight = w, mod.bias = b; }
    } back{m, w, b};
    return m.forward(x);
}
template <class Impl>
torch::Tensor conv(const torch::nn::ModuleHolder<Impl>& c, const torch::Tensor& x) {
    return conv(c.ptr(), x);
}

} // namespace gafx::models
