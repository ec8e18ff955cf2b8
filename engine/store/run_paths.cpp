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
    // <id>-<uid>: two workspaces in one folder both have a run 1, never the same folder.
    const fs::path root = base.empty() ? fs::absolute(db_path).parent_path() / "runs" : fs::absolute(base);
    const fs::path beside = run.uid.empty() ? root / std::to_string(run.id) : root / (std::to_string(run.id) + "-" + run.uid);
    if (base.empty() && !run.checkpoint_path.empty()) {
        const fs::path stored = fs::absolute(run.checkpoint_path).parent_path();
        // A workspace copied with its runs/ folder to another machine (a Slurm task's output
        // fetched home): the stored absolute folder is the old machine's; the one beside the copy is it.
        std::error_code ec;
        if (!fs::is_directory(stored, ec) && fs::is_directory(beside, ec)) return in_folder(beside);
        return in_folder(stored);
    }
    return in_folder(beside);
}

} // namespace gafx::store
