// RunStore's tags and notes (store/run_notes.h holds the rules they are checked against).
#include "core/error.h"
#include "store/run_notes.h"
#include "store/run_store.h"
#include "store/sqlite_db.h"

namespace gafx::store {
namespace {

void require_run(Db& db, const std::string& path, int64_t run_id) {
    Stmt s(db, "SELECT 1 FROM runs WHERE id=?");
    s.bind(1, run_id);
    if (!s.step()) throw Error(path, "no run " + std::to_string(run_id) + " in this workspace", "see gafx runs");
}

} // namespace

void RunStore::tag_runs(const std::vector<int64_t>& run_ids, const std::vector<std::string>& add,
                        const std::vector<std::string>& remove) {
    std::vector<std::string> plus, minus;
    for (const auto& t : add) plus.push_back(normalise_tag(t));
    for (const auto& t : remove) minus.push_back(normalise_tag(t));
    Transaction tx(*db_);
    Stmt ins(*db_, "INSERT OR IGNORE INTO run_tags(run_id, tag) VALUES(?,?)");
    Stmt del(*db_, "DELETE FROM run_tags WHERE run_id=? AND tag=?");
    for (const int64_t id : run_ids) {
        require_run(*db_, path(), id);
        for (const auto& t : plus) ins.bind(1, id).bind(2, t).run();
        for (const auto& t : minus) del.bind(1, id).bind(2, t).run();
    }
    tx.commit();
}

void RunStore::set_run_note(int64_t run_id, const std::string& note) {
    check_note(note);
    Transaction tx(*db_);
    require_run(*db_, path(), run_id);
    Stmt s(*db_, "UPDATE runs SET note=? WHERE id=?");
    s.bind(1, note).bind(2, run_id).run();
    tx.commit();
}

std::vector<std::pair<std::string, int64_t>> RunStore::tag_counts() {
    Stmt s(*db_, "SELECT tag, COUNT(*) FROM run_tags GROUP BY tag ORDER BY tag");
    std::vector<std::pair<std::string, int64_t>> out;
    while (s.step()) out.emplace_back(s.text(0), s.int64(1));
    return out;
}

} // namespace gafx::store
