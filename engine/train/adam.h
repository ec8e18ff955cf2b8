#pragma once
// Adam (Kingma & Ba), the same update as torch.optim.Adam (no weight decay, no amsgrad), with
// its state addressable by parameter name: a checkpoint stores it under the module's names,
// which survives libtorch versions whose optimiser state keys differ.
//
// On a CPU, fp32 tensors update in one fused pass (train/fused_adam); the others (a GPU's, other
// dtypes, non-contiguous ones) through torch's multi-tensor kernels (_foreach_*, as
// torch.optim.Adam(foreach=True)): a handful of launches per step for all of them, where a GPU
// would otherwise launch several kernels per tensor. Both follow torch's order of operations.
// With working copies (keep_working_copies), the weights that matmuls read in bf16 get a bf16
// copy that the update writes once per step; a forward inside
// models::UseWorking(working_table()) reads them instead of casting each weight at each use.
#include "models/weights.h"
#include "models/working_weights.h"

#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace gafx::train {

struct AdamOptions {
    double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
    bool fused = true; // false: the per-tensor kernels everywhere (a reference for tests and benchmarks)
};

class Adam {
public:
    // Only parameters that require grad are optimised.
    Adam(std::vector<std::pair<std::string, torch::Tensor>> named_params, AdamOptions options = {});

    // One update at `lr` from the current gradient of each parameter (its .grad plus its working
    // copy's; parameters with neither are skipped, as torch does).
    void step(double lr);
    void zero_grad();
    // Every optimised parameter's gradient in fp32, in order (working copies' gradients folded in);
    // a zero one is made where backward gave none, so that data-parallel ranks reduce the same list
    // (zeros leave Adam's update at zero).
    std::vector<torch::Tensor> gradients();
    // Every tensor whose .grad backward fills: each optimised parameter, then its working copy
    // where it has one.
    std::vector<torch::Tensor> grad_holders() const;
    // The same, paired: each optimised parameter, in order, with its working copy (undefined where
    // it has none).
    std::vector<std::pair<torch::Tensor, torch::Tensor>> params_and_copies() const;
    // fp16 loss scaling: divides every gradient by `scale`; false when any is not finite.
    bool unscale_and_check(double scale);

    // Working copies in `dtype` of those of `weights` that are optimised fp32 parameters.
    void keep_working_copies(const std::vector<torch::Tensor>& weights, torch::ScalarType dtype);
    // For models::UseWorking: the copies, first refreshed where their weight changed outside step()
    // (a checkpoint loaded, a broadcast); null without copies.
    const models::WorkingTable* working_table();
    // How the last step() updated: "fused" (one pass), "multi-tensor", "fused + multi-tensor",
    // "per tensor", or "none" before any.
    const char* last_update() const { return last_update_; }

    // "<name>.exp_avg", "<name>.exp_avg_sq" and "<name>.step" (int64 scalar) per parameter.
    models::StateDict state() const;
    // Throws gafx::Error naming `file` when a parameter's state is missing or of another shape.
    void load_state(const models::StateDict& state, const std::string& file);

private:
    struct Param {
        std::string name;
        torch::Tensor p, exp_avg, exp_avg_sq;
        int64_t step = 0;
        torch::Tensor work;      // working copy (a leaf that requires grad), or undefined
        int64_t work_version = -1; // p's version counter when `work` was last written
    };
    void fold_working_grads();
    bool fusable(const Param& s) const;
    // Writes the working copy (where there is one) from the weight, and notes the weight's version.
    static void refresh_working_copy(Param& s);

    std::vector<Param> params_;
    AdamOptions opt_;
    models::WorkingTable table_;
    const char* last_update_ = "none";
};

} // namespace gafx::train
