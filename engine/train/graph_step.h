#pragma once
// A training step replayed as one CUDA graph, as torch.cuda.graphs captures a whole network: the
// forward, the loss and the backward for one batch shape are captured once, after warm-up steps,
// into the graph's own memory; each later step copies its batch into the graph's input, replays
// it (one launch where eager mode launches hundreds of kernels, which is what bounds a small AST
// step at batch 4 on a GPU), reads the loss and, when it is finite, runs Adam outside the graph,
// where the learning rate may change from step to step.
//
// A batch of another shape (an epoch's short last batch), fp16 (its loss scale decides on the
// host), data parallelism (collectives between ranks) and a CPU all take train_step instead.
// The capture itself is compiled only against a libtorch with CUDA (GAFX_HAVE_CUDA_GRAPHS); in
// any other build available() is false and every step is train_step's. The trainer uses it for
// GPU runs (TrainOptions::cuda_graphs); `gafx bench train --cuda-graph` and cuda_check time and
// check it.
#include "train/adam.h"
#include "train/step.h"

#include <torch/types.h>

#include <memory>
#include <string>

namespace gafx::train {

class GraphedStep {
public:
    // Whether this build can capture CUDA graphs.
    static bool available();
    // Why a step with these settings is not captured; empty when it is.
    static std::string refusal(const StepSettings& settings);

    static constexpr int kDefaultWarmup = 3;

    // `warmup` eager steps (at least 1) precede the capture; `forward` and `adam` must outlive this.
    GraphedStep(Forward forward, Adam& adam, StepSettings settings, int warmup = kDefaultWarmup);
    ~GraphedStep();
    GraphedStep(const GraphedStep&) = delete;
    GraphedStep& operator=(const GraphedStep&) = delete;

    // One optimiser step at `lr` (`step` steps done before it), replayed where it can be.
    StepOutput run(const torch::Tensor& input, const torch::Tensor& targets, double lr, int64_t step);

    // "replayed" once captured, "eager (<why>)" otherwise.
    std::string describe() const;
    // Captured, or never to be (refused, or the capture failed): no longer warming up.
    bool settled() const { return graph_ != nullptr || !why_not_.empty(); }
    bool replayed() const { return graph_ != nullptr; }
    // Why the steps stay eager: the refusal or the failed capture; empty while warming up or once captured.
    const std::string& why_not() const { return why_not_; }

private:
    struct Graph;
    Forward forward_;
    Adam& adam_;
    StepSettings settings_;
    int warmup_left_;
    std::unique_ptr<Graph> graph_;
    std::string why_not_;
};

} // namespace gafx::train
