#include "workflows/queue_file.h"

#include "core/error.h"
#include "experiments/queue.h"
#include "experiments/shard.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>

namespace fs = std::filesystem;

namespace gafx::workflows {
namespace {

struct Plan {
    std::set<std::string> live;    // experiments with a run queued, running or finished
    std::set<std::string> planned; // canonical paths already in `files`
    std::vector<std::string> chain;
    std::vector<QueuedFile> files; // in training order
};

using DatasetCheck = std::function<bool(const std::string&)>;

void plan_file(const DatasetCheck& dataset_exists, const std::string& path, Plan& plan) {
    const std::string key = fs::weakly_canonical(path).string();
    if (std::find(plan.chain.begin(), plan.chain.end(), key) != plan.chain.end())
        throw Error(path, "the experiment files require each other in a cycle", "remove one of the \"requires\" entries");
    if (plan.planned.count(key)) return;
    plan.chain.push_back(key);
    experiments::Experiment ex = experiments::read_experiment(path, dataset_exists);
    for (const auto& req : ex.required_files) {
        const std::string req_path = (fs::path(path).parent_path() / req).string();
        // Read even when not queued, so a broken or missing file is said now.
        const auto required = experiments::read_experiment(req_path);
        if (!plan.live.count(required.name)) plan_file(dataset_exists, req_path, plan);
    }
    plan.chain.pop_back();
    plan.planned.insert(key);
    QueuedFile q;
    q.path = path;
    q.experiment = std::move(ex);
    plan.files.push_back(std::move(q));
}

// Keeps each file's runs that are in the shard, by canonical path and index in its grid.
void keep_shard(const DatasetCheck& dataset_exists, const std::string& path, Shard shard, Plan& plan) {
    Plan whole;
    plan_file(dataset_exists, path, whole);
    std::set<std::pair<std::string, size_t>> chosen;
    for (const auto& ref : experiments::shard_runs(experiments_of(whole.files), shard.index, shard.count))
        chosen.insert({fs::weakly_canonical(whole.files[ref.file].path).string(), ref.run});
    std::vector<QueuedFile> kept;
    for (auto& f : plan.files) {
        const std::string key = fs::weakly_canonical(f.path).string();
        std::vector<experiments::RunConfig> runs;
        for (size_t i = 0; i < f.experiment.runs.size(); ++i)
            if (chosen.count({key, i})) runs.push_back(f.experiment.runs[i]);
        if (runs.empty()) continue;
        f.experiment.runs = std::move(runs);
        kept.push_back(std::move(f));
    }
    plan.files = std::move(kept);
}

} // namespace

std::vector<QueuedFile> read_files(const std::string& path, const DatasetCheck& dataset_exists) {
    Plan plan;
    plan_file(dataset_exists, path, plan);
    return std::move(plan.files);
}

std::vector<experiments::Experiment> experiments_of(const std::vector<QueuedFile>& files) {
    std::vector<experiments::Experiment> out;
    out.reserve(files.size());
    for (const auto& f : files) out.push_back(f.experiment);
    return out;
}

std::vector<QueuedFile> queue_file(store::RunStore& db, const std::string& path, Shard shard) {
    const DatasetCheck dataset_exists = [&db](const std::string& name) { return db.has_dataset(name); };
    Plan plan;
    for (const auto& r : db.list_runs())
        if (!store::is_failure(r.status) && r.status != store::RunStatus::Cancelled) plan.live.insert(r.experiment);
    plan_file(dataset_exists, path, plan);
    if (shard.count != 1) keep_shard(dataset_exists, path, shard, plan);
    // Every file's weights before anything is queued: a missing one stops the whole command.
    for (const auto& f : plan.files) {
        try {
            experiments::check_weights(f.experiment);
        } catch (const Error& e) {
            throw Error(e.path().empty() ? f.path : e.path(), e.reason(), e.fix(), e.field());
        }
    }
    for (auto& f : plan.files) {
        try {
            f.queued = experiments::queue(db, f.experiment);
        } catch (const Error& e) {
            throw Error(f.path, e.reason(), e.fix(), e.field());
        }
    }
    return std::move(plan.files);
}

} // namespace gafx::workflows
