#pragma once
// Everything a run needs before its first step, built from its stored config: the dataset and
// split, the clip plan, the load items of each side, the device and precision, and the model
// (seeded, with pretrained weights and feature normalisation applied).
#include "data/batch_loader.h"
#include "experiments/experiment.h"
#include "store/run_store.h"
#include "train/precision.h"
#include "train/train_model.h"

#include <string>
#include <vector>

namespace gafx::train {

struct TrainOptions;

struct RunSetup {
    experiments::RunConfig config;
    store::StoredDataset dataset;
    std::vector<data::LoadItem> train_items, test_items;
    int classes = 0;
    bool multi_label = false;
    torch::Device device{torch::kCPU};
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

// AST's normalisation statistics of the fixed mel front end over (up to) the first `max_clips`
// training clips in catalogue order: deterministic whatever the thread count.
void fit_normalisation(RunSetup& s, const TrainOptions& options, int max_clips = 200);

} // namespace gafx::train
