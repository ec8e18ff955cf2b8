#include "store/run_paths.h"

#include "store/run_store.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace gafx::store {
namespace {
RunPaths in_folder(const fs::path& dir) {
    return RunPaths{dir.string(), (dir / "last.safetensors").string(), (dir / "best.safetensors").string()};
}
} // namespace

RunPaths run_paths(const std::string& db_path, int64_t run_id, const std::string& base) {
    // Absolute, as it is stored with the run: the workbench and other shells open it from elsewhere.
    const fs::path root = base.empty() ? fs::absolute(db_path).parent_path() / "runs" : fs::absolute(base);
    return in_folder(root / std::to_string(run_id));
}

RunPaths run_paths(const std::string& db_path, const RunRecord& run, const std::string& base) {
    if (base.empty() && !run.checkpoint_path.empty())
        return in_folder(fs::absolute(run.checkpoint_path).parent_path());
    // <id>-<uid>: two workspaces in one folder both have a run 1, never the same folder.
    if (!run.uid.empty()) {
        const fs::path root = base.empty() ? fs::absolute(db_path).parent_path() / "runs" : fs::absolute(base);
        return in_folder(root / (std::to_string(run.id) + "-" + run.uid));
    }
    return run_paths(db_path, run.id, base);
}

} // namespace gafx::store
