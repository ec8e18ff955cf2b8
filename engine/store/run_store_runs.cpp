#include "store/run_store.h"

#include "store/schema.h"
#include "store/sqlite_db.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace gafx::store {
namespace {

constexpr const char* kNow = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

// The control column's words; '' is none.
const char* control_word(RunControl c) { return c == RunControl::Cancel ? "cancel" : ""; }
RunControl parse_control(const std::string& word) { return word == "cancel" ? RunControl::Cancel : RunControl::None; }

// finished_at: when a process last stopped working on the run, for good or until a resume.
bool stopped(RunStatus status) { return is_terminal(status) || status == RunStatus::Interrupted; }

// Selected epoch = best val/selection, ties to the lower val loss, then the earliest; final = the
// last evaluated epoch. The trainer keeps the same epoch's weights and predictions.
// The figures a run is listed with, kept in run_summary by append_metrics and
// delete_metrics_after (refresh_summary), so listing 10 000 runs reads one row each instead of
// searching each run's metrics. `?1`: the run, or NULL for every run marked stale.
constexpr const char* kRefreshSummary = R"sql(
INSERT OR REPLACE INTO run_summary(run_id, stale, selected_epoch, val_score, val_track_accuracy, test_accuracy,
                                   test_track_accuracy, test_macro_f1, final_test_accuracy, final_test_track_accuracy)
SELECT r.id, 0, sel.epoch, sel.value,
       (SELECT value FROM metrics m WHERE m.run_id = r.id AND m.split = 'val' AND m.name = 'track_accuracy' AND m.step = sel.step),
       (SELECT value FROM metrics m WHERE m.run_id = r.id AND m.split = 'test' AND m.name = 'accuracy' AND m.step = sel.step),
       (SELECT value FROM metrics m WHERE m.run_id = r.id AND m.split = 'test' AND m.name = 'track_accuracy' AND m.step = sel.step),
       (SELECT value FROM metrics m WHERE m.run_id = r.id AND m.split = 'test' AND m.name = 'macro_f1' AND m.step = sel.step),
       (SELECT value FROM metrics m WHERE m.run_id = r.id AND m.split = 'test' AND m.name = 'accuracy' AND m.step = f.step),
       f.value
FROM runs r
LEFT JOIN metrics sel ON sel.run_id = r.id AND sel.split = 'val' AND sel.name = 'selection' AND sel.step =
    (SELECT c.step FROM metrics c WHERE c.run_id = r.id AND c.split = 'val' AND c.name = 'selection'
     ORDER BY c.value DESC,
              COALESCE((SELECT l.value FROM metrics l WHERE l.run_id = c.run_id AND l.split = 'val' AND l.name = 'loss'
                        AND l.step = c.step), 1e300) ASC,
              c.step ASC LIMIT 1)
LEFT JOIN metrics f ON f.run_id = r.id AND f.split = 'test' AND f.name = 'track_accuracy' AND f.step =
    (SELECT MAX(step) FROM metrics WHERE run_id = r.id AND split = 'test' AND name = 'track_accuracy')
WHERE (?1 IS NULL AND r.id IN (SELECT run_id FROM run_summary WHERE stale)) OR r.id = ?1
)sql";

constexpr const char* kRunSelect = R"sql(
SELECT r.id, COALESCE(r.experiment_id, 0), COALESCE(e.name, ''), r.config, r.seed, r.status, r.device,
       r.precision, r.versions, r.error, r.checkpoint_path, r.host, r.epochs_done, r.step, r.pid, r.control,
       r.created_at, COALESCE(r.started_at, ''), COALESCE(r.finished_at, ''), COALESCE(r.heartbeat_at, ''),
       COALESCE((julianday(COALESCE(r.finished_at, r.heartbeat_at)) - julianday(r.started_at)) * 86400.0, 0),
       s.selected_epoch, s.val_score, s.val_track_accuracy, s.test_accuracy, s.test_track_accuracy,
       s.final_test_accuracy, s.final_test_track_accuracy, COALESCE(r.dataset_id, 0), COALESCE(r.split_id, 0),
       s.test_macro_f1, r.uid, r.owner,
       (SELECT group_concat(tag, char(31)) FROM (SELECT tag FROM run_tags t WHERE t.run_id = r.id ORDER BY tag)),
       r.note, r.uuid, r.world_size, r.backend
FROM runs r
LEFT JOIN experiments e ON e.id = r.experiment_id
LEFT JOIN run_summary s ON s.run_id = r.id
)sql";

void refresh_summary(Db& db, int64_t run_id) {
    Stmt s(db, kRefreshSummary);
    s.bind(1, run_id).run();
}

double real_or_nan(const Stmt& s, int col) {
    return s.is_null(col) ? std::numeric_limits<double>::quiet_NaN() : s.real(col);
}

RunRecord read_run(const Stmt& s) {
    RunRecord r;
    r.id = s.int64(0);
    r.experiment_id = s.int64(1);
    r.experiment = s.text(2);
    r.config = s.text(3);
    r.seed = s.int64(4);
    // The schema's CHECK admits only the words parse_run_status knows.
    r.status = parse_run_status(s.text(5)).value_or(RunStatus::Failed);
    r.device = s.text(6);
    r.precision = s.text(7);
    r.versions = s.text(8);
    r.error = s.text(9);
    r.checkpoint_path = s.text(10);
    r.host = s.text(11);
    r.epochs_done = s.int64(12);
    r.step = s.int64(13);
    r.pid = s.int64(14);
    r.control = parse_control(s.text(15));
    r.created_at = s.text(16);
    r.started_at = s.text(17);
    r.finished_at = s.text(18);
    r.heartbeat_at = s.text(19);
    r.seconds = s.real(20);
    r.selected_epoch = s.is_null(21) ? 0 : s.int64(21);
    r.val_score = real_or_nan(s, 22);
    r.val_track_accuracy = real_or_nan(s, 23);
    r.test_accuracy = real_or_nan(s, 24);
    r.test_track_accuracy = real_or_nan(s, 25);
    r.final_test_accuracy = real_or_nan(s, 26);
    r.final_test_track_accuracy = real_or_nan(s, 27);
    r.dataset_id = s.int64(28);
    r.split_id = s.int64(29);
    r.test_macro_f1 = real_or_nan(s, 30);
    r.uid = s.text(31);
    r.owner = s.text(32);
    if (!s.is_null(33)) { // the tags, sorted, joined by the unit separator (no tag can hold it)
        const std::string joined = s.text(33);
        for (size_t start = 0;;) {
            const size_t end = joined.find('\x1f', start);
            r.tags.push_back(joined.substr(start, end - start));
            if (end == std::string::npos) break;
            start = end + 1;
        }
    }
    r.note = s.text(34);
    r.uuid = s.text(35);
    r.world_size = s.int64(36);
    r.backend = s.text(37);
    return r;
}

} // namespace

RunRecord::RunRecord() {
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    val_score = val_track_accuracy = test_accuracy = test_track_accuracy = test_macro_f1 = nan;
    final_test_accuracy = final_test_track_accuracy = nan;
}

namespace {

int64_t insert_experiment(Db& db, const std::string& name, const std::string& spec_json) {
    Stmt s(db, "INSERT INTO experiments(name, spec) VALUES(?,?)");
    s.bind(1, name).bind(2, spec_json).run();
    return sqlite3_last_insert_rowid(db.handle());
}

// Reuses `s` (kInsertRun) across the runs of one batch. A dataset named is recorded with its
// latest split; an unknown or empty name leaves both NULL.
int64_t insert_run(Db& db, Stmt& s, int64_t experiment_id, const std::string& config_json, int64_t seed,
                   const std::string& dataset) {
    if (experiment_id > 0) s.bind(1, experiment_id); else s.bind_null(1);
    s.bind(2, config_json).bind(3, seed).bind(4, dataset).run();
    return sqlite3_last_insert_rowid(db.handle());
}

constexpr const char* kInsertRun = R"sql(
INSERT INTO runs(experiment_id, config, seed, dataset_id, split_id)
SELECT ?1, ?2, ?3, d.id, (SELECT max(id) FROM splits WHERE dataset_id = d.id)
FROM (SELECT 1) LEFT JOIN datasets d ON d.name = ?4)sql";

} // namespace

QueuedExperiment RunStore::queue_experiment(const std::string& name, const std::string& spec_json,
                                            const std::vector<NewRun>& runs) {
    Transaction tx(*db_);
    QueuedExperiment out;
    out.experiment_id = insert_experiment(*db_, name, spec_json);
    Stmt s(*db_, kInsertRun);
    for (const NewRun& r : runs) out.run_ids.push_back(insert_run(*db_, s, out.experiment_id, r.config_json, r.seed, r.dataset));
    tx.commit();
    return out;
}

int64_t RunStore::create_experiment(const std::string& name, const std::string& spec_json) {
    return insert_experiment(*db_, name, spec_json);
}

int64_t RunStore::create_run(int64_t experiment_id, const std::string& config_json, int64_t seed) {
    Stmt s(*db_, kInsertRun);
    return insert_run(*db_, s, experiment_id, config_json, seed, {});
}

void RunStore::set_run_split(int64_t run_id, int64_t dataset_id, int64_t split_id) {
    Stmt s(*db_, "UPDATE runs SET dataset_id=?, split_id=? WHERE id=?");
    s.bind(1, dataset_id).bind(2, split_id).bind(3, run_id).run();
}

void RunStore::set_run_status(int64_t run_id, RunStatus status, const std::string& error) {
    const std::string sql = std::string("UPDATE runs SET status=?, error=?, control='', finished_at=") +
                            (stopped(status) ? kNow : "NULL") + ", heartbeat_at=" + kNow + " WHERE id=?";
    Stmt s(*db_, sql.c_str());
    s.bind(1, std::string(to_string(status))).bind(2, error).bind(3, run_id).run();
}

void RunStore::start_run(int64_t run_id, const std::string& device, const std::string& precision,
                         const std::string& versions_json, int64_t pid, const std::string& host, int world_size,
                         const std::string& backend) {
    const std::string sql = std::string("UPDATE runs SET status=?, error='', control='', device=?, precision=?, "
                                        "versions=?, pid=?, host=?, world_size=?, backend=?, finished_at=NULL, "
                                        "started_at=COALESCE(started_at, ") +
                            kNow + "), heartbeat_at=" + kNow + " WHERE id=?";
    Stmt s(*db_, sql.c_str());
    s.bind(1, std::string(to_string(RunStatus::Running))).bind(2, device).bind(3, precision).bind(4, versions_json);
    s.bind(5, pid).bind(6, host).bind(7, int64_t(world_size)).bind(8, backend).bind(9, run_id).run();
}

bool RunStore::claim_run(int64_t run_id, const std::string& owner, int64_t pid, const std::string& host) {
    const std::string sql = std::string("UPDATE runs SET status=?, owner=?, pid=?, host=?, error='', control='', "
                                        "finished_at=NULL, started_at=COALESCE(started_at, ") +
                            kNow + "), heartbeat_at=" + kNow + " WHERE id=? AND status<>? RETURNING id";
    Stmt s(*db_, sql.c_str());
    const std::string running = to_string(RunStatus::Running);
    s.bind(1, running).bind(2, owner).bind(3, pid).bind(4, host).bind(5, run_id).bind(6, running);
    const bool claimed = s.step();
    s.reset();
    return claimed;
}

void RunStore::set_run_progress(int64_t run_id, int64_t epochs_done, int64_t step, const std::string& checkpoint_path) {
    const std::string sql =
        std::string("UPDATE runs SET epochs_done=?, step=?, checkpoint_path=?, heartbeat_at=") + kNow + " WHERE id=?";
    Stmt s(*db_, sql.c_str());
    s.bind(1, epochs_done).bind(2, step).bind(3, checkpoint_path).bind(4, run_id).run();
}

RunControl RunStore::heartbeat(int64_t run_id) {
    const std::string sql = std::string("UPDATE runs SET heartbeat_at=") + kNow + " WHERE id=? RETURNING control";
    Stmt s(*db_, sql.c_str());
    s.bind(1, run_id);
    const RunControl control = s.step() ? parse_control(s.text(0)) : RunControl::None;
    s.reset();
    return control;
}

void RunStore::set_run_control(int64_t run_id, RunControl control) {
    Stmt s(*db_, "UPDATE runs SET control=? WHERE id=?");
    s.bind(1, std::string(control_word(control))).bind(2, run_id).run();
}

std::vector<int64_t> RunStore::mark_stale_runs_interrupted(double stale_seconds, const std::set<int64_t>& alive) {
    Transaction tx(*db_);
    std::vector<int64_t> ids;
    {
        Stmt s(*db_, "SELECT id FROM runs WHERE status=? AND "
                     "(heartbeat_at IS NULL OR (julianday('now') - julianday(heartbeat_at)) * 86400.0 > ?)");
        s.bind(1, std::string(to_string(RunStatus::Running))).bind(2, stale_seconds);
        while (s.step())
            if (!alive.count(s.int64(0))) ids.push_back(s.int64(0));
    }
    Stmt u(*db_, "UPDATE runs SET status=?, error=?, control='' WHERE id=?");
    for (int64_t id : ids)
        u.bind(1, std::string(to_string(RunStatus::Interrupted)))
            .bind(2, std::string("its process stopped without a word (killed, crashed or powered off); "
                              "gafx resume ") + std::to_string(id) + " continues from the last checkpoint")
            .bind(3, id)
            .run();
    tx.commit();
    return ids;
}

std::vector<RunRecord> RunStore::list_runs() {
    Stmt s(*db_, (std::string(kRunSelect) + " ORDER BY r.id").c_str());
    std::vector<RunRecord> out;
    while (s.step()) out.push_back(read_run(s));
    return out;
}

std::optional<RunRecord> RunStore::run(int64_t run_id) {
    Stmt s(*db_, (std::string(kRunSelect) + " WHERE r.id = ?").c_str());
    s.bind(1, run_id);
    if (!s.step()) return std::nullopt;
    return read_run(s);
}

void RunStore::append_metrics(int64_t run_id, const std::vector<MetricRow>& rows) {
    Transaction tx(*db_);
    Stmt s(*db_, "INSERT OR REPLACE INTO metrics(run_id, step, epoch, split, name, value) VALUES(?,?,?,?,?,?)");
    for (const MetricRow& r : rows)
        s.bind(1, run_id).bind(2, r.step).bind(3, r.epoch).bind(4, r.split).bind(5, r.name).bind(6, r.value).run();
    refresh_summary(*db_, run_id);
    tx.commit();
}

std::vector<MetricRow> RunStore::metrics(int64_t run_id) {
    Stmt s(*db_, "SELECT step, epoch, split, name, value FROM metrics WHERE run_id=? ORDER BY step, split, name");
    s.bind(1, run_id);
    std::vector<MetricRow> out;
    while (s.step()) out.push_back(MetricRow{s.int64(0), s.int64(1), s.text(2), s.text(3), s.real(4)});
    return out;
}

void RunStore::delete_metrics_after(int64_t run_id, int64_t step) {
    Transaction tx(*db_);
    Stmt s(*db_, "DELETE FROM metrics WHERE run_id=? AND step>?");
    s.bind(1, run_id).bind(2, step).run();
    refresh_summary(*db_, run_id);
    tx.commit();
}

void refresh_stale_summaries(Db& db) {
    {
        Stmt any(db, "SELECT 1 FROM run_summary WHERE stale LIMIT 1");
        if (!any.step()) return; // the usual case: no write, so no lock
    }
    Transaction tx(db);
    Stmt s(db, kRefreshSummary);
    s.bind_null(1).run();
    tx.commit();
}

void RunStore::save_predictions(int64_t run_id, const std::vector<Prediction>& rows) {
    Transaction tx(*db_);
    Stmt del(*db_, "DELETE FROM predictions WHERE run_id=?");
    del.bind(1, run_id).run();
    Stmt s(*db_, "INSERT INTO predictions(run_id, track_id, clip, probabilities) VALUES(?,?,?,?)");
    for (const Prediction& p : rows)
        s.bind(1, run_id)
            .bind(2, p.track_id)
            .bind(3, p.clip)
            .bind_blob(4, p.probabilities.data(), int(p.probabilities.size() * sizeof(float)))
            .run();
    tx.commit();
}

std::vector<Prediction> RunStore::predictions(int64_t run_id) {
    Stmt s(*db_, "SELECT track_id, clip, probabilities FROM predictions WHERE run_id=? ORDER BY track_id, clip");
    s.bind(1, run_id);
    std::vector<Prediction> out;
    while (s.step()) {
        Prediction p;
        p.track_id = s.int64(0);
        p.clip = int(s.int64(1));
        const std::string blob = s.text(2);
        p.probabilities.resize(blob.size() / sizeof(float));
        std::memcpy(p.probabilities.data(), blob.data(), p.probabilities.size() * sizeof(float));
        out.push_back(std::move(p));
    }
    return out;
}

} // namespace gafx::store
