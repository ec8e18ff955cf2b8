// RunStore: schema and migrations, dataset upserts, splits, and durability when a writer is
// killed in the middle of a transaction.
#include "core/error.h"
#include "store/run_notes.h"
#include "store/run_store.h"
#include "store/schema.h"
#include "store/workspace_copy.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <set>

#include <cmath>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

using namespace gafx;

namespace {

data::Catalog small_catalog(int tracks_per_class) {
    data::Catalog c;
    c.name = "tiny";
    c.kind = "gtzan";
    c.root = "/data/tiny";
    for (const char* g : {"blues", "jazz"}) {
        c.classes.push_back({g, g});
        for (int i = 0; i < tracks_per_class; ++i) {
            data::Track t;
            t.key = std::string(g) + "/" + g + ".0000" + std::to_string(i) + ".wav";
            t.path = c.root + "/" + t.key;
            t.labels = {g};
            t.sample_rate = 22050;
            t.channels = 1;
            t.frames = 22050 * 30;
            t.duration = 30;
            c.tracks.push_back(t);
        }
    }
    return c;
}

const int kBatch = 20000;

// The child: append batches of metric rows forever, telling the parent on `fd` when each
// batch starts ('B') and when it has committed ('C').
[[noreturn]] void write_forever(const std::string& db, int64_t run, int fd) {
    store::RunStore s(db);
    for (int64_t k = 0;; ++k) {
        std::vector<store::MetricRow> rows;
        for (int i = 0; i < kBatch; ++i) rows.push_back({k * kBatch + i, k, "train", "loss", double(i)});
        const char b = 'B';
        if (write(fd, &b, 1) != 1) _exit(3);
        s.append_metrics(run, rows);
        const char c = 'C';
        if (write(fd, &c, 1) != 1) _exit(3);
    }
}

} // namespace

class TestStore : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void createsSchemaAndReopens() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/sub/ws.db").toStdString();
        {
            store::RunStore s(path);
            QCOMPARE(s.schema_version(), 8);
            QCOMPARE(QString::fromStdString(s.integrity_check()), QStringLiteral("ok"));
        }
        store::RunStore again(path);
        QCOMPARE(again.schema_version(), 8);
    }

    void refusesNewerSchema() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/ws.db").toStdString();
        { store::RunStore s(path); }
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open(path.c_str(), &db), SQLITE_OK);
        QCOMPARE(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(db);
        try {
            store::RunStore s(path);
            QFAIL("a newer schema was accepted");
        } catch (const Error& e) {
            QCOMPARE(QString::fromStdString(e.path()), QString::fromStdString(path));
            QVERIFY(QString::fromStdString(e.reason()).contains(QStringLiteral("newer")));
        }
    }

    void malformedJsonColumnsAreErrorsNamingTheDatabase() {
        // Another program wrote the columns: a library exception must not reach a front end.
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/ws.db").toStdString();
        data::Catalog cat;
        cat.name = "g";
        cat.kind = "gtzan";
        cat.root = "/nowhere";
        cat.classes = {{"blues", ""}};
        data::Track t;
        t.key = "blues/a.wav";
        t.labels = {"blues"};
        cat.tracks.push_back(t);
        store::RunStore(path).save_catalog(cat);
        for (const char* sql : {"UPDATE tracks SET labels='{\"not\": \"a list\"}'", "UPDATE tracks SET labels='[1, 2'",
                                "UPDATE tracks SET labels='[\"blues\"]'; UPDATE datasets SET import_report='{\"warnings\": 5}'"}) {
            store::Db(path).exec(sql);
            try {
                store::RunStore(path).load_dataset("g");
                QFAIL(sql);
            } catch (const Error& e) {
                QCOMPARE(e.path(), path);
                QVERIFY2(QString::fromStdString(e.reason()).contains(QStringLiteral("is unreadable")), e.what());
            }
        }
    }

    void refusesNonDatabase() {
        QTemporaryDir dir;
        const QString path = dir.path() + "/notes.txt";
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(4096, 'x'));
        f.close();
        try {
            store::RunStore s(path.toStdString());
            QFAIL("a text file was opened as a workspace");
        } catch (const Error& e) {
            QCOMPARE(QString::fromStdString(e.path()), path);
        }
    }

    void reimportUpdatesWithoutDuplicates() {
        QTemporaryDir dir;
        store::RunStore s((dir.path() + "/ws.db").toStdString());
        data::Catalog c = small_catalog(3);
        const int64_t id = s.save_catalog(c);
        const int64_t first_track = c.tracks[0].id;
        QVERIFY(first_track > 0);

        data::Catalog again = small_catalog(3);
        again.tracks.pop_back(); // a file deleted on disk
        again.tracks[0].status = data::TrackStatus::Invalid;
        again.tracks[0].error = "truncated";
        QCOMPARE(s.save_catalog(again), id);
        QCOMPARE(again.tracks[0].id, first_track);

        const auto all = s.list_datasets();
        QCOMPARE(all.size(), size_t(1));
        QCOMPARE(all[0].tracks, int64_t(6));
        QCOMPARE(all[0].invalid, int64_t(1));
        QCOMPARE(all[0].missing, int64_t(1));
        const auto loaded = s.load_dataset("tiny");
        QVERIFY(loaded);
        QCOMPARE(loaded->catalog.classes.size(), size_t(2));
        QCOMPARE(QString::fromStdString(loaded->catalog.tracks[0].error), QStringLiteral("truncated"));

        // The same folder under no explicit new name is the same dataset.
        data::Catalog renamed = small_catalog(3);
        renamed.name = "tiny-renamed";
        QCOMPARE(s.save_catalog(renamed), id);
        QCOMPARE(s.list_datasets().size(), size_t(1));
    }

    void splitsAreStoredAndDeduplicated() {
        QTemporaryDir dir;
        store::RunStore s((dir.path() + "/ws.db").toStdString());
        data::Catalog c = small_catalog(5);
        const int64_t id = s.save_catalog(c);
        data::SplitOptions o;
        o.seed = 7;
        const data::Split split = data::make_split(c, o);
        const int64_t sid = s.save_split(id, c, split);
        QCOMPARE(s.save_split(id, c, split), sid);
        const auto loaded = s.load_dataset("tiny");
        QCOMPARE(loaded->split_id, sid);
        QCOMPARE(loaded->split.count(data::Subset::Train), int64_t(6));
        QCOMPARE(loaded->split.count(data::Subset::Val), int64_t(2));
        QCOMPARE(loaded->split.count(data::Subset::Test), int64_t(2));
        QCOMPARE(s.list_datasets()[0].val, int64_t(2));
        for (size_t i = 0; i < c.tracks.size(); ++i) {
            // load_dataset orders by key, like the catalogue here.
            QCOMPARE(loaded->catalog.tracks[i].key, c.tracks[i].key);
            QCOMPARE(loaded->split.subset[i], split.subset[i]);
        }
        o.seed = 8;
        const data::Split other = data::make_split(c, o);
        if (other.subset != split.subset) QVERIFY(s.save_split(id, c, other) != sid);
    }

    void schemaTwoWorkspaceMigrates() {
        // A workspace from before validation splits: a two-way split and a run queued on it.
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/ws.db").toStdString();
        {
            store::Db db(path);
            store::migrate(db, 2);
            QCOMPARE(store::schema_version(db), 2);
            db.exec("INSERT INTO datasets(id, name, kind, root) VALUES(1, 'old', 'gtzan', '/data/old');"
                    "INSERT INTO tracks(id, dataset_id, key, status) VALUES(1, 1, 'a/a.1.wav', 'valid'),"
                    " (2, 1, 'a/a.2.wav', 'valid');"
                    "INSERT INTO splits(id, dataset_id, seed, train_fraction, method) VALUES(1, 1, 5, 0.8, 'old way');"
                    "INSERT INTO split_tracks(split_id, track_id, subset) VALUES(1, 1, 'train'), (1, 2, 'test');"
                    "INSERT INTO runs(id, config, split_id, dataset_id) VALUES(1, '{}', 1, 1);");
        }
        store::RunStore s(path);
        QCOMPARE(s.schema_version(), 8);
        QCOMPARE(QString::fromStdString(s.integrity_check()), QStringLiteral("ok"));
        const auto d = s.load_dataset("old");
        QCOMPARE(d->split_id, int64_t(1));
        QCOMPARE(d->split.options.kind, data::SplitKind::Random);
        QVERIFY(std::fabs(d->split.options.test_fraction - 0.2) < 1e-12);
        QCOMPARE(d->split.options.val_fraction, 0.0);
        QCOMPARE(d->split.subset[0], data::Subset::Train);
        QCOMPARE(d->split.subset[1], data::Subset::Test);
        QCOMPARE(s.run(1)->split_id, int64_t(1));
        // The new subsets are accepted from now on.
        data::Catalog c = d->catalog;
        data::Split three = d->split;
        three.options.val_fraction = 0.1;
        three.subset[0] = data::Subset::Val;
        QVERIFY(s.save_split(d->id, c, three) != 1);
        QCOMPARE(s.list_datasets()[0].val, int64_t(1));
    }

    void tagsAndNotes() {
        QTemporaryDir dir;
        store::RunStore s((dir.path() + "/ws.db").toStdString());
        const int64_t a = s.create_run(0, "{}", 0), b = s.create_run(0, "{}", 1);
        s.tag_runs({a, b}, {"Good", "baseline"});
        s.tag_runs({b}, {"paper/t3"}, {"good"});
        QCOMPARE(s.run(a)->tags, (std::vector<std::string>{"baseline", "good"})); // lower case, sorted
        QCOMPARE(s.run(b)->tags, (std::vector<std::string>{"baseline", "paper/t3"}));
        QCOMPARE(s.tag_counts(), (std::vector<std::pair<std::string, int64_t>>{{"baseline", 2}, {"good", 1}, {"paper/t3", 1}}));
        s.tag_runs({a}, {"good"}); // already there: nothing changes
        QCOMPARE(s.run(a)->tags.size(), size_t(2));
        // An unknown run or a bad tag changes nothing, on any run named.
        QVERIFY(test::error_of([&] { s.tag_runs({a, 999}, {"new"}); }).contains(QStringLiteral("no run 999")));
        QVERIFY(test::error_of([&] { s.tag_runs({a}, {"two words"}); }).contains(QStringLiteral("holds ' '")));
        QVERIFY(test::error_of([&] { s.tag_runs({a}, {std::string(41, 'x')}); }).contains(QStringLiteral("longer than 40")));
        QCOMPARE(s.run(a)->tags, (std::vector<std::string>{"baseline", "good"}));
        // Notes: UTF-8 up to 64 KiB.
        s.set_run_note(a, "lr too high? \xc3\xa9 retry with 1e-4\nsecond line");
        QCOMPARE(s.run(a)->note, std::string("lr too high? \xc3\xa9 retry with 1e-4\nsecond line"));
        QVERIFY(test::error_of([&] { s.set_run_note(a, "bad \xc3("); }).contains(QStringLiteral("not UTF-8")));
        QVERIFY(test::error_of([&] { s.set_run_note(a, "\xed\xa0\x80"); }).contains(QStringLiteral("not UTF-8"))); // a surrogate
        QVERIFY(test::error_of([&] { s.set_run_note(a, "\xc0\xaf"); }).contains(QStringLiteral("not UTF-8")));     // overlong
        QVERIFY(test::error_of([&] { s.set_run_note(a, std::string(64 * 1024 + 1, 'x')); }).contains(QStringLiteral("64 KiB")));
        QVERIFY(test::error_of([&] { s.set_run_note(999, "x"); }).contains(QStringLiteral("no run 999")));
        QCOMPARE(s.run(a)->note.substr(0, 3), std::string("lr "));
        s.set_run_note(a, "");
        QCOMPARE(s.run(a)->note, std::string());
        // The edit of a selection's shared tags leaves tags only some runs have alone.
        const auto shared = store::shared_tags({s.run(a)->tags, s.run(b)->tags});
        QCOMPARE(shared, std::vector<std::string>{"baseline"});
        const auto change = store::tag_changes(shared, "keep, Final");
        QCOMPARE(change.add, (std::vector<std::string>{"final", "keep"}));
        QCOMPARE(change.remove, std::vector<std::string>{"baseline"});
        QVERIFY(store::tag_changes(shared, " , ").add.empty());
        QCOMPARE(store::tag_changes(shared, " , ").remove, std::vector<std::string>{"baseline"});
    }

    void kfoldSplitRoundTrips() {
        QTemporaryDir dir;
        store::RunStore s((dir.path() + "/ws.db").toStdString());
        data::Catalog c = small_catalog(6);
        const int64_t id = s.save_catalog(c);
        data::SplitOptions o;
        o.kind = data::SplitKind::KFold;
        o.folds = 3;
        const data::Split split = data::make_split(c, o);
        const int64_t sid = s.save_split(id, c, split);
        QCOMPARE(s.save_split(id, c, split), sid);
        const auto loaded = s.load_dataset("tiny");
        QVERIFY(loaded->split.is_kfold());
        QCOMPARE(loaded->split.options.folds, 3);
        QVERIFY(loaded->split.fold == split.fold);
        QCOMPARE(loaded->split.fold_sizes(), split.fold_sizes());
        const auto d = s.list_datasets()[0];
        QCOMPARE(QString::fromStdString(d.split_kind), QStringLiteral("kfold"));
        QCOMPARE(d.folds, int64_t(3));
    }

    void runsKeepTheSplitTheyWereQueuedOn() {
        QTemporaryDir dir;
        store::RunStore s((dir.path() + "/ws.db").toStdString());
        data::Catalog c = small_catalog(10);
        const int64_t id = s.save_catalog(c);
        data::SplitOptions o;
        o.seed = 1;
        const data::Split first = data::make_split(c, o);
        const int64_t sid = s.save_split(id, c, first);
        const auto q = s.queue_experiment("e", "{}", {{"{}", 0, "tiny"}, {"{}", 1, "no-such-dataset"}});
        QCOMPARE(s.run(q.run_ids[0])->split_id, sid);
        QCOMPARE(s.run(q.run_ids[0])->dataset_id, id);
        QCOMPARE(s.run(q.run_ids[1])->split_id, int64_t(0)); // no dataset of that name: nothing recorded
        o.seed = 2;
        const data::Split second = data::make_split(c, o);
        QVERIFY(second.subset != first.subset);
        const int64_t sid2 = s.save_split(id, c, second);
        QVERIFY(sid2 != sid);
        QCOMPARE(s.load_dataset("tiny")->split_id, sid2); // the latest by default
        QCOMPARE(s.run(q.run_ids[0])->split_id, sid);     // the run's stays
        const auto old = s.load_dataset("tiny", sid);
        QCOMPARE(old->split_id, sid);
        QVERIFY(old->split.subset == first.subset);
        QVERIFY_THROWS_EXCEPTION(Error, s.load_dataset("tiny", sid2 + 100));
    }

    void selectedEpochIsChosenOnValNeverOnTest() {
        QTemporaryDir dir;
        store::RunStore s((dir.path() + "/ws.db").toStdString());
        const int64_t run = s.create_run(0, "{}", 0);
        // Test peaks at epoch 3, val at epoch 2 (tied by epoch 4, which comes later with a higher loss).
        const double val[] = {0.5, 0.8, 0.7, 0.8}, loss[] = {1.0, 0.5, 0.6, 0.6}, test[] = {0.9, 0.6, 0.95, 0.7};
        std::vector<store::MetricRow> rows;
        for (int e = 1; e <= 4; ++e) {
            const int64_t step = 10 * e;
            rows.push_back({step, e, "val", "selection", val[e - 1]});
            rows.push_back({step, e, "val", "loss", loss[e - 1]});
            rows.push_back({step, e, "val", "track_accuracy", val[e - 1]});
            rows.push_back({step, e, "test", "track_accuracy", test[e - 1]});
            rows.push_back({step, e, "test", "accuracy", test[e - 1] / 2});
            rows.push_back({step, e, "test", "macro_f1", test[e - 1] - 0.1});
        }
        s.append_metrics(run, rows);
        const auto r = s.run(run);
        QCOMPARE(r->selected_epoch, int64_t(2));
        QCOMPARE(r->val_score, 0.8);
        QCOMPARE(r->val_track_accuracy, 0.8);
        QCOMPARE(r->test_track_accuracy, 0.6); // not 0.95, the test maximum
        QCOMPARE(r->test_accuracy, 0.3);
        QVERIFY(std::fabs(r->test_macro_f1 - 0.5) < 1e-12);
        QCOMPARE(r->final_test_track_accuracy, 0.7);
        QCOMPARE(r->final_test_accuracy, 0.35);
        // A tie goes to the lower val loss, even when it comes later.
        const int64_t tie = s.create_run(0, "{}", 0);
        s.append_metrics(tie, {{10, 1, "val", "selection", 1.0}, {10, 1, "val", "loss", 0.6},
                               {10, 1, "test", "track_accuracy", 0.75}, {20, 2, "val", "selection", 1.0},
                               {20, 2, "val", "loss", 0.2}, {20, 2, "test", "track_accuracy", 0.95}});
        QCOMPARE(s.run(tie)->selected_epoch, int64_t(2));
        QCOMPARE(s.run(tie)->test_track_accuracy, 0.95);
        // A run from before validation splits: test metrics only, so nothing is selected.
        const int64_t legacy = s.create_run(0, "{}", 0);
        s.append_metrics(legacy, {{10, 1, "test", "track_accuracy", 0.9}});
        QCOMPARE(s.run(legacy)->selected_epoch, int64_t(0));
        QVERIFY(std::isnan(s.run(legacy)->test_track_accuracy));
        QCOMPARE(s.run(legacy)->final_test_track_accuracy, 0.9);
        // A resume from epoch 1 drops the later epochs, and the run's figures follow.
        s.delete_metrics_after(run, 10);
        QCOMPARE(s.run(run)->selected_epoch, int64_t(1));
        QCOMPARE(s.run(run)->test_track_accuracy, 0.9);
        QCOMPARE(s.run(run)->final_test_track_accuracy, 0.9);
        s.delete_metrics_after(run, -1);
        QCOMPARE(s.run(run)->selected_epoch, int64_t(0));
        QVERIFY(std::isnan(s.run(run)->final_test_track_accuracy));
        QCOMPARE(s.list_runs().size(), size_t(3));
    }

    void schemaFiveRunsGetTheirSummaryOnOpen() {
        // Runs trained before run_summary existed: their figures are computed once, when the
        // workspace is opened by this gafx, and equal what the metrics say.
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/ws.db").toStdString();
        {
            store::Db db(path);
            store::migrate(db, 5);
            db.exec("INSERT INTO runs(id, config) VALUES(1, '{}'), (2, '{}');"
                    "INSERT INTO metrics(run_id, step, epoch, split, name, value) VALUES"
                    " (1, 10, 1, 'val', 'selection', 0.4), (1, 10, 1, 'test', 'track_accuracy', 0.5),"
                    " (1, 20, 2, 'val', 'selection', 0.9), (1, 20, 2, 'test', 'track_accuracy', 0.6),"
                    " (1, 30, 3, 'val', 'selection', 0.7), (1, 30, 3, 'test', 'track_accuracy', 0.8);");
        }
        {
            store::RunStore s(path);
            QCOMPARE(s.schema_version(), 8);
            const auto runs = s.list_runs();
            QCOMPARE(runs.size(), size_t(2));
            QCOMPARE(runs[0].selected_epoch, int64_t(2));
            QCOMPARE(runs[0].test_track_accuracy, 0.6);
            QCOMPARE(runs[0].final_test_track_accuracy, 0.8);
            QCOMPARE(runs[1].selected_epoch, int64_t(0));
        }
        store::Db db(path);
        store::Stmt stale(db, "SELECT count(*) FROM run_summary WHERE stale");
        QVERIFY(stale.step());
        QCOMPARE(stale.int64(0), int64_t(0));
    }

    void everyRunHasAVersionFourUuid() {
        // Runs of a schema-6 workspace get theirs when it is opened; new runs at insert.
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/ws.db").toStdString();
        {
            store::Db db(path);
            store::migrate(db, 6);
            db.exec("INSERT INTO runs(id, config) VALUES(1, '{}'), (2, '{}');");
        }
        store::RunStore s(path);
        const int64_t e = s.create_experiment("x", "{}");
        s.create_run(e, "{}", 0);
        const QRegularExpression v4(QStringLiteral("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"));
        std::set<std::string> seen;
        for (const auto& r : s.list_runs()) {
            QVERIFY2(v4.match(QString::fromStdString(r.uuid)).hasMatch(), r.uuid.c_str());
            seen.insert(r.uuid);
        }
        QCOMPARE(seen.size(), size_t(3));
    }

    // `gafx train --parallel 3` or three Slurm tasks on one disk: three processes write runs,
    // metrics, heartbeats and progress into one workspace while a fourth reads. Each write waits
    // for the others' locks (WAL, BEGIN IMMEDIATE, the busy timeout): no error, no lost row.
    void threeWritersAndAReaderLoseNothing() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/ws.db").toStdString();
        constexpr int kWriters = 3, kCommits = 400, kRows = 4;
        {
            store::RunStore s(path); // created before, as gafx train queues before it starts trainers
        }
        std::vector<pid_t> children;
        for (int w = 0; w < kWriters; ++w) {
            const pid_t child = fork();
            QVERIFY(child >= 0);
            if (child == 0) {
                int code = 0;
                try {
                    store::RunStore s(path);
                    const int64_t run = s.create_run(0, "{\"writer\": " + std::to_string(w) + "}", w);
                    s.claim_run(run, "writer" + std::to_string(w), getpid(), "here");
                    for (int c = 0; c < kCommits; ++c) {
                        std::vector<store::MetricRow> rows;
                        for (int k = 0; k < kRows; ++k) rows.push_back({c * kRows + k, c, "train", "loss", double(c)});
                        s.append_metrics(run, rows);
                        s.heartbeat(run);
                        if (c % 10 == 0) s.set_run_progress(run, c, c * kRows, "/nowhere/last.safetensors");
                    }
                    s.set_run_status(run, store::RunStatus::Finished);
                } catch (const std::exception& e) {
                    std::fprintf(stderr, "writer %d: %s\n", w, e.what());
                    code = 1;
                }
                _exit(code);
            }
            children.push_back(child);
        }
        int reads = 0, running = kWriters;
        while (running > 0) {
            store::RunStore reader(path);
            for (const auto& r : reader.list_runs()) QVERIFY(reader.metrics(r.id).size() % kRows == 0); // whole batches
            ++reads;
            for (pid_t& c : children) {
                int status = 0;
                if (c > 0 && waitpid(c, &status, WNOHANG) == c) {
                    QVERIFY2(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a writer failed (its error is above)");
                    c = 0;
                    --running;
                }
            }
        }
        store::RunStore after(path);
        const auto runs = after.list_runs();
        QCOMPARE(runs.size(), size_t(kWriters));
        for (const auto& r : runs) {
            QVERIFY(r.status == store::RunStatus::Finished);
            QCOMPARE(after.metrics(r.id).size(), size_t(kCommits * kRows));
        }
        QVERIFY(reads > 0);
    }

    // The rows of import_runs (the CLI and GUI tests cover the files): ids remapped, the dataset
    // and split matched by content across paths, pretrained_run rewritten, nothing twice.
    void importRunsMergesByUuid() {
        QTemporaryDir dir;
        const std::string here_path = (dir.path() + "/here.db").toStdString(), there_path = (dir.path() + "/there.db").toStdString();
        const auto workspace = [](const std::string& path, const std::string& root) {
            store::RunStore s(path);
            data::Catalog c = small_catalog(5);
            c.root = root; // another machine's path: the content is what counts
            for (auto& t : c.tracks) t.path = root + "/" + t.key;
            const int64_t id = s.save_catalog(c);
            data::SplitOptions o;
            o.seed = 7;
            s.save_split(id, c, data::make_split(c, o));
        };
        workspace(here_path, "/home/me/tiny");
        workspace(there_path, "/scratch/node7/tiny");
        int64_t pre = 0, ft = 0, queued = 0;
        {
            store::RunStore there(there_path);
            store::RunStore(here_path).create_run(0, "{}", 0); // ids here start past there's
            const auto q = there.queue_experiment("ft", "{}", {{R"({"dataset": "tiny"})", 0, "tiny"},
                                                               {R"({"dataset": "tiny"})", 1, "tiny"},
                                                               {R"({"dataset": "tiny"})", 2, "tiny"}});
            pre = q.run_ids[0];
            ft = q.run_ids[1];
            queued = q.run_ids[2];
            there.append_metrics(pre, {{10, 1, "val", "selection", 0.75}, {10, 1, "test", "track_accuracy", 0.5}});
            there.set_run_status(pre, store::RunStatus::Finished);
            const auto track = there.load_dataset("tiny")->catalog.tracks[3];
            there.save_predictions(pre, {{track.id, 0, {0.25f, 0.75f}}});
            there.tag_runs({pre}, {"baseline"});
            there.set_run_note(pre, "the first");
            store::Db db(there_path);
            store::Stmt cfg(db, "UPDATE runs SET config = ?1, status = 'finished' WHERE id = ?2");
            cfg.bind(1, R"({"dataset": "tiny", "pretraining": "run", "pretrained_run": )" + std::to_string(pre) + "}")
                .bind(2, ft)
                .run();
        }
        store::RunStore here(here_path);
        const auto result = here.import_runs(there_path);
        QVERIFY(result.datasets_added.empty()); // matched by content, not added
        QCOMPARE(result.runs.size(), size_t(3));
        using O = store::ImportedRun::Outcome;
        QVERIFY(result.runs[0].outcome == O::Imported);
        QVERIFY(result.runs[1].outcome == O::Imported);
        QVERIFY(result.runs[2].outcome == O::Skipped);
        QCOMPARE(result.runs[2].from_id, queued);
        const auto pre_here = here.run(result.runs[0].to_id), ft_here = here.run(result.runs[1].to_id);
        QVERIFY(pre_here->id != pre);
        QCOMPARE(pre_here->experiment, std::string("ft"));
        QCOMPARE(pre_here->val_score, 0.75);
        QCOMPARE(pre_here->tags, std::vector<std::string>{"baseline"});
        QCOMPARE(pre_here->note, std::string("the first"));
        QCOMPARE(pre_here->uuid, result.runs[0].uuid);
        QCOMPARE(pre_here->dataset_id, here.load_dataset("tiny")->id);
        QCOMPARE(pre_here->split_id, here.load_dataset("tiny")->split_id); // the same split, found
        QCOMPARE(here.metrics(pre_here->id).size(), size_t(2));
        const auto p = here.predictions(pre_here->id);
        QCOMPARE(p.size(), size_t(1));
        QCOMPARE(p[0].track_id, here.load_dataset("tiny")->catalog.tracks[3].id);
        QCOMPARE(p[0].probabilities, (std::vector<float>{0.25f, 0.75f}));
        QVERIFY(ft_here->config.find("\"pretrained_run\":" + std::to_string(pre_here->id)) != std::string::npos);

        const auto again = here.import_runs(there_path);
        QVERIFY(again.runs[0].outcome == O::AlreadyHere);
        QVERIFY(again.runs[1].outcome == O::AlreadyHere);
        QCOMPARE(here.list_runs().size(), size_t(3));

        // The same run trained further there: a conflict, this workspace's kept.
        {
            store::Db db(there_path);
            db.exec("UPDATE runs SET step = 99 WHERE id = " + std::to_string(pre));
        }
        const auto later = here.import_runs(there_path);
        QVERIFY(later.runs[0].outcome == O::Conflict);
        QCOMPARE(here.run(pre_here->id)->step, pre_here->step);

        // Another dataset under the same name: its runs are a conflict, not imported.
        const std::string odd_path = (dir.path() + "/odd.db").toStdString();
        {
            store::RunStore odd(odd_path);
            data::Catalog c = small_catalog(4);
            odd.save_catalog(c);
            const auto q = odd.queue_experiment("x", "{}", {{R"({"dataset": "tiny"})", 0, "tiny"}});
            odd.set_run_status(q.run_ids[0], store::RunStatus::Failed, "no");
        }
        const auto odd = here.import_runs(odd_path);
        QVERIFY(odd.runs[0].outcome == O::Conflict);
        QVERIFY2(odd.runs[0].reason.find("dataset 'tiny' here is not the one it was trained on") != std::string::npos,
                 odd.runs[0].reason.c_str());
        QCOMPARE(here.list_runs().size(), size_t(3));
        QVERIFY(test::error_of([&] { here.import_runs(here_path); }).contains("is this workspace itself"));

        // A Slurm task's start: the datasets and splits, no run.
        const std::string part = (dir.path() + "/part.db").toStdString();
        store::copy_datasets(here_path, part);
        store::RunStore copy(part);
        QCOMPARE(copy.list_runs().size(), size_t(0));
        QCOMPARE(copy.load_dataset("tiny")->catalog.tracks.size(), size_t(10));
        QCOMPARE(copy.load_dataset("tiny")->split.subset, here.load_dataset("tiny")->split.subset);
    }

    void killedWriterLeavesCommittedRows() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/ws.db").toStdString();
        int64_t run = 0;
        {
            store::RunStore s(path);
            run = s.create_run(0, "{}", 1);
        }
        int fds[2];
        QCOMPARE(pipe(fds), 0);
        const pid_t child = fork();
        QVERIFY(child >= 0);
        if (child == 0) {
            close(fds[0]);
            write_forever(path, run, fds[1]);
        }
        close(fds[1]);

        // A second connection reads while the child writes (WAL: no "database is locked").
        store::RunStore reader(path);
        int committed = 0;
        bool in_batch = false;
        while (committed < 3 || !in_batch) {
            char ch = 0;
            QCOMPARE(read(fds[0], &ch, 1), ssize_t(1));
            if (ch == 'C') { ++committed; in_batch = false; }
            if (ch == 'B') in_batch = true;
            QVERIFY(reader.metrics(run).size() >= size_t(committed) * kBatch);
        }
        usleep(15000); // well inside the next batch's transaction
        kill(child, SIGKILL);
        int status = 0;
        waitpid(child, &status, 0);
        // The child may have run ahead of what was read: count every commit it reported.
        char ch = 0;
        while (read(fds[0], &ch, 1) == 1)
            if (ch == 'C') ++committed;
        close(fds[0]);
        QVERIFY(WIFSIGNALED(status));

        store::RunStore after(path);
        QCOMPARE(QString::fromStdString(after.integrity_check()), QStringLiteral("ok"));
        const size_t rows = after.metrics(run).size();
        QVERIFY2(rows % kBatch == 0, "a half-written batch survived the kill");
        QVERIFY(rows >= size_t(committed) * kBatch);
        QVERIFY(rows <= size_t(committed + 1) * kBatch);
    }
};

QTEST_GUILESS_MAIN(TestStore)
#include "test_store.moc"
