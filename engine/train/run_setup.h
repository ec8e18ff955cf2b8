#pragma once
// Everything a run needs before its first step, built from its stored config: the dataset and
// split, the clip plan, the load items of each side, the device and precision, and the model
// (seeded, with pretrained weights and feature normalisation applied).
#include "data/batch_loader.h"
#include "experiments/experiment.h"
#include "store/run_store.h"
#include "train/device_input.h"
#include "train/precision.h"
#include "train/train_model.h"

#include <string>
#include <vector>

namespace gafx::train {

struct TrainOptions;

struct RunSetup {
    experiments::RunConfig config;
    store::StoredDataset dataset; // with the split the run was queued on
    data::Split split;            // the run's three subsets (k-fold: its fold's)
    std::vector<data::LoadItem> train_items, val_items, test_items;
    int classes = 0;
    bool multi_label = false;
    torch::Device device{torch::kCPU};
    DevicePath device_path; // how batches reach the device
    Precision precision = Precision::Fp32;
    TrainModel model{nullptr};
    std::string notes; // what was loaded from where, for the log
};

// The clip plan a run trains and evaluates on (augmentation off: one track_seconds clip).
data::ClipPlanOptions clip_plan_options(const experiments::RunConfig& c);

// Extractor -> normalisation -> classifier as the config names them, for `classes` classes, with
// fresh weights from torch's global generator (seed it first for reproducible ones). Throws
// gafx::Error when the clips give fewer feature frames than one 16-frame patch.
TrainModel build_model(const experiments::RunConfig& c, int classes);

// Throws gafx::Error naming the dataset, file or config value at fault.
RunSetup setup_run(store::RunStore& store, const store::RunRecord& run, const TrainOptions& options);

// Loader options for one side of the split.
data::LoaderOptions loader_options(const RunSetup& s, const TrainOptions& options, bool train);

// Which training clips the normalisation is measured on: a seeded sample of `max_clips` (at
// least one per class where there are fewer classes than that) drawn round-robin over the
// classes, so every class is in it — the catalogue is sorted by class, and its first clips
// would be one genre's. Indices into `items`, ascending.
std::vector<size_t> normalisation_sample(const std::vector<data::LoadItem>& items, int classes, size_t max_clips,
                                         uint64_t seed);

// AST's normalisation (mean and std of the extractor's output) over normalisation_sample, for
// every extractor: learned ones at their starting weights. Stored in the model's buffers, so
// with the run's checkpoint and weights. Deterministic whatever the thread count. A run
// fine-tuned from another run keeps that run's statistics.
void fit_normalisation(RunSetup& s, const TrainOptions& options, size_t max_clips = 200);

} // namespace gafx::train
