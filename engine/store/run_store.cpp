#include "store/run_store.h"

#include "core/error.h"
#include "store/schema.h"
#include "store/sqlite_db.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>

namespace fs = std::filesystem;
using nlohmann::json;

namespace gafx::store {

RunStore::RunStore(const std::string& path) {
    const fs::path parent = fs::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty()) fs::create_directories(parent, ec);
    db_ = std::make_unique<Db>(path);
    db_->exec("PRAGMA journal_mode=WAL");
    db_->exec("PRAGMA synchronous=NORMAL");
    db_->exec("PRAGMA foreign_keys=ON");
    migrate(*db_);
    refresh_stale_summaries(*db_);
}

RunStore::~RunStore() = default;

std::string RunStore::default_path() {
    const char* xdg = std::getenv("XDG_DATA_HOME");
    const char* home = std::getenv("HOME");
    const fs::path base = xdg && *xdg ? fs::path(xdg) : fs::path(home ? home : ".") / ".local" / "share";
    return (base / "gafx" / "workspace.db").string();
}

const std::string& RunStore::path() const { return db_->path(); }

int RunStore::schema_version() { return store::schema_version(*db_); }

int64_t RunStore::data_version() {
    Stmt s(*db_, "PRAGMA data_version");
    return s.step() ? s.int64(0) : 0;
}

std::string RunStore::integrity_check() {
    Stmt s(*db_, "PRAGMA integrity_check");
    std::string out;
    while (s.step()) out += (out.empty() ? "" : "\n") + s.text(0);
    return out;
}

namespace {

json import_report(const data::Catalog& c) {
    return json{{"skipped_hidden", c.skipped_hidden},
                {"skipped_non_audio", c.skipped_non_audio},
                {"empty_classes", c.empty_classes},
                {"warnings", c.warnings}};
}

int64_t find_dataset(Db& db, const data::Catalog& c) {
    Stmt by_name(db, "SELECT id FROM datasets WHERE name = ?");
    by_name.bind(1, c.name);
    if (by_name.step()) return by_name.int64(0);
    Stmt by_root(db, "SELECT id FROM datasets WHERE kind = ? AND root = ?");
    by_root.bind(1, c.kind).bind(2, c.root);
    return by_root.step() ? by_root.int64(0) : 0;
}

} // namespace

int64_t RunStore::save_catalog(data::Catalog& c) {
    Transaction tx(*db_);
    int64_t id = find_dataset(*db_, c);
    const std::string report = import_report(c).dump();
    if (id == 0) {
        Stmt ins(*db_, "INSERT INTO datasets(name, kind, root, multi_label, import_report) VALUES(?,?,?,?,?)");
        ins.bind(1, c.name).bind(2, c.kind).bind(3, c.root).bind(4, int64_t(c.multi_label)).bind(5, report).run();
        id = sqlite3_last_insert_rowid(db_->handle());
    } else {
        Stmt upd(*db_, "UPDATE datasets SET name=?, kind=?, root=?, multi_label=?, import_report=?, "
                       "updated_at=strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE id=?");
        upd.bind(1, c.name).bind(2, c.kind).bind(3, c.root).bind(4, int64_t(c.multi_label)).bind(5, report).bind(6, id).run();
    }

    Stmt del_classes(*db_, "DELETE FROM classes WHERE dataset_id = ?");
    del_classes.bind(1, id).run();
    Stmt ins_class(*db_, "INSERT INTO classes(dataset_id, idx, class_id, display_name) VALUES(?,?,?,?)");
    for (size_t i = 0; i < c.classes.size(); ++i)
        ins_class.bind(1, id).bind(2, int64_t(i)).bind(3, c.classes[i].id).bind(4, c.classes[i].display_name).run();

    Stmt upsert(*db_, R"sql(
INSERT INTO tracks(dataset_id, key, path, labels, sample_rate, channels, frames, duration,
                   start_seconds, end_seconds, origin, status, error, size_bytes, mtime_ns)
VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
ON CONFLICT(dataset_id, key) DO UPDATE SET
  path=excluded.path, labels=excluded.labels, sample_rate=excluded.sample_rate,
  channels=excluded.channels, frames=excluded.frames, duration=excluded.duration,
  start_seconds=excluded.start_seconds, end_seconds=excluded.end_seconds, origin=excluded.origin,
  status=excluded.status, error=excluded.error, size_bytes=excluded.size_bytes, mtime_ns=excluded.mtime_ns
RETURNING id)sql");
    std::map<std::string, bool> seen;
    for (data::Track& t : c.tracks) {
        upsert.bind(1, id).bind(2, t.key).bind(3, t.path).bind(4, json(t.labels).dump())
            .bind(5, int64_t(t.sample_rate)).bind(6, int64_t(t.channels)).bind(7, t.frames).bind(8, t.duration)
            .bind(9, t.start_seconds).bind(10, t.end_seconds).bind(11, t.origin)
            .bind(12, data::to_string(t.status)).bind(13, t.error).bind(14, t.size_bytes).bind(15, t.mtime_ns);
        if (!upsert.step()) db_->fail("track upsert returned no id");
        t.id = upsert.int64(0);
        upsert.reset();
        seen[t.key] = true;
    }

    // Tracks stored before but absent now: keep them (runs refer to them), marked missing.
    Stmt old(*db_, "SELECT id, key FROM tracks WHERE dataset_id = ? AND status != 'missing'");
    old.bind(1, id);
    std::vector<int64_t> gone;
    while (old.step())
        if (!seen.count(old.text(1))) gone.push_back(old.int64(0));
    Stmt mark(*db_, "UPDATE tracks SET status='missing', error='no longer found at the last import' WHERE id=?");
    for (int64_t t : gone) mark.bind(1, t).run();

    tx.commit();
    return id;
}

namespace {

// A split's rows as stored: track id -> (subset, fold).
using SplitRows = std::map<int64_t, std::pair<std::string, int64_t>>;

SplitRows split_rows(const data::Catalog& c, const data::Split& split) {
    SplitRows out;
    for (size_t i = 0; i < c.tracks.size(); ++i)
        if (split.subset[i] != data::Subset::None)
            out[c.tracks[i].id] = {data::to_string(split.subset[i]), i < split.fold.size() ? split.fold[i] : -1};
    return out;
}

} // namespace

int64_t RunStore::save_split(int64_t dataset_id, const data::Catalog& c, const data::Split& split) {
    const SplitRows wanted = split_rows(c, split);
    const data::SplitOptions& o = split.options;
    // Fractions other than random's are not the split's: stored as 0 so an equal split compares equal.
    const bool random = o.kind == data::SplitKind::Random;
    const double train_fraction = random ? 1.0 - o.test_fraction : 0.0, val_fraction = random ? o.val_fraction : 0.0;
    const std::string missing = json(split.missing).dump();

    Transaction tx(*db_);
    Stmt latest(*db_, "SELECT id, seed, train_fraction, groups_file, kind, val_fraction, folds, missing FROM splits "
                      "WHERE dataset_id=? ORDER BY id DESC LIMIT 1");
    latest.bind(1, dataset_id);
    if (latest.step() && uint64_t(latest.int64(1)) == o.seed && latest.real(2) == train_fraction &&
        latest.text(3) == o.groups_file && latest.text(4) == data::to_string(o.kind) &&
        latest.real(5) == val_fraction && latest.int64(6) == o.folds && latest.text(7) == missing) {
        const int64_t sid = latest.int64(0);
        SplitRows have;
        Stmt rows(*db_, "SELECT track_id, subset, fold FROM split_tracks WHERE split_id=?");
        rows.bind(1, sid);
        while (rows.step()) have[rows.int64(0)] = {rows.text(1), rows.int64(2)};
        if (have == wanted) return sid;
    }
    Stmt ins(*db_, "INSERT INTO splits(dataset_id, seed, train_fraction, groups_file, method, kind, val_fraction, "
                   "folds, missing) VALUES(?,?,?,?,?,?,?,?,?)");
    ins.bind(1, dataset_id).bind(2, int64_t(o.seed)).bind(3, train_fraction).bind(4, o.groups_file)
        .bind(5, split.method).bind(6, std::string(data::to_string(o.kind))).bind(7, val_fraction)
        .bind(8, int64_t(o.folds)).bind(9, missing).run();
    const int64_t sid = sqlite3_last_insert_rowid(db_->handle());
    Stmt row(*db_, "INSERT INTO split_tracks(split_id, track_id, subset, fold) VALUES(?,?,?,?)");
    for (const auto& [track, sf] : wanted) row.bind(1, sid).bind(2, track).bind(3, sf.first).bind(4, sf.second).run();
    tx.commit();
    return sid;
}

std::vector<DatasetSummary> RunStore::list_datasets() {
    Stmt s(*db_, R"sql(
SELECT d.id, d.name, d.kind, d.root, d.updated_at,
  (SELECT count(*) FROM tracks t WHERE t.dataset_id = d.id),
  (SELECT count(*) FROM tracks t WHERE t.dataset_id = d.id AND t.status = 'valid'),
  (SELECT count(*) FROM tracks t WHERE t.dataset_id = d.id AND t.status = 'invalid'),
  (SELECT count(*) FROM tracks t WHERE t.dataset_id = d.id AND t.status = 'missing'),
  (SELECT count(*) FROM classes c WHERE c.dataset_id = d.id),
  COALESCE(sp.kind, ''), COALESCE(sp.folds, 0),
  (SELECT count(*) FROM split_tracks st WHERE st.split_id = sp.id AND st.subset = 'train'),
  (SELECT count(*) FROM split_tracks st WHERE st.split_id = sp.id AND st.subset = 'val'),
  (SELECT count(*) FROM split_tracks st WHERE st.split_id = sp.id AND st.subset = 'test'),
  (SELECT count(*) FROM split_tracks st WHERE st.split_id = sp.id AND st.subset = 'excluded')
FROM datasets d
LEFT JOIN splits sp ON sp.id = (SELECT max(id) FROM splits WHERE dataset_id = d.id)
ORDER BY d.name)sql");
    std::vector<DatasetSummary> out;
    while (s.step()) {
        DatasetSummary d;
        d.id = s.int64(0);
        d.name = s.text(1);
        d.kind = s.text(2);
        d.root = s.text(3);
        d.updated_at = s.text(4);
        d.tracks = s.int64(5);
        d.valid = s.int64(6);
        d.invalid = s.int64(7);
        d.missing = s.int64(8);
        d.classes = s.int64(9);
        d.split_kind = s.text(10);
        d.folds = s.int64(11);
        d.train = s.int64(12);
        d.val = s.int64(13);
        d.test = s.int64(14);
        d.excluded = s.int64(15);
        out.push_back(d);
    }
    return out;
}

bool RunStore::has_dataset(const std::string& name) {
    Stmt s(*db_, "SELECT 1 FROM datasets WHERE name=?");
    s.bind(1, name);
    return s.step();
}

std::optional<StoredDataset> RunStore::load_dataset(const std::string& name, int64_t split_id) {
    Stmt d(*db_, "SELECT id, name, kind, root, multi_label, import_report, created_at, updated_at FROM datasets WHERE name=?");
    d.bind(1, name);
    if (!d.step()) return std::nullopt;
    StoredDataset out;
    out.id = d.int64(0);
    data::Catalog& c = out.catalog;
    c.name = d.text(1);
    c.kind = d.text(2);
    c.root = d.text(3);
    c.multi_label = d.int64(4) != 0;
    // A column another program (or a damaged file) filled with the wrong JSON is our Error,
    // naming the database, never a library exception escaping into a front end.
    const auto damaged = [&](const std::string& what, const std::exception& e) {
        return Error(db_->path(), "dataset '" + c.name + "': " + what + " is unreadable (" + e.what() + ")",
                     "import the dataset again (gafx dataset import), or restore the workspace from a backup");
    };
    const json report = json::parse(d.text(5), nullptr, false);
    if (report.is_object()) {
        try {
            c.skipped_hidden = report.value("skipped_hidden", int64_t(0));
            c.skipped_non_audio = report.value("skipped_non_audio", std::vector<std::string>{});
            c.empty_classes = report.value("empty_classes", std::vector<std::string>{});
            c.warnings = report.value("warnings", std::vector<std::string>{});
        } catch (const json::exception& e) {
            throw damaged("its import report", e);
        }
    }
    out.created_at = d.text(6);
    out.updated_at = d.text(7);

    Stmt cls(*db_, "SELECT class_id, display_name FROM classes WHERE dataset_id=? ORDER BY idx");
    cls.bind(1, out.id);
    while (cls.step()) c.classes.push_back(data::ClassInfo{cls.text(0), cls.text(1)});

    Stmt tr(*db_, R"sql(SELECT id, key, path, labels, sample_rate, channels, frames, duration, start_seconds,
        end_seconds, origin, status, error, size_bytes, mtime_ns FROM tracks WHERE dataset_id=? ORDER BY key)sql");
    tr.bind(1, out.id);
    std::map<int64_t, size_t> index;
    while (tr.step()) {
        data::Track t;
        t.id = tr.int64(0);
        t.key = tr.text(1);
        t.path = tr.text(2);
        try {
            t.labels = json::parse(tr.text(3)).get<std::vector<std::string>>();
        } catch (const json::exception& e) {
            throw damaged("the labels of track '" + t.key + "'", e);
        }
        t.sample_rate = int(tr.int64(4));
        t.channels = int(tr.int64(5));
        t.frames = tr.int64(6);
        t.duration = tr.real(7);
        t.start_seconds = tr.real(8);
        t.end_seconds = tr.real(9);
        t.origin = tr.text(10);
        t.status = data::track_status_from_string(tr.text(11));
        t.error = tr.text(12);
        t.size_bytes = tr.int64(13);
        t.mtime_ns = tr.int64(14);
        index[t.id] = c.tracks.size();
        c.tracks.push_back(std::move(t));
    }

    out.split.subset.assign(c.tracks.size(), data::Subset::None);
    Stmt sp(*db_, "SELECT id, seed, train_fraction, groups_file, method, kind, val_fraction, folds, missing FROM splits "
                  "WHERE dataset_id=?1 AND (?2 = 0 OR id = ?2) ORDER BY id DESC LIMIT 1");
    sp.bind(1, out.id).bind(2, split_id);
    if (sp.step()) {
        data::SplitOptions& o = out.split.options;
        out.split_id = sp.int64(0);
        o.seed = uint64_t(sp.int64(1));
        o.groups_file = sp.text(3);
        out.split.method = sp.text(4);
        o.kind = data::parse_split_kind(sp.text(5)).value_or(data::SplitKind::Random);
        o.test_fraction = o.kind == data::SplitKind::Random ? 1.0 - sp.real(2) : 0.0;
        o.val_fraction = sp.real(6);
        o.folds = int(sp.int64(7));
        const json missing = json::parse(sp.text(8), nullptr, false);
        if (missing.is_array())
            for (const auto& m : missing)
                if (m.is_string()) out.split.missing.push_back(m.get<std::string>());
        if (out.split.is_kfold()) out.split.fold.assign(c.tracks.size(), -1);
        Stmt rows(*db_, "SELECT track_id, subset, fold FROM split_tracks WHERE split_id=?");
        rows.bind(1, out.split_id);
        while (rows.step()) {
            auto it = index.find(rows.int64(0));
            if (it == index.end()) continue;
            out.split.subset[it->second] = data::subset_from_string(rows.text(1));
            if (out.split.is_kfold()) out.split.fold[it->second] = int(rows.int64(2));
        }
    } else if (split_id != 0) {
        throw Error(path(), "split " + std::to_string(split_id) + " is not a split of dataset '" + name + "'",
                    "queue the run again");
    }
    return out;
}

} // namespace gafx::store
