#include "store/run_store.h"

#include "store/sqlite_db.h"

namespace gafx::store {

int64_t RunStore::create_experiment(const std::string& name, const std::string& spec_json) {
    Stmt s(*db_, "INSERT INTO experiments(name, spec) VALUES(?,?)");
    s.bind(1, name).bind(2, spec_json).run();
    return sqlite3_last_insert_rowid(db_->handle());
}

int64_t RunStore::create_run(int64_t experiment_id, const std::string& config_json, int64_t seed) {
    Stmt s(*db_, "INSERT INTO runs(experiment_id, config, seed) VALUES(?,?,?)");
    if (experiment_id > 0) s.bind(1, experiment_id); else s.bind_null(1);
    s.bind(2, config_json).bind(3, seed).run();
    return sqlite3_last_insert_rowid(db_->handle());
}

void RunStore::set_run_status(int64_t run_id, const std::string& status, const std::string& error) {
    Stmt s(*db_, "UPDATE runs SET status=?, error=? WHERE id=?");
    s.bind(1, status).bind(2, error).bind(3, run_id).run();
}

void RunStore::append_metrics(int64_t run_id, const std::vector<MetricRow>& rows) {
    Transaction tx(*db_);
    Stmt s(*db_, "INSERT OR REPLACE INTO metrics(run_id, step, epoch, split, name, value) VALUES(?,?,?,?,?,?)");
    for (const MetricRow& r : rows)
        s.bind(1, run_id).bind(2, r.step).bind(3, r.epoch).bind(4, r.split).bind(5, r.name).bind(6, r.value).run();
    tx.commit();
}

std::vector<MetricRow> RunStore::metrics(int64_t run_id) {
    Stmt s(*db_, "SELECT step, epoch, split, name, value FROM metrics WHERE run_id=? ORDER BY step, split, name");
    s.bind(1, run_id);
    std::vector<MetricRow> out;
    while (s.step()) out.push_back(MetricRow{s.int64(0), s.int64(1), s.text(2), s.text(3), s.real(4)});
    return out;
}

} // namespace gafx::store
