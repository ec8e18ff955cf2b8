#pragma once
// Queueing an experiment file the way `gafx train FILE` does: the files it `requires` first (the
// AudioSet pretraining that table 4's fine-tuning runs name by experiment and seed), then the
// file itself, so training the queue in order trains the pretraining before what uses it.
#include "experiments/experiment.h"
#include "store/run_store.h"

#include <functional>
#include <string>
#include <vector>

namespace gafx::workflows {

struct QueuedFile {
    std::string path;
    experiments::Experiment experiment;
    store::QueuedExperiment queued;
};

// One part of the grid for one machine (experiments::shard_runs): `index` 0-based of `count`.
struct Shard {
    int index = 0;
    int count = 1;
};

// Reads `path` (datasets checked against the workspace), queues each required file first —
// only when the workspace has no run of that experiment queued, running or finished, so a second
// `gafx train table4.json` reuses the pretraining — then the file itself. The weights every
// file's runs name are checked before anything is queued (experiments::check_weights): a missing
// one stops the command with its `gafx weights fetch`. With a shard, only that part's runs (each
// file's experiment holds just those; a file left with none is not queued), the partition made
// over every file as if none had been queued yet, so it is the same on every machine. Returns
// what it queued, in training order. Throws gafx::Error naming the file at fault, also for a cycle.
std::vector<QueuedFile> queue_file(store::RunStore& db, const std::string& path, Shard shard = {});

// `path` and every file it requires, read without a workspace, in training order (required
// files first, each once): what --dry-run lists and a partition is made over. With
// `dataset_exists`, each run's dataset is checked as queueing checks it (parse_experiment).
std::vector<QueuedFile> read_files(const std::string& path,
                                   const std::function<bool(const std::string&)>& dataset_exists = {});
// Their experiments, in the same order (what experiments::shard_runs takes).
std::vector<experiments::Experiment> experiments_of(const std::vector<QueuedFile>& files);

} // namespace gafx::workflows
