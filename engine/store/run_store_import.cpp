// RunStore::import_runs: the runs of another workspace merged into this one by uuid, with the
// rows that give them meaning (experiment, dataset, split, metrics, predictions, tags).
#include "store/run_store.h"

#include "core/error.h"
#include "store/sqlite_db.h"
#include "store/workspace_copy.h"

#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace gafx::store {
namespace {

using Outcome = ImportedRun::Outcome;

// Detaches `src` however the import ends; ATTACH cannot run inside a transaction.
struct Attached {
    Db& db;
    Attached(Db& d, const std::string& path) : db(d) {
        Stmt s(db, "ATTACH DATABASE ?1 AS src");
        s.bind(1, path).run();
    }
    ~Attached() { sqlite3_exec(db.handle(), "DETACH DATABASE src", nullptr, nullptr, nullptr); }
};

// Both queries yield rows in one order; the first row that differs is described, so a user
// sees which track keeps two datasets of one name apart. Empty when every row agrees.
std::string first_difference(Db& db, const char* sql, int64_t dest_id, int64_t src_id, const char* what) {
    std::string src_sql = sql;
    for (size_t at; (at = src_sql.find("main.")) != std::string::npos;) src_sql.replace(at, 5, "src.");
    Stmt a(db, sql), b(db, src_sql.c_str());
    a.bind(1, dest_id);
    b.bind(1, src_id);
    for (;;) {
        const bool ra = a.step(), rb = b.step();
        if (!ra && !rb) return {};
        if (ra != rb) return std::string("they hold different numbers of ") + what;
        if (a.text(0) != b.text(0) || a.text(1) != b.text(1))
            return std::string(what) + " '" + a.text(0) + "' here is " + a.text(1) + ", there '" + b.text(0) + "' is " +
                   b.text(1);
    }
}

constexpr const char* kClassRows =
    "SELECT idx, class_id FROM main.classes WHERE dataset_id = ?1 ORDER BY idx";
// A track's content: its key, labels and length. Paths and status are the machine's, not the data's.
constexpr const char* kTrackRows =
    "SELECT key, labels || ' ' || frames || ' ' || sample_rate || ' ' || start_seconds || ' ' || end_seconds "
    "FROM main.tracks WHERE dataset_id = ?1 ORDER BY key";

class Importer {
public:
    explicit Importer(Db& db) : db_(db) {}

    ImportResult run() {
        Stmt runs(db_, "SELECT id, uuid, uid, status, epochs_done, step, checkpoint_path, config, "
                       "COALESCE(dataset_id, 0), COALESCE(split_id, 0), COALESCE(experiment_id, 0) FROM src.runs ORDER BY id");
        while (runs.step()) {
            Source src{runs.text(3), runs.int64(4), runs.int64(5), runs.text(7), runs.int64(8), runs.int64(9), runs.int64(10)};
            ImportedRun r;
            r.from_id = runs.int64(0);
            r.uuid = runs.text(1);
            r.uid = runs.text(2);
            r.from_checkpoint = runs.text(6);
            place(r, std::move(src));
            if (r.to_id) id_here_[r.from_id] = r.to_id;
            result_.runs.push_back(std::move(r));
        }
        return std::move(result_);
    }

private:
    // What a run there holds beyond its ImportedRun: ids 0 where the column is NULL.
    struct Source {
        std::string status;
        int64_t epochs = 0, step = 0;
        std::string config;
        int64_t dataset_id = 0, split_id = 0, experiment_id = 0;
    };

    Db& db_;
    ImportResult result_;
    std::map<int64_t, int64_t> id_here_;                       // src run id -> id here
    std::map<int64_t, std::pair<int64_t, std::string>> dataset_; // src dataset id -> id here, or why not
    std::map<int64_t, int64_t> split_, experiment_;

    void place(ImportedRun& r, Source src) {
        const std::string& status = src.status;
        {
            Stmt here(db_, "SELECT id, status, epochs_done, step FROM main.runs WHERE uuid = ?1");
            here.bind(1, r.uuid);
            if (here.step()) {
                r.to_id = here.int64(0);
                if (here.text(1) == status && here.int64(2) == src.epochs && here.int64(3) == src.step) {
                    r.outcome = Outcome::AlreadyHere;
                } else {
                    r.outcome = Outcome::Conflict;
                    r.reason = "run " + std::to_string(r.to_id) + " here is the same run " + here.text(1) + " at step " +
                               std::to_string(here.int64(3)) + ", there " + status + " at step " +
                               std::to_string(src.step) + "; this workspace's is kept";
                }
                return;
            }
        }
        if (status == "queued" || status == "running" || status == "paused") {
            r.outcome = Outcome::Skipped;
            r.reason = "it is " + status + ", not a result yet; import it once it has stopped";
            return;
        }
        if (!rewrite_pretrained_run(src.config, r)) return;
        int64_t dataset_here = 0, split_here = 0;
        if (src.dataset_id) {
            const auto& [id, why] = dataset(src.dataset_id);
            if (!id) {
                r.outcome = Outcome::Conflict;
                r.reason = why;
                return;
            }
            dataset_here = id;
            if (src.split_id) split_here = split(src.split_id, dataset_here);
        }
        const int64_t experiment_here = src.experiment_id ? experiment(src.experiment_id) : 0;
        Stmt ins(db_, R"sql(
INSERT INTO main.runs(experiment_id, dataset_id, split_id, config, seed, status, device, precision, versions,
  epochs_done, step, checkpoint_path, error, created_at, started_at, finished_at, heartbeat_at, pid, host, control,
  uid, owner, note, uuid, world_size, backend)
SELECT NULLIF(?2, 0), NULLIF(?3, 0), NULLIF(?4, 0), ?5, seed, status, device, precision, versions, epochs_done, step,
  '', error, created_at, started_at, finished_at, heartbeat_at, 0, host, '', uid, '', note, uuid, world_size, backend
FROM src.runs WHERE id = ?1)sql");
        ins.bind(1, r.from_id).bind(2, experiment_here).bind(3, dataset_here).bind(4, split_here).bind(5, src.config).run();
        r.to_id = sqlite3_last_insert_rowid(db_.handle());
        r.outcome = Outcome::Imported;
        copy_rows(r.from_id, r.to_id, dataset_here);
    }

    // A run that starts from another names it by id, which is this workspace's once imported.
    bool rewrite_pretrained_run(std::string& config, ImportedRun& r) {
        nlohmann::json j = nlohmann::json::parse(config, nullptr, false);
        if (!j.is_object() || !j.contains("pretrained_run") || !j["pretrained_run"].is_number_integer() ||
            j["pretrained_run"].get<int64_t>() == 0)
            return true;
        const int64_t from = j["pretrained_run"].get<int64_t>();
        const auto it = id_here_.find(from);
        if (it == id_here_.end()) {
            r.outcome = Outcome::Conflict;
            r.reason = "it starts from run " + std::to_string(from) + " there, which was not imported";
            return false;
        }
        j["pretrained_run"] = it->second;
        config = j.dump();
        return true;
    }

    void copy_rows(int64_t from, int64_t to, int64_t dataset_here) {
        const auto exec = [&](const char* sql, bool with_dataset = false) {
            Stmt s(db_, sql);
            s.bind(1, from).bind(2, to);
            if (with_dataset) s.bind(3, dataset_here);
            s.run();
        };
        exec("INSERT INTO main.metrics(run_id, step, epoch, split, name, value) "
             "SELECT ?2, step, epoch, split, name, value FROM src.metrics WHERE run_id = ?1");
        exec("INSERT INTO main.run_summary SELECT ?2, stale, selected_epoch, val_score, val_track_accuracy, "
             "test_accuracy, test_track_accuracy, test_macro_f1, final_test_accuracy, final_test_track_accuracy "
             "FROM src.run_summary WHERE run_id = ?1");
        exec("INSERT INTO main.run_tags(run_id, tag) SELECT ?2, tag FROM src.run_tags WHERE run_id = ?1");
        if (dataset_here)
            exec("INSERT INTO main.predictions(run_id, track_id, clip, probabilities) "
                 "SELECT ?2, dt.id, p.clip, p.probabilities FROM src.predictions p "
                 "JOIN src.tracks st ON st.id = p.track_id JOIN main.tracks dt ON dt.dataset_id = ?3 AND dt.key = st.key "
                 "WHERE p.run_id = ?1",
                 true);
    }

    // The dataset here with that name and content; added when none has the name.
    const std::pair<int64_t, std::string>& dataset(int64_t src_id) {
        const auto it = dataset_.find(src_id);
        if (it != dataset_.end()) return it->second;
        std::string name;
        {
            Stmt n(db_, "SELECT name FROM src.datasets WHERE id = ?1");
            n.bind(1, src_id);
            if (n.step()) name = n.text(0);
        }
        Stmt here(db_, "SELECT id FROM main.datasets WHERE name = ?1");
        here.bind(1, name);
        if (!here.step()) return dataset_[src_id] = {add_dataset(src_id, name), {}};
        const int64_t id = here.int64(0);
        std::string diff = first_difference(db_, kClassRows, id, src_id, "class");
        if (diff.empty()) diff = first_difference(db_, kTrackRows, id, src_id, "track");
        if (diff.empty()) return dataset_[src_id] = {id, {}};
        return dataset_[src_id] = {0, "dataset '" + name + "' here is not the one it was trained on: " + diff +
                                          "; import that dataset under another name here, or into a new workspace"};
    }

    int64_t add_dataset(int64_t src_id, const std::string& name) {
        Stmt d(db_, "INSERT INTO main.datasets(name, kind, root, multi_label, import_report, created_at, updated_at) "
                    "SELECT name, kind, root, multi_label, import_report, created_at, updated_at FROM src.datasets "
                    "WHERE id = ?1");
        d.bind(1, src_id).run();
        const int64_t id = sqlite3_last_insert_rowid(db_.handle());
        const auto exec = [&](const char* sql) {
            Stmt s(db_, sql);
            s.bind(1, src_id).bind(2, id).run();
        };
        exec("INSERT INTO main.classes(dataset_id, idx, class_id, display_name) "
             "SELECT ?2, idx, class_id, display_name FROM src.classes WHERE dataset_id = ?1");
        exec("INSERT INTO main.tracks(dataset_id, key, path, labels, sample_rate, channels, frames, duration, "
             "start_seconds, end_seconds, origin, status, error, size_bytes, mtime_ns) "
             "SELECT ?2, key, path, labels, sample_rate, channels, frames, duration, start_seconds, end_seconds, "
             "origin, status, error, size_bytes, mtime_ns FROM src.tracks WHERE dataset_id = ?1");
        result_.datasets_added.push_back(name);
        return id;
    }

    // A split here with the same settings and the same subset and fold for every track, else a copy.
    int64_t split(int64_t src_id, int64_t dataset_here) {
        const auto it = split_.find(src_id);
        if (it != split_.end()) return it->second;
        constexpr const char* kSettings = "SELECT kind || ' ' || seed || ' ' || train_fraction || ' ' || val_fraction "
                                          "|| ' ' || folds || ' ' || method || ' ' || groups_file FROM %s.splits WHERE id = ?1";
        const auto settings = [&](const char* schema, int64_t id) {
            char sql[256];
            std::snprintf(sql, sizeof sql, kSettings, schema);
            Stmt s(db_, sql);
            s.bind(1, id);
            return s.step() ? s.text(0) : std::string();
        };
        const std::string wanted = settings("src", src_id);
        constexpr const char* kMembers = "SELECT t.key, st.subset || ' ' || st.fold FROM main.split_tracks st "
                                         "JOIN main.tracks t ON t.id = st.track_id WHERE st.split_id = ?1 ORDER BY t.key";
        Stmt candidates(db_, "SELECT id FROM main.splits WHERE dataset_id = ?1 ORDER BY id DESC");
        candidates.bind(1, dataset_here);
        while (candidates.step()) {
            const int64_t id = candidates.int64(0);
            if (settings("main", id) == wanted && first_difference(db_, kMembers, id, src_id, "track").empty())
                return split_[src_id] = id;
        }
        Stmt s(db_, "INSERT INTO main.splits(dataset_id, seed, train_fraction, groups_file, method, created_at, kind, "
                    "val_fraction, folds, missing) SELECT ?2, seed, train_fraction, groups_file, method, created_at, kind, "
                    "val_fraction, folds, missing FROM src.splits WHERE id = ?1");
        s.bind(1, src_id).bind(2, dataset_here).run();
        const int64_t id = sqlite3_last_insert_rowid(db_.handle());
        Stmt m(db_, "INSERT INTO main.split_tracks(split_id, track_id, subset, fold) "
                    "SELECT ?2, dt.id, st.subset, st.fold FROM src.split_tracks st JOIN src.tracks t ON t.id = st.track_id "
                    "JOIN main.tracks dt ON dt.dataset_id = ?3 AND dt.key = t.key WHERE st.split_id = ?1");
        m.bind(1, src_id).bind(2, id).bind(3, dataset_here).run();
        return split_[src_id] = id;
    }

    int64_t experiment(int64_t src_id) {
        const auto it = experiment_.find(src_id);
        if (it != experiment_.end()) return it->second;
        Stmt here(db_, "SELECT m.id FROM main.experiments m JOIN src.experiments s ON s.name = m.name AND s.spec = m.spec "
                       "WHERE s.id = ?1 ORDER BY m.id LIMIT 1");
        here.bind(1, src_id);
        if (here.step()) return experiment_[src_id] = here.int64(0);
        Stmt ins(db_, "INSERT INTO main.experiments(name, spec, created_at) SELECT name, spec, created_at "
                      "FROM src.experiments WHERE id = ?1");
        ins.bind(1, src_id).run();
        return experiment_[src_id] = sqlite3_last_insert_rowid(db_.handle());
    }
};

} // namespace

ImportResult RunStore::import_runs(const std::string& other) {
    std::error_code ec;
    if (fs::equivalent(other, path(), ec))
        throw Error(other, "is this workspace itself", "name the workspace to import from, and this one with --db");
    if (!fs::is_regular_file(other, ec))
        throw Error(other, "no such workspace file", "give the path of the other workspace's .db file");
    { RunStore migrate_it(other); } // a workspace of an older gafx gets this schema (uuids) first
    Attached attached(*db_, other);
    Transaction tx(*db_);
    ImportResult result = Importer(*db_).run();
    tx.commit();
    return result;
}

} // namespace gafx::store

namespace gafx::store {

void copy_datasets(const std::string& from, const std::string& to) {
    { RunStore created(to); }   // this schema, built by the same steps as `from`'s: the columns line up
    { RunStore migrated(from); }
    Db db(to);
    db.exec("PRAGMA foreign_keys=ON");
    Attached attached(db, from);
    Transaction tx(db);
    for (const char* table : {"datasets", "classes", "tracks", "splits", "split_tracks"})
        db.exec(std::string("INSERT INTO main.") + table + " SELECT * FROM src." + table);
    tx.commit();
}

} // namespace gafx::store
