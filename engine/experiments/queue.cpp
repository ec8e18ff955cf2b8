#include "experiments/queue.h"

#include "core/error.h"

namespace gafx::experiments {

QueuedExperiment queue(store::RunStore& db, const Experiment& ex) {
    try {
        check_experiment(ex, [&db](const std::string& name) { return db.has_dataset(name); });
    } catch (const Error& e) {
        // An Experiment carries no file; its name says which one.
        throw Error(ex.name, e.reason(), e.fix(), e.field());
    }
    std::vector<store::NewRun> runs;
    runs.reserve(ex.runs.size());
    for (const RunConfig& r : ex.runs) runs.push_back({to_json(r), int64_t(r.seed)});
    return db.queue_experiment(ex.name, ex.source, runs);
}

} // namespace gafx::experiments
