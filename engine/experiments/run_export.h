#pragma once
// Stored runs as data for scripts: the objects `gafx runs --json` prints and the workbench
// exports, and the same fields as CSV (one row per run, the config flattened to config.KEY
// columns). Fractions, not percent; empty / null before a run's first evaluation.
#include "store/run_store.h"

#include <string>
#include <vector>

namespace gafx::experiments {

// A JSON array of objects with id, experiment, status, config, seed, device, precision,
// epochs_done, epochs, step, dataset_id, split_id, selected_epoch (best on val), val_score,
// val_track_accuracy, test_accuracy, test_track_accuracy and test_macro_f1 (at the selected epoch),
// final_test_accuracy, final_test_track_accuracy (last epoch), seconds, error.
std::string runs_json(const std::vector<store::RunRecord>& runs);

// The same fields as RFC 4180 CSV with a header; `config` becomes one column per RunConfig key
// (config.dataset, config.extractor, ...; defaults filled in), empty when it does not parse.
std::string runs_csv(const std::vector<store::RunRecord>& runs);

} // namespace gafx::experiments
