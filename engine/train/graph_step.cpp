#include "train/graph_step.h"

#ifdef GAFX_HAVE_CUDA_GRAPHS
#include <ATen/autocast_mode.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/cuda.h>
#endif

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace gafx::train {

#ifdef GAFX_HAVE_CUDA_GRAPHS

struct GraphedStep::Graph {
    at::cuda::CUDAGraph graph;
    torch::Tensor input, targets; // the captured batch: each step copies its own in
    torch::Tensor loss, correct;  // written by every replay
    // Backward inside the capture gave each of these its .grad from the graph's memory, and every
    // replay writes there again; an eager step between replays resets them, so they are put back.
    std::vector<torch::Tensor> holders, grads;
};

bool GraphedStep::available() { return true; }

#else

struct GraphedStep::Graph {};

bool GraphedStep::available() { return false; }

#endif

std::string GraphedStep::refusal(const StepSettings& s) {
    if (!available()) return "this libtorch has no CUDA graphs";
    if (!s.device.is_cuda()) return "not on a GPU";
    if (s.precision == Precision::Fp16) return "fp16 loss scaling decides on the host";
    if (s.combine || s.after_backward) return "data-parallel steps talk to other ranks";
    return {};
}

GraphedStep::GraphedStep(Forward forward, Adam& adam, StepSettings settings, int warmup)
    : forward_(std::move(forward)), adam_(adam), settings_(std::move(settings)), warmup_left_(std::max(1, warmup)),
      why_not_(refusal(settings_)) {}

GraphedStep::~GraphedStep() = default;

std::string GraphedStep::describe() const {
    if (graph_) return "replayed";
    return "eager (" + (why_not_.empty() ? std::string("not captured yet") : why_not_) + ")";
}

StepOutput GraphedStep::run(const torch::Tensor& input, const torch::Tensor& targets, double lr, int64_t step) {
    StepSettings s = settings_;
    s.lr = lr;
    s.step = step;
#ifdef GAFX_HAVE_CUDA_GRAPHS
    const bool fits = graph_ && input.sizes() == graph_->input.sizes() && targets.sizes() == graph_->targets.sizes();
    if (why_not_.empty() && !graph_ && warmup_left_ == 0 && input.size(0) > 0) {
        // The capture: on a side stream (capture refuses the default one), with autocast's cast
        // cache off (a cached cast would be captured once and never redone), from no gradients,
        // so that backward's first write is the one the graph keeps.
        auto g = std::make_unique<Graph>();
        g->input = input.clone();
        g->targets = targets.clone();
        adam_.zero_grad();
        const bool cache = at::autocast::is_autocast_cache_enabled();
        at::autocast::set_autocast_cache_enabled(false);
        torch::cuda::synchronize();
        bool begun = false;
        // The capture must end on the stream it began on, the failed one too: ended elsewhere it
        // throws and leaves the side stream capturing, and every later copy then fails.
        const c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool(false, input.device().index());
        try {
            c10::cuda::CUDAStreamGuard on_side(side);
            g->graph.capture_begin();
            begun = true;
            const Forwarded f = forward_loss(forward_, adam_, g->input, g->targets, s);
            g->correct = correct_tensor(f.logits.detach(), g->targets, s.multi_label);
            f.loss.backward();
            g->loss = f.loss.detach();
            begun = false;
            g->graph.capture_end();
        } catch (const std::exception& e) {
            // Something in the step cannot be captured (a host read, a kernel the graph refuses):
            // this run stays eager, and says why.
            if (begun) try {
                    c10::cuda::CUDAStreamGuard on_side(side);
                    g->graph.capture_end(); // throws: the capture was invalidated
                } catch (const std::exception&) {
                }
            at::autocast::set_autocast_cache_enabled(cache);
            adam_.zero_grad();
            const std::string what = e.what();
            why_not_ = "the capture failed: " + what.substr(0, what.find('\n'));
            return train_step(forward_, adam_, input, targets, s);
        }
        torch::cuda::synchronize();
        at::autocast::set_autocast_cache_enabled(cache);
        g->holders = adam_.grad_holders();
        for (const auto& h : g->holders) g->grads.push_back(h.grad());
        graph_ = std::move(g);
        return run(input, targets, lr, step); // the captured batch was not trained on: replay it
    }
    if (fits) {
        Graph& g = *graph_;
        g.input.copy_(input, /*non_blocking=*/true);
        g.targets.copy_(targets, /*non_blocking=*/true);
        // Undefined ones too: a gradient an eager step left where the graph writes none would
        // otherwise be added in again by Adam.
        for (size_t i = 0; i < g.holders.size(); ++i) g.holders[i].mutable_grad() = g.grads[i];
        g.graph.replay();
        StepOutput out;
        out.loss = g.loss.item<double>();
        if (!std::isfinite(out.loss)) return out;
        out.correct = g.correct.item<int64_t>();
        adam_.step(lr);
        out.applied = true;
        return out;
    }
#endif
    if (warmup_left_ > 0 && input.size(0) > 0) --warmup_left_;
    return train_step(forward_, adam_, input, targets, s);
}

} // namespace gafx::train
