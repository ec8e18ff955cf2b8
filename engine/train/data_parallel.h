#pragma once
// The few places where a data-parallel rank's trainer differs from one process: agreeing on a
// stop request, starting from rank 0's weights, and gathering an evaluation pass. The gradient
// sum itself is train/grad_reducer's (or World::sum's), called from the step.
#include "train/distributed.h"
#include "train/evaluation.h"
#include "train/grad_reducer.h"
#include "train/step.h"
#include "train/trainer.h"

#include <torch/nn/module.h>

#include <cstdint>
#include <string>
#include <vector>

namespace gafx::train {

// The strongest pending request of any rank, so every rank pauses or stops at the same step.
// Without a world: this process's own.
TrainControl::Request agreed_request(World* world, const TrainControl& control);

// `settings` for this rank's slice of a global batch of `global_batch` clips: the loss divided by
// it, loss and correct count summed over ranks, gradients summed in buckets before Adam: by
// `reducer` while backward runs, or without one after backward (World::sum of Adam::gradients).
void share_step(StepSettings& settings, World& world, Adam& adam, int64_t global_batch,
                GradReducer* reducer = nullptr);

// Rank 0's parameters and buffers (the normalisation statistics among them) on every rank.
void broadcast_model(World& world, torch::nn::Module& model);

// Every rank must continue from the same place: a rank that read another checkpoint (or none:
// the workspace's folder is not shared with it) would train other weights. Throws gafx::Error
// naming `checkpoint` and the first rank that differs from rank 0.
void check_same_start(World& world, int64_t epoch, int64_t batch, int64_t step, const std::string& checkpoint);

// Every rank's clips of one evaluation pass, with the positions the loader gave them, become the
// whole pass on every rank, ordered by position (the order one process evaluates them in); the
// loss sums are added.
void gather_clips(World& world, std::vector<ClipScores>& clips, std::vector<int64_t>& positions, double& loss_sum,
                  int classes);

} // namespace gafx::train
