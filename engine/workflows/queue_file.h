#pragma once
// Queueing an experiment file the way `gafx train FILE` does: the files it `requires` first (the
// AudioSet pretraining that table 4's fine-tuning runs name by experiment and seed), then the
// file itself, so training the queue in order trains the pretraining before what uses it.
#include "experiments/experiment.h"
#include "store/run_store.h"

#include <string>
#include <vector>

namespace gafx::workflows {

struct QueuedFile {
    std::string path;
    experiments::Experiment experiment;
    store::QueuedExperiment queued;
};

// Reads `path` (datasets checked against the workspace), queues each required file first —
// only when the workspace has no run of that experiment queued, running or finished, so a second
// `gafx train table4.json` reuses the pretraining — then the file itself. The weights every
// file's runs name are checked before anything is queued (experiments::check_weights): a missing
// one stops the command with its `gafx weights fetch`. Returns what it queued, in training order. Throws gafx::Error naming the file at fault, also for a cycle.
std::vector<QueuedFile> queue_file(store::RunStore& db, const std::string& path);

} // namespace gafx::workflows
