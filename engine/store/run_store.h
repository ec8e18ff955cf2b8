#pragma once
// RunStore: the one owner of the workspace database (SQLite, WAL). Every table, query and
// migration lives behind it; the rest of the engine calls these methods.
#include "data/catalog.h"
#include "data/split.h"
#include "store/run_status.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gafx::store {

class Db;

struct DatasetSummary {
    int64_t id = 0;
    std::string name, kind, root, updated_at;
    int64_t tracks = 0, valid = 0, invalid = 0, missing = 0, classes = 0;
    // The latest split: its kind ("random", "fault-filtered", "kfold"), folds (k-fold), and
    // tracks per subset (k-fold: every track of a fold counts as train).
    std::string split_kind;
    int64_t folds = 0;
    int64_t train = 0, val = 0, test = 0, excluded = 0;
};

struct StoredDataset {
    int64_t id = 0;
    data::Catalog catalog; // tracks carry their database ids
    int64_t split_id = 0;  // 0 when never split
    data::Split split;     // the split asked for (default: the latest), aligned with catalog.tracks
    std::string created_at, updated_at;
};

// A run as `gafx runs`, the report and the workbench list it. Accuracies are NaN until the
// run has evaluated once. The selected epoch is the one with the best validation score (the
// trainer logs it as val/selection: track accuracy, or mAP when multi-label; ties go to the
// lower val loss, then the earlier epoch); test figures are that epoch's, never a maximum over test. Runs trained before
// validation splits have no selected epoch and report no test figure.
struct RunRecord {
    int64_t id = 0;
    int64_t experiment_id = 0;
    std::string experiment; // its name
    std::string config;     // RunConfig JSON
    int64_t seed = 0;
    RunStatus status = RunStatus::Queued;
    std::string device, precision, versions, error, checkpoint_path, host;
    int64_t epochs_done = 0, step = 0, pid = 0;
    RunControl control = RunControl::None; // a request from another process
    std::string created_at, started_at, finished_at, heartbeat_at;
    double seconds = 0; // training time so far (started -> heartbeat or finished)
    int64_t dataset_id = 0, split_id = 0; // the split it was queued on (0: none recorded yet)
    std::string uid;   // unique to this run of this workspace: names its folder, written into its checkpoints
    std::string uuid;  // the run's identity in every workspace it is imported into (RFC 4122 v4)
    std::string owner; // the token of the trainer that last claimed it (claim_run)
    int64_t world_size = 1; // data-parallel ranks its last start trained with
    std::string backend;    // their c10d backend (gloo, nccl); empty: one process
    int64_t selected_epoch = 0;            // 0: not evaluated on val yet
    double val_score, val_track_accuracy;  // at the selected epoch
    double test_accuracy, test_track_accuracy;             // at the selected epoch (clip, track)
    double test_macro_f1;                                  // at the selected epoch (track level)
    double final_test_accuracy, final_test_track_accuracy; // at the last evaluated epoch
    std::vector<std::string> tags; // sorted; the researcher's (store/run_notes.h)
    std::string note;              // free text, UTF-8
    RunRecord();
};

// A run to create, queued: its RunConfig JSON and seed.
struct NewRun {
    std::string config_json;
    int64_t seed = 0;
    std::string dataset; // recorded with the dataset's latest split, which the run then keeps
};

// What queue_experiment wrote: the experiment's id and its runs' ids, in the order given.
struct QueuedExperiment {
    int64_t experiment_id = 0;
    std::vector<int64_t> run_ids;
};

struct Prediction {
    int64_t track_id = 0;
    int clip = 0;
    std::vector<float> probabilities;
};

struct MetricRow {
    int64_t step = 0;
    int64_t epoch = 0;
    std::string split; // "train" | "val" | "test" | "time"
    std::string name;
    double value = 0;
};

// What import_runs did with one run of the other workspace.
struct ImportedRun {
    enum class Outcome {
        Imported,    // new here, with its metrics, predictions, tags and note
        AlreadyHere, // this workspace has the run (same uuid) as it is there
        Skipped,     // not a result yet (queued, running, paused): import it once it has stopped
        Conflict     // differs from what is here, or cannot be placed: nothing written for it
    };
    Outcome outcome = Outcome::Skipped;
    int64_t from_id = 0; // in the other workspace
    int64_t to_id = 0;   // here (Imported, AlreadyHere)
    std::string uuid, uid;
    std::string reason;          // Skipped, Conflict: why, in words
    std::string from_checkpoint; // the other workspace's checkpoint_path
};

struct ImportResult {
    std::vector<ImportedRun> runs;           // by id in the other workspace
    std::vector<std::string> datasets_added; // datasets this workspace did not have
};

class RunStore {
public:
    // Opens (creating) the database, turns on WAL and foreign keys, migrates the schema.
    explicit RunStore(const std::string& path);
    ~RunStore();
    RunStore(const RunStore&) = delete;
    RunStore& operator=(const RunStore&) = delete;

    // $XDG_DATA_HOME/gafx/workspace.db (or ~/.local/share/gafx/workspace.db).
    static std::string default_path();
    const std::string& path() const;
    int schema_version();
    // Changes whenever another connection (another process, the trainer thread) commits:
    // the workbench polls it to pick up runs written elsewhere without restarting.
    int64_t data_version();

    // --- datasets ---
    // Inserts or updates the dataset (found by name, else by kind + root, so re-importing a
    // folder updates it), upserts its tracks by key, and marks tracks that vanished from disk
    // as missing rather than deleting them (runs may refer to them). Fills catalog track ids.
    int64_t save_catalog(data::Catalog& catalog);
    // Stores `split` as the dataset's current split; returns the existing id when the latest
    // stored split is identical.
    int64_t save_split(int64_t dataset_id, const data::Catalog& catalog, const data::Split& split);
    std::vector<DatasetSummary> list_datasets();
    // With `split_id` 0 the latest split; otherwise that split, which must be the dataset's.
    std::optional<StoredDataset> load_dataset(const std::string& name, int64_t split_id = 0);
    // Whether a dataset of that name was imported, without loading its tracks.
    bool has_dataset(const std::string& name);

    // --- runs and metrics (the trainer's side) ---
    // The experiment and all its runs in one transaction: a failure midway (a full disk, a
    // killed process) leaves neither the experiment nor any of its runs. experiments::queue
    // validates and calls this.
    QueuedExperiment queue_experiment(const std::string& name, const std::string& spec_json,
                                      const std::vector<NewRun>& runs);
    // Single rows, for tests and tools; an experiment with its runs goes through queue_experiment.
    int64_t create_experiment(const std::string& name, const std::string& spec_json);
    int64_t create_run(int64_t experiment_id, const std::string& config_json, int64_t seed);
    // A run queued without a split (create_run, before schema 3) takes the one it first trains on.
    void set_run_split(int64_t run_id, int64_t dataset_id, int64_t split_id);
    void set_run_status(int64_t run_id, RunStatus status, const std::string& error = {});
    std::vector<RunRecord> list_runs();
    std::optional<RunRecord> run(int64_t run_id);
    // The trainer took the run in this process: status running, device, precision, versions.
    // Marks the run running for one trainer (`owner`: a token unique to that trainer, with its pid
    // and host) in one conditional UPDATE, unless it is running already: false then, and nothing
    // changed. Two trainers started on one run at once: exactly one gets it.
    bool claim_run(int64_t run_id, const std::string& owner, int64_t pid, const std::string& host);
    void start_run(int64_t run_id, const std::string& device, const std::string& precision,
                   const std::string& versions_json, int64_t pid, const std::string& host, int world_size = 1,
                   const std::string& backend = {});
    // After a checkpoint is in place: how far the run is and where to resume from.
    void set_run_progress(int64_t run_id, int64_t epochs_done, int64_t step, const std::string& checkpoint_path);
    // Sets heartbeat_at to now; returns the pending control request.
    RunControl heartbeat(int64_t run_id);
    void set_run_control(int64_t run_id, RunControl control);
    // Runs marked running whose heartbeat is older than `stale_seconds` (their process died:
    // kill -9, power loss) become interrupted, except those in `alive` (a trainer on this host
    // whose process is seen alive: a suspended laptop's heartbeat is late, not dead). Returns their ids.
    std::vector<int64_t> mark_stale_runs_interrupted(double stale_seconds, const std::set<int64_t>& alive = {});

    // One transaction: all rows or none, so a killed writer never leaves half a batch.
    void append_metrics(int64_t run_id, const std::vector<MetricRow>& rows);
    std::vector<MetricRow> metrics(int64_t run_id);
    // Resume: rows logged after the checkpoint the run continues from are dropped.
    void delete_metrics_after(int64_t run_id, int64_t step);
    // Replaces the run's stored predictions (those of its best epoch).
    void save_predictions(int64_t run_id, const std::vector<Prediction>& rows);
    std::vector<Prediction> predictions(int64_t run_id);

    // --- a researcher's tags and notes (store/run_notes.h checks and normalises them) ---
    // Adds and removes tags on every run named, in one transaction; a run id that does not
    // exist throws gafx::Error naming it and changes nothing.
    void tag_runs(const std::vector<int64_t>& run_ids, const std::vector<std::string>& add,
                  const std::vector<std::string>& remove = {});
    void set_run_note(int64_t run_id, const std::string& note);
    // Every tag in use with its number of runs, by tag.
    std::vector<std::pair<std::string, int64_t>> tag_counts();

    // --- merging workspaces (shards, machines, Slurm tasks) ---
    // Copies the runs of the workspace at `other` that are results (finished, failed, diverged,
    // cancelled, interrupted) into this one, in one transaction: a run by its uuid (one already
    // here is left alone, so a second import changes nothing), with its experiment (matched by
    // name and spec), dataset (by name, and then only when its classes and tracks are the same:
    // keys, labels, lengths; added when missing), split (by its kind and every track's subset and
    // fold; added when missing), metrics, predictions, tags and note. A run that starts from
    // another (pretrained_run) gets that run's id here. Conflicts are reported per run, never
    // overwritten. `other` is opened as a workspace first (so migrated to this schema). Run
    // files are the caller's (workflows::import_runs). Throws gafx::Error for a file that is not
    // a workspace, or this same one.
    ImportResult import_runs(const std::string& other);

    // "ok" when PRAGMA integrity_check finds nothing wrong.
    std::string integrity_check();

private:
    std::unique_ptr<Db> db_;
};

} // namespace gafx::store
