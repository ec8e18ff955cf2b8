#pragma once
// A run's checkpoint: everything needed to continue as if never stopped. Model (parameters and
// buffers), Adam state, torch's CPU and CUDA RNG states, the data-order position and the running sums of
// the unfinished epoch, in one safetensors file written atomically (temp, fsync, rename): a
// kill at any moment leaves the previous checkpoint or the new one, whole.
#include "train/adam.h"
#include "train/train_model.h"

#include <cstdint>
#include <string>

namespace gafx::train {

struct Position {
    int epoch = 0;       // the epoch to run next (0-based)
    int64_t batch = 0;   // the batch of that epoch to run next
    int64_t step = 0;    // optimiser steps done
};

struct CheckpointState {
    Position position;
    double epoch_loss_sum = 0; // the unfinished epoch's running sums
    int64_t epoch_correct = 0, epoch_clips = 0;
    double best_score = -1;    // best validation score so far (track accuracy or mAP; -1: none yet)
    double best_loss = 1e300;  // val loss at that epoch: breaks ties in the score (a small val set ties often)
    int best_epoch = 0;        // 1-based; 0: none yet
    double loss_scale = 1;     // fp16 loss scaling
    std::string config;        // the run config JSON it was trained with
    std::string run_uid;       // the run it belongs to (RunRecord::uid); empty in checkpoints from before
};

// Writes `path` atomically with a checksum of every tensor, after renaming the file already there
// to previous_checkpoint(path): the last two generations are kept.
void save_checkpoint(const std::string& path, TrainModelImpl& model, const Adam& adam, const CheckpointState& state);
// last.safetensors -> last.prev.safetensors
std::string previous_checkpoint(const std::string& path);
// Fills model and optimiser. Throws gafx::Error naming `path` when it is damaged (checksum),
// truncated or belongs to another model.
CheckpointState load_checkpoint(const std::string& path, TrainModelImpl& model, Adam& adam);

// The model's weights alone (the best epoch's), readable by `--weights` and by Python.
void save_weights(const std::string& path, const torch::nn::Module& model);

} // namespace gafx::train
