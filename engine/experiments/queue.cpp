#include "experiments/queue.h"

#include "core/error.h"

#include <algorithm>
#include <map>

namespace gafx::experiments {

QueuedExperiment queue(store::RunStore& db, const Experiment& ex) {
    try {
        check_experiment(ex, [&db](const std::string& name) { return db.has_dataset(name); });
        check_weights(ex);
    } catch (const Error& e) {
        // An Experiment carries no file; its name says which one (and a missing weights file its own).
        throw Error(e.path().empty() ? ex.name : e.path(), e.reason(), e.fix(), e.field());
    }
    // A k-fold split needs a fold per run, any other split none: a fold on a random split would
    // silently train on it, a k-fold split without one has no test side to speak of.
    std::map<std::string, store::DatasetSummary> datasets;
    for (auto& d : db.list_datasets()) datasets[d.name] = d;
    for (size_t i = 0; i < ex.runs.size(); ++i) {
        const RunConfig& r = ex.runs[i];
        const store::DatasetSummary& d = datasets[r.dataset];
        const ErrorField at{"$ (run " + std::to_string(i + 1) + " of " + std::to_string(ex.runs.size()) + ").fold", "fold"};
        if (d.split_kind == "kfold" && (r.fold < 0 || r.fold >= d.folds))
            throw Error(ex.name, "dataset '" + r.dataset + "' is split into " + std::to_string(d.folds) + " folds; " +
                                     (r.fold < 0 ? "name the fold" : "fold " + std::to_string(r.fold) + " does not exist"),
                        "add \"fold\": [0, 1, ..., " + std::to_string(d.folds - 1) + "] to the grid", at);
        if (d.split_kind != "kfold" && r.fold >= 0)
            throw Error(ex.name, "dataset '" + r.dataset + "' has a " + d.split_kind + " split, not folds",
                        "drop \"fold\", or split it with gafx dataset split " + r.dataset + " --split kfold:10", at);
    }
    // A pretraining run named by experiment and seed becomes the id of that experiment's newest
    // run with the seed that has not failed, diverged or been cancelled: queued runs count, so a
    // file's `requires` queued just before resolves, and the queue trains it first.
    std::vector<RunConfig> resolved = ex.runs;
    std::vector<store::RunRecord> existing;
    for (size_t i = 0; i < resolved.size(); ++i) {
        RunConfig& r = resolved[i];
        if (r.pretraining != "run") r.pretrained_experiment.clear(); // the wo/ arm of a grid over pretraining
        if (r.pretraining != "run" || r.pretrained_experiment.empty()) continue;
        if (existing.empty()) existing = db.list_runs();
        int64_t found = 0;
        for (const auto& e : existing)
            if (e.experiment == r.pretrained_experiment && uint64_t(e.seed) == r.pretrained_seed &&
                !store::is_failure(e.status) && e.status != store::RunStatus::Cancelled)
                found = std::max(found, e.id);
        if (found == 0)
            throw Error(ex.name,
                        "pretrained_run names experiment '" + r.pretrained_experiment + "' seed " +
                            std::to_string(r.pretrained_seed) + ", and this workspace has no such run that is queued, "
                            "running or finished",
                        "train that experiment first, or list its file under \"requires\"",
                        {"$ (run " + std::to_string(i + 1) + " of " + std::to_string(resolved.size()) + ").pretrained_run",
                         "pretrained_run"});
        r.pretrained_run = found;
        r.pretrained_experiment.clear();
        r.pretrained_seed = 0;
    }
    std::vector<store::NewRun> runs;
    runs.reserve(resolved.size());
    for (const RunConfig& r : resolved) runs.push_back({to_json(r), int64_t(r.seed), r.dataset});
    return db.queue_experiment(ex.name, ex.source, runs);
}

} // namespace gafx::experiments
