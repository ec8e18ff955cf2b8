#include "workflows/import_runs.h"

#include "store/run_paths.h"

#include <filesystem>
#include <map>

namespace fs = std::filesystem;

namespace gafx::workflows {
namespace {

bool has_files(const fs::path& dir) {
    std::error_code ec;
    return fs::is_directory(dir, ec) && !fs::is_empty(dir, ec);
}

// Copies (or links) `from` into `to` through `to`.part; true when anything was linked.
bool place_folder(const fs::path& from, const fs::path& to, bool link) {
    const fs::path part = to.string() + ".part";
    fs::remove_all(part);
    fs::create_directories(part);
    bool linked = false;
    for (const auto& e : fs::recursive_directory_iterator(from)) {
        const fs::path dest = part / fs::relative(e.path(), from);
        if (e.is_directory()) {
            fs::create_directories(dest);
            continue;
        }
        if (!e.is_regular_file()) continue; // links and devices are not a run's files
        std::error_code ec;
        if (link) fs::create_hard_link(e.path(), dest, ec);
        if (link && !ec) linked = true;
        else fs::copy_file(e.path(), dest, fs::copy_options::overwrite_existing);
    }
    fs::rename(part, to);
    return linked;
}

} // namespace

std::vector<RunsImport> import_runs(store::RunStore& db, const std::vector<std::string>& files, bool link) {
    std::vector<RunsImport> out;
    for (const auto& file : files) {
        RunsImport rep;
        rep.source = file;
        rep.rows = db.import_runs(file);
        for (const auto& r : rep.rows.runs) {
            using O = store::ImportedRun::Outcome;
            if (r.outcome != O::Imported && r.outcome != O::AlreadyHere) continue;
            store::RunRecord there, here;
            there.id = r.from_id;
            there.uid = here.uid = r.uid;
            there.checkpoint_path = r.from_checkpoint;
            here.id = r.to_id;
            if (const auto stored = db.run(r.to_id)) here = *stored;
            RunFolder f;
            f.run_id = r.to_id;
            f.from = store::run_paths(file, there).dir;
            f.to = store::run_paths(db.path(), here).dir;
            if (has_files(f.to)) f.outcome = RunFolder::Outcome::AlreadyHere;
            else if (!has_files(f.from)) f.outcome = RunFolder::Outcome::NoneThere;
            else {
                try {
                    f.outcome = place_folder(f.from, f.to, link) ? RunFolder::Outcome::Linked : RunFolder::Outcome::Copied;
                } catch (const std::exception& e) {
                    f.outcome = RunFolder::Outcome::Failed;
                    f.error = e.what();
                    std::error_code ec;
                    fs::remove_all(f.to + ".part", ec);
                }
            }
            rep.folders.push_back(std::move(f));
        }
        out.push_back(std::move(rep));
    }
    return out;
}

namespace {

const char* outcome_word(store::ImportedRun::Outcome o) {
    using O = store::ImportedRun::Outcome;
    return o == O::Imported ? "imported" : o == O::AlreadyHere ? "already here" : o == O::Skipped ? "skipped" : "conflict";
}

const char* folder_word(RunFolder::Outcome o) {
    using O = RunFolder::Outcome;
    switch (o) {
    case O::Copied: return "files copied";
    case O::Linked: return "files linked";
    case O::AlreadyHere: return "files already here";
    case O::NoneThere: return "no files there (never checkpointed, or its runs/ folder was not copied with it)";
    case O::Failed: return "files NOT copied";
    }
    return "";
}

const RunFolder* folder_of(const RunsImport& r, int64_t id) {
    for (const auto& f : r.folders)
        if (id && f.run_id == id) return &f;
    return nullptr;
}

} // namespace

std::vector<std::string> describe(const RunsImport& r) {
    using O = store::ImportedRun::Outcome;
    std::map<O, int> n;
    for (const auto& run : r.rows.runs) ++n[run.outcome];
    std::string head = r.source + ": " + std::to_string(n[O::Imported]) + " run(s) imported, " +
                       std::to_string(n[O::AlreadyHere]) + " already here, " + std::to_string(n[O::Skipped]) +
                       " skipped, " + std::to_string(n[O::Conflict]) + " conflict(s)";
    for (size_t i = 0; i < r.rows.datasets_added.size(); ++i)
        head += (i ? ", " : "; dataset(s) added: ") + r.rows.datasets_added[i];
    std::vector<std::string> out{head};
    for (const auto& run : r.rows.runs) {
        std::string line = "run " + std::to_string(run.from_id) + " there";
        if (run.to_id) line += " -> " + std::to_string(run.to_id) + " here";
        line += std::string(": ") + outcome_word(run.outcome);
        if (!run.reason.empty()) line += ": " + run.reason;
        if (const RunFolder* f = folder_of(r, run.to_id)) {
            line += std::string("; ") + folder_word(f->outcome);
            if (!f->error.empty()) line += ": " + f->error + " (import again to retry)";
        }
        out.push_back(std::move(line));
    }
    return out;
}

bool needs_attention(const RunsImport& r, const store::ImportedRun& run) {
    if (run.outcome == store::ImportedRun::Outcome::Conflict) return true;
    const RunFolder* f = folder_of(r, run.to_id);
    return f && f->outcome == RunFolder::Outcome::Failed;
}

bool has_problems(const RunsImport& r) {
    for (const auto& run : r.rows.runs)
        if (needs_attention(r, run)) return true;
    return false;
}

} // namespace gafx::workflows
