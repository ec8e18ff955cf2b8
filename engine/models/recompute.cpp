#include "models/recompute.h"

#include "core/autocast_state.h"
#include "core/error.h"
#include "models/working_weights.h"

#include <torch/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include <utility>

namespace gafx::models {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// What backward needs besides tensors, kept in the context as a capsule.
struct SegmentState : torch::CustomClassHolder {
    Segment body;
    torch::nn::Module* owner = nullptr;
    autocast::State autocast;
    size_t inputs = 0;
};

// Buffers (BatchNorm's running mean, variance and count) as the first run left them.
class KeepBuffers {
public:
    explicit KeepBuffers(torch::nn::Module& m) {
        for (auto& b : m.buffers(true)) kept_.emplace_back(b, b.clone());
    }
    ~KeepBuffers() {
        torch::NoGradGuard no_grad;
        for (auto& [buffer, value] : kept_) buffer.copy_(value);
    }
    KeepBuffers(const KeepBuffers&) = delete;
    KeepBuffers& operator=(const KeepBuffers&) = delete;

private:
    std::vector<std::pair<torch::Tensor, torch::Tensor>> kept_;
};

// Parameters are inputs of the node too: then backward runs whenever they need gradients even
// if the segment's tensor inputs do not (the first layer's waveform), and their gradients flow
// through the engine like any other instead of being accumulated behind its back.
struct RecomputeFunction : torch::autograd::Function<RecomputeFunction> {
    static variable_list forward(AutogradContext* ctx, c10::intrusive_ptr<SegmentState> state,
                                 at::TensorList inputs, at::TensorList params) {
        ctx->save_for_backward(inputs.vec());
        ctx->saved_data["state"] = c10::IValue::make_capsule(state);
        state->autocast = autocast::State::current();
        state->inputs = inputs.size();
        (void)params;
        return state->body(inputs.vec());
    }

    static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
        auto state = c10::static_intrusive_pointer_cast<SegmentState>(ctx->saved_data["state"].toCapsule());
        const auto saved = ctx->get_saved_variables();
        Tensors inputs;
        variable_list wrt;
        for (const auto& x : saved) {
            inputs.push_back(x.detach().requires_grad_(x.requires_grad()));
            if (x.requires_grad()) wrt.push_back(inputs.back());
        }
        const auto params = state->owner->parameters(true);
        for (const auto& p : params)
            if (p.requires_grad()) wrt.push_back(p);

        // The buffers go back only after the gradients are taken: BatchNorm's backward holds
        // them as saved variables, and restoring them in place would invalidate those.
        KeepBuffers buffers(*state->owner);
        variable_list outputs, grads;
        {
            torch::AutoGradMode grad_on(true);
            autocast::Restore as_in_forward(state->autocast);
            // The gradients are taken with respect to the weights themselves, so the second run
            // reads them (autocast casts them to the same values the working copies hold).
            UseWorking weights_themselves(nullptr);
            const auto again = state->body(inputs);
            for (size_t i = 0; i < again.size(); ++i) {
                if (!again[i].requires_grad()) continue;
                outputs.push_back(again[i]);
                grads.push_back(grad_outputs[i]);
            }
        }
        const variable_list found = outputs.empty() || wrt.empty()
                                        ? variable_list(wrt.size())
                                        : torch::autograd::grad(outputs, wrt, grads, /*retain_graph=*/false,
                                                                /*create_graph=*/false, /*allow_unused=*/true);
        // One slot for the state, then one per input and per parameter.
        variable_list result{torch::Tensor()};
        size_t next = 0;
        for (const auto& x : saved) result.push_back(x.requires_grad() ? found[next++] : torch::Tensor());
        for (const auto& p : params) result.push_back(p.requires_grad() ? found[next++] : torch::Tensor());
        return result;
    }
};

} // namespace

Tensors recompute(torch::nn::Module& owner, const Tensors& inputs, const Segment& body) {
    const auto params = owner.parameters(true);
    bool needs_grad = false;
    for (const auto& x : inputs) {
        if (!x.defined()) throw Error({}, "recompute: undefined input", "pass only defined tensors to a segment");
        needs_grad = needs_grad || x.requires_grad();
    }
    for (const auto& p : params) needs_grad = needs_grad || p.requires_grad();
    if (!torch::GradMode::is_enabled() || !needs_grad) return body(inputs);

    auto state = c10::make_intrusive<SegmentState>();
    state->body = body;
    state->owner = &owner;
    return RecomputeFunction::apply(state, at::TensorList(inputs), at::TensorList(params));
}

torch::Tensor recompute(torch::nn::Module& owner, const torch::Tensor& input,
                        const std::function<torch::Tensor(const torch::Tensor&)>& body) {
    return recompute(owner, Tensors{input}, [body](const Tensors& x) { return Tensors{body(x[0])}; })[0];
}

} // namespace gafx::models
