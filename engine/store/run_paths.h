#pragma once
// Where a run keeps its files. Every caller (trainer, pretraining, inspector, gafx features)
// asks here, so a run trained with --checkpoint-dir or moved with its database is found alike.
#include <cstdint>
#include <string>

namespace gafx::store {

struct RunRecord;

struct RunPaths {
    std::string dir;  // absolute
    std::string last; // last.safetensors: model, optimiser and position (resume)
    std::string best; // best.safetensors: the weights of the selected epoch
};

// The folder of the run's stored checkpoint when it has one (unless that folder is gone and the
// one beside the database exists: a workspace moved or copied with its runs/ folder); else
// <base>/<id>-<uid> (<base>/<id> for a record without a uid), with base the `runs/` folder beside
// the database when `base` is empty. So a run's files are found on another machine when its
// workspace travels with its runs/ folder, or after gafx runs import copied them.
RunPaths run_paths(const std::string& db_path, const RunRecord& run, const std::string& base = {});
// A run never checkpointed yet (or unknown): <base>/<id>.
RunPaths run_paths(const std::string& db_path, int64_t run_id, const std::string& base = {});

} // namespace gafx::store
