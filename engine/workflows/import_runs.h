#pragma once
// Merging workspaces: `gafx runs import OTHER.db...` and the Runs page's "Import runs…". The rows
// go through RunStore::import_runs (one transaction per file); then each run's folder (checkpoints,
// best weights) is copied, or hard-linked, into this workspace's runs/ folder.
#include "store/run_store.h"

#include <string>
#include <vector>

namespace gafx::workflows {

// One run's folder: where it was, where it is now, and what happened.
struct RunFolder {
    int64_t run_id = 0; // here
    std::string from, to;
    enum class Outcome { Copied, Linked, AlreadyHere, NoneThere, Failed } outcome = Outcome::NoneThere;
    std::string error; // Failed: why (the rows are kept; importing again retries)
};

struct RunsImport {
    std::string source;
    store::ImportResult rows;
    std::vector<RunFolder> folders;
};

// Imports every file in turn (a failing file throws gafx::Error naming it; files before it stay
// imported). A run's folder there is found as the trainer finds it (store::run_paths: the stored
// checkpoint folder, else runs/<id>-<uid> beside that workspace) and copied to runs/<id>-<uid>
// beside this one, under a temporary name renamed when whole, so a killed copy leaves no folder
// that looks complete. A folder already there is left alone; with `link`, files are hard links
// where the filesystem allows, copies elsewhere.
std::vector<RunsImport> import_runs(store::RunStore& db, const std::vector<std::string>& files, bool link = false);

// What a user reads, the same in the CLI and the workbench: a line for the file ("SOURCE: 2 run(s)
// imported, 1 already here, 0 skipped, 0 conflict(s)"), then one per run of r.rows.runs, in order.
std::vector<std::string> describe(const RunsImport& r);
// A conflict, or a folder that did not come: the user has something to do about `run`.
bool needs_attention(const RunsImport& r, const store::ImportedRun& run);
// needs_attention for any run of `r`.
bool has_problems(const RunsImport& r);

} // namespace gafx::workflows
