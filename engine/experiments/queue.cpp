#include "experiments/queue.h"

#include "core/error.h"

#include <map>

namespace gafx::experiments {

QueuedExperiment queue(store::RunStore& db, const Experiment& ex) {
    try {
        check_experiment(ex, [&db](const std::string& name) { return db.has_dataset(name); });
    } catch (const Error& e) {
        // An Experiment carries no file; its name says which one.
        throw Error(ex.name, e.reason(), e.fix(), e.field());
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
    std::vector<store::NewRun> runs;
    runs.reserve(ex.runs.size());
    for (const RunConfig& r : ex.runs) runs.push_back({to_json(r), int64_t(r.seed), r.dataset});
    return db.queue_experiment(ex.name, ex.source, runs);
}

} // namespace gafx::experiments
