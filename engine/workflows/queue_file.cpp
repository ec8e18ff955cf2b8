#include "workflows/queue_file.h"

#include "core/error.h"
#include "experiments/queue.h"

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

namespace gafx::workflows {
namespace {

bool has_live_run(store::RunStore& db, const std::string& experiment) {
    for (const auto& r : db.list_runs())
        if (r.experiment == experiment && !store::is_failure(r.status) && r.status != store::RunStatus::Cancelled)
            return true;
    return false;
}

void queue_into(store::RunStore& db, const std::string& path, std::vector<std::string>& chain,
                std::vector<QueuedFile>& out) {
    const std::string key = fs::weakly_canonical(path).string();
    if (std::find(chain.begin(), chain.end(), key) != chain.end())
        throw Error(path, "the experiment files require each other in a cycle", "remove one of the \"requires\" entries");
    chain.push_back(key);
    experiments::Experiment ex =
        experiments::read_experiment(path, [&db](const std::string& name) { return db.has_dataset(name); });
    for (const auto& req : ex.requires) {
        const std::string req_path = (fs::path(path).parent_path() / req).string();
        // Read even when not queued, so a broken or missing file is said now.
        const auto required = experiments::read_experiment(req_path);
        if (!has_live_run(db, required.name)) queue_into(db, req_path, chain, out);
    }
    chain.pop_back();
    QueuedFile q;
    q.path = path;
    try {
        q.queued = experiments::queue(db, ex);
    } catch (const Error& e) {
        throw Error(path, e.reason(), e.fix(), e.field());
    }
    q.experiment = std::move(ex);
    out.push_back(std::move(q));
}

} // namespace

std::vector<QueuedFile> queue_file(store::RunStore& db, const std::string& path) {
    std::vector<QueuedFile> out;
    std::vector<std::string> chain;
    queue_into(db, path, chain, out);
    return out;
}

} // namespace gafx::workflows
