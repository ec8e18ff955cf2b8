#include "store/schema.h"

#include "core/error.h"

#include <algorithm>
#include <string>
#include <vector>

// A fresh RFC 4122 version 4 UUID in SQL, lower-case: random hex but for the version nibble (4)
// and the variant's two bits (8, 9, a or b). One spelling for the migration and the trigger.
#define GAFX_SQL_UUID_V4                                                                                        \
    "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || " \
    "substr('89ab', 1 + abs(random() % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))"

namespace gafx::store {
namespace {

// Never edit a step once released: add a new one.
const std::vector<const char*>& steps() {
    static const std::vector<const char*> s = {
        // 1: the tables of DESIGN.md
        R"sql(
CREATE TABLE datasets(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK(kind IN ('gtzan','audioset')),
  root TEXT NOT NULL,
  multi_label INTEGER NOT NULL DEFAULT 0,
  import_report TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));
CREATE TABLE classes(
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  class_id TEXT NOT NULL,
  display_name TEXT NOT NULL,
  PRIMARY KEY(dataset_id, idx));
CREATE TABLE tracks(
  id INTEGER PRIMARY KEY,
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  path TEXT NOT NULL DEFAULT '',
  labels TEXT NOT NULL DEFAULT '[]',
  sample_rate INTEGER NOT NULL DEFAULT 0,
  channels INTEGER NOT NULL DEFAULT 0,
  frames INTEGER NOT NULL DEFAULT 0,
  duration REAL NOT NULL DEFAULT 0,
  start_seconds REAL NOT NULL DEFAULT 0,
  end_seconds REAL NOT NULL DEFAULT 0,
  origin TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL CHECK(status IN ('valid','invalid','missing')),
  error TEXT NOT NULL DEFAULT '',
  size_bytes INTEGER NOT NULL DEFAULT 0,
  mtime_ns INTEGER NOT NULL DEFAULT 0,
  UNIQUE(dataset_id, key));
CREATE TABLE splits(
  id INTEGER PRIMARY KEY,
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  seed INTEGER NOT NULL,
  train_fraction REAL NOT NULL,
  groups_file TEXT NOT NULL DEFAULT '',
  method TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));
CREATE TABLE split_tracks(
  split_id INTEGER NOT NULL REFERENCES splits(id) ON DELETE CASCADE,
  track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  subset TEXT NOT NULL CHECK(subset IN ('train','test')),
  PRIMARY KEY(split_id, track_id)) WITHOUT ROWID;
CREATE TABLE experiments(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  spec TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));
CREATE TABLE runs(
  id INTEGER PRIMARY KEY,
  experiment_id INTEGER REFERENCES experiments(id) ON DELETE SET NULL,
  dataset_id INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
  split_id INTEGER REFERENCES splits(id) ON DELETE SET NULL,
  config TEXT NOT NULL,
  seed INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'queued' CHECK(status IN
    ('queued','running','paused','finished','failed','diverged','interrupted','cancelled')),
  device TEXT NOT NULL DEFAULT '',
  precision TEXT NOT NULL DEFAULT '',
  versions TEXT NOT NULL DEFAULT '{}',
  epochs_done INTEGER NOT NULL DEFAULT 0,
  step INTEGER NOT NULL DEFAULT 0,
  checkpoint_path TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
  started_at TEXT, finished_at TEXT, heartbeat_at TEXT);
CREATE TABLE metrics(
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  split TEXT NOT NULL,
  name TEXT NOT NULL,
  value REAL,
  PRIMARY KEY(run_id, split, name, step)) WITHOUT ROWID;
CREATE TABLE predictions(
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  clip INTEGER NOT NULL,
  probabilities BLOB NOT NULL,
  PRIMARY KEY(run_id, track_id, clip)) WITHOUT ROWID;
CREATE TABLE artifacts(
  id INTEGER PRIMARY KEY,
  run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,
  track_id INTEGER REFERENCES tracks(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  path TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));
CREATE INDEX tracks_by_dataset ON tracks(dataset_id, status);
CREATE INDEX runs_by_status ON runs(status);
)sql",
        // 2: a running trainer's process (to tell a dead one from a slow one) and requests to it
        // from other processes (gafx cancel, the workbench), polled with the heartbeat.
        R"sql(
ALTER TABLE runs ADD COLUMN pid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN host TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN control TEXT NOT NULL DEFAULT '';
CREATE INDEX metrics_by_run_step ON metrics(run_id, step);
)sql",
        // 3: three-way splits (val chooses the epoch; excluded: left out by the protocol), k-fold
        // splits (a track's fold), and the split a run was queued on, so re-splitting leaves it alone.
        R"sql(
CREATE TABLE split_tracks_v3(
  split_id INTEGER NOT NULL REFERENCES splits(id) ON DELETE CASCADE,
  track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  subset TEXT NOT NULL CHECK(subset IN ('train','val','test','excluded')),
  fold INTEGER NOT NULL DEFAULT -1,
  PRIMARY KEY(split_id, track_id)) WITHOUT ROWID;
INSERT INTO split_tracks_v3(split_id, track_id, subset) SELECT split_id, track_id, subset FROM split_tracks;
DROP TABLE split_tracks;
ALTER TABLE split_tracks_v3 RENAME TO split_tracks;
ALTER TABLE splits ADD COLUMN kind TEXT NOT NULL DEFAULT 'random' CHECK(kind IN ('random','fault-filtered','kfold'));
ALTER TABLE splits ADD COLUMN val_fraction REAL NOT NULL DEFAULT 0;
ALTER TABLE splits ADD COLUMN folds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE splits ADD COLUMN missing TEXT NOT NULL DEFAULT '[]';
)sql",
        // 4: one owner per run and run folders of their own. `uid` names the run's folder and is
        // written into its checkpoints, so two workspaces in one folder never share run files;
        // `owner` is the token of the trainer that claimed the run (claim_run).
        R"sql(
ALTER TABLE runs ADD COLUMN uid TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
UPDATE runs SET uid = lower(hex(randomblob(8)));
CREATE TRIGGER runs_uid AFTER INSERT ON runs WHEN NEW.uid = ''
BEGIN UPDATE runs SET uid = lower(hex(randomblob(8))) WHERE id = NEW.id; END;
)sql",
        // 5: a researcher's tags and free-text note on a run (store/run_notes.h), searchable by
        // the filter language and exported with the runs.
        R"sql(
CREATE TABLE run_tags(
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY(run_id, tag)) WITHOUT ROWID;
CREATE INDEX run_tags_by_tag ON run_tags(tag);
ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT '';
)sql",
        // 6: the figures a run is listed with (its val-selected and final epochs), kept beside the
        // metrics so that listing 10 000 runs does not search 50 M metric rows. Every run starts
        // stale; RunStore fills stale rows when it opens (refresh_stale_summaries).
        R"sql(
CREATE TABLE run_summary(
  run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  stale INTEGER NOT NULL DEFAULT 1,
  selected_epoch INTEGER,
  val_score REAL,
  val_track_accuracy REAL,
  test_accuracy REAL,
  test_track_accuracy REAL,
  test_macro_f1 REAL,
  final_test_accuracy REAL,
  final_test_track_accuracy REAL);
INSERT INTO run_summary(run_id) SELECT id FROM runs;
)sql",
        // 7: a run's identity across workspaces (an RFC 4122 version 4 UUID): gafx runs import
        // merges the workspaces of shards, machines and Slurm tasks by it, so a second import of
        // the same file finds its runs already there. `uid` stays the folder's name.
        "ALTER TABLE runs ADD COLUMN uuid TEXT NOT NULL DEFAULT '';\n"
        "UPDATE runs SET uuid = " GAFX_SQL_UUID_V4 ";\n"
        "CREATE UNIQUE INDEX runs_by_uuid ON runs(uuid);\n"
        "CREATE TRIGGER runs_uuid AFTER INSERT ON runs WHEN NEW.uuid = ''\n"
        "BEGIN UPDATE runs SET uuid = " GAFX_SQL_UUID_V4 " WHERE id = NEW.id; END;\n",
        // 8: how many data-parallel ranks trained the run, and their c10d backend ('' before
        // that existed: one process).
        "ALTER TABLE runs ADD COLUMN world_size INTEGER NOT NULL DEFAULT 1;\n"
        "ALTER TABLE runs ADD COLUMN backend TEXT NOT NULL DEFAULT '';\n",
    };
    return s;
}

} // namespace

int latest_schema_version() { return static_cast<int>(steps().size()); }

int schema_version(Db& db) {
    Stmt s(db, "PRAGMA user_version");
    return s.step() ? static_cast<int>(s.int64(0)) : 0;
}

void migrate(Db& db, int target) {
    const int have = schema_version(db);
    const int want = target > 0 ? std::min(target, latest_schema_version()) : latest_schema_version();
    if (have > latest_schema_version())
        throw Error(db.path(), "workspace schema version " + std::to_string(have) + " is newer than this gafx (" +
                                   std::to_string(want) + ")",
                    "update gafx, or pass another --db FILE");
    for (int v = have; v < want; ++v) {
        Transaction tx(db);
        db.exec(steps()[size_t(v)]);
        db.exec("PRAGMA user_version = " + std::to_string(v + 1));
        tx.commit();
    }
}

} // namespace gafx::store
