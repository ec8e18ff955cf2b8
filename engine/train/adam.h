#pragma once
// Adam (Kingma & Ba), the same update as torch.optim.Adam (non-fused, no weight decay, no
// amsgrad), with its state addressable by parameter name: a checkpoint stores it under the
// module's names, which survives libtorch versions whose optimiser state keys differ.
#include "models/weights.h"

#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gafx::train {

struct AdamOptions {
    double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};

class Adam {
public:
    // Only parameters that require grad are optimised.
    Adam(std::vector<std::pair<std::string, torch::Tensor>> named_params, AdamOptions options = {});

    // One update at `lr` from the current .grad of each parameter (parameters without a grad
    // are skipped, as torch does).
    void step(double lr);
    void zero_grad();
    // Every optimised parameter's gradient, in order; a zero one is made where backward gave none,
    // so that data-parallel ranks reduce the same list (zeros leave Adam's update at zero).
    std::vector<torch::Tensor> gradients();
    // fp16 loss scaling: divides every gradient by `scale`; false when any is not finite.
    bool unscale_and_check(double scale);

    // "<name>.exp_avg", "<name>.exp_avg_sq" and "<name>.step" (int64 scalar) per parameter.
    models::StateDict state() const;
    // Throws gafx::Error naming `file` when a parameter's state is missing or of another shape.
    void load_state(const models::StateDict& state, const std::string& file);

private:
    struct Param {
        std::string name;
        torch::Tensor p, exp_avg, exp_avg_sq;
        int64_t step = 0;
    };
    std::vector<Param> params_;
    AdamOptions opt_;
};

} // namespace gafx::train
