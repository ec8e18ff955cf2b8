// A grid trained in parts on "two machines" (gafx train --shard, each part into its own
// workspace, its dataset at its own path) and merged with gafx runs import equals the same grid
// trained in one workspace: the same runs with the same histories, the fine-tuning run pointing
// at the pretraining run it started from, and every run's files beside the merged workspace.
// Importing again changes nothing; a dataset of the same name with other content is a conflict.
// --parallel trains the runs of a grid at once, one process each, to the histories of one at a
// time, and Ctrl-C leaves each run it had started interrupted and resumable.
#include "experiments/experiment.h"
#include "store/run_paths.h"
#include "store/run_store.h"
#include "store/sqlite_db.h"
#include "test_support.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <map>
#include <set>

using namespace gafx;
using test::run_gafx;

namespace {

std::vector<store::MetricRow> history(store::RunStore& db, int64_t run) {
    std::vector<store::MetricRow> out;
    for (auto& r : db.metrics(run))
        if (r.split != "time") out.push_back(r);
    return out;
}

// A run's config with the id of the run it starts from left out: ids are each workspace's own.
std::string config_without_ids(const std::string& json) {
    auto c = experiments::parse_run_config(json);
    c.pretrained_run = 0;
    return experiments::to_json(c);
}

} // namespace

class TestCliShards : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString cache_;

    QString ws(const QString& name) const { return dir_.path() + "/" + name + "/ws.db"; }

    void train(const QString& db, const QStringList& extra = {}) {
        const auto r = run_gafx(QStringList{QStringLiteral("train"), dir_.path() + "/ft.json", QStringLiteral("--db"), db,
                                            QStringLiteral("--threads"), QStringLiteral("1"), QStringLiteral("--cache"),
                                            cache_} +
                                extra);
        QVERIFY2(r.exit_code == 0, qPrintable(r.out + r.err));
    }

    test::CliResult import(const QStringList& files, const QString& into) {
        return run_gafx(QStringList{QStringLiteral("runs"), QStringLiteral("import")} + files +
                        QStringList{QStringLiteral("--db"), into});
    }

private Q_SLOTS:
    void initTestCase() {
        cache_ = dir_.path() + "/cache";
        test::write_pretrain_and_finetune(dir_.path(), 2);
        for (const char* name : {"one", "part1", "part2"}) test::make_demo_workspace(dir_.path() + "/" + name, 4, 4.0);
    }

    void mergedPartsEqualOneWorkspace() {
        train(ws(QStringLiteral("one")));
        train(ws(QStringLiteral("part1")), {QStringLiteral("--shard"), QStringLiteral("1/2")});
        train(ws(QStringLiteral("part2")), {QStringLiteral("--shard"), QStringLiteral("2/2")});
        QCOMPARE(store::RunStore(ws(QStringLiteral("part1")).toStdString()).list_runs().size(), size_t(2));
        QCOMPARE(store::RunStore(ws(QStringLiteral("part2")).toStdString()).list_runs().size(), size_t(1));

        const QString merged = dir_.path() + "/merged/ws.db";
        const auto r = import({ws(QStringLiteral("part1")), ws(QStringLiteral("part2"))}, merged);
        QVERIFY2(r.exit_code == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains(QStringLiteral("2 run(s) imported, 0 already here, 0 skipped, 0 conflict(s); dataset(s) "
                                               "added: tiny")),
                 qPrintable(r.out));
        QVERIFY2(r.out.contains(QStringLiteral("1 run(s) imported, 0 already here")), qPrintable(r.out));

        store::RunStore one(ws(QStringLiteral("one")).toStdString()), all(merged.toStdString());
        const auto expected = one.list_runs(), got = all.list_runs();
        QCOMPARE(got.size(), expected.size());
        std::map<std::string, store::RunRecord> by_config;
        for (const auto& g : got) by_config[g.experiment + config_without_ids(g.config)] = g;
        for (const auto& e : expected) {
            const auto it = by_config.find(e.experiment + config_without_ids(e.config));
            QVERIFY2(it != by_config.end(), e.config.c_str());
            const auto& g = it->second;
            QVERIFY(g.status == store::RunStatus::Finished);
            QCOMPARE(g.selected_epoch, e.selected_epoch);
            QCOMPARE(g.val_track_accuracy, e.val_track_accuracy);
            QCOMPARE(g.test_track_accuracy, e.test_track_accuracy);
            const auto he = history(one, e.id), hg = history(all, g.id);
            QCOMPARE(hg.size(), he.size());
            for (size_t i = 0; i < he.size(); ++i) {
                QCOMPARE(hg[i].name, he[i].name);
                QCOMPARE(hg[i].value, he[i].value); // same config, seed and threads: the same numbers
            }
            QCOMPARE(all.predictions(g.id).size(), one.predictions(e.id).size());
            QVERIFY(QFile::exists(QString::fromStdString(store::run_paths(all.path(), g).best)));
            const auto c = experiments::parse_run_config(g.config);
            if (c.pretraining == "run") {
                const auto base = all.run(c.pretrained_run);
                QVERIFY(base.has_value());
                QCOMPARE(base->experiment, std::string("pre"));
            }
        }

        // Each run keeps its identity: gafx runs --json names the uuid it had in its part.
        std::set<QString> part_uuids;
        for (const char* part : {"part1", "part2"})
            for (const auto& run : store::RunStore(ws(QString::fromLatin1(part)).toStdString()).list_runs())
                part_uuids.insert(QString::fromStdString(run.uuid));
        const auto listed = run_gafx({QStringLiteral("runs"), QStringLiteral("--json"), QStringLiteral("--db"), merged});
        const QJsonArray objects = QJsonDocument::fromJson(listed.out.toUtf8()).array();
        QCOMPARE(objects.size(), 3);
        for (const auto& v : objects) QVERIFY(part_uuids.count(v.toObject()[QStringLiteral("uuid")].toString()));

        // Again: nothing changes.
        const auto again = import({ws(QStringLiteral("part1")), ws(QStringLiteral("part2"))}, merged);
        QCOMPARE(again.exit_code, 0);
        QVERIFY2(again.out.contains(QStringLiteral("0 run(s) imported, 2 already here")), qPrintable(again.out));
        QCOMPARE(all.list_runs().size(), expected.size());
    }

    void parallelProcessesTrainTheSameHistories_data() {
        QTest::addColumn<QStringList>("slots");
        QTest::addColumn<QString>("name"); // the workspace's folder
        QTest::newRow("--parallel 2") << QStringList{QStringLiteral("--parallel"), QStringLiteral("2")}
                                      << QStringLiteral("par");
        // One process per device: the CUDA path's slots, on the devices this machine has.
        QTest::newRow("--devices cpu,cpu") << QStringList{QStringLiteral("--devices"), QStringLiteral("cpu,cpu")}
                                           << QStringLiteral("devices");
    }

    // Against the reference mergedPartsEqualOneWorkspace trained in "one" (QtTest runs in order).
    void parallelProcessesTrainTheSameHistories() {
        // The fine-tuning run waits for its pretraining run; the run from scratch starts beside it.
        QFETCH(QStringList, slots);
        QFETCH(QString, name);
        const QString par = ws(name);
        test::make_demo_workspace(dir_.path() + "/" + name, 4, 4.0);
        const auto r = run_gafx(QStringList{QStringLiteral("train"), dir_.path() + "/ft.json", QStringLiteral("--db"), par,
                                            QStringLiteral("--threads"), QStringLiteral("1"), QStringLiteral("--cache"),
                                            cache_} +
                                slots);
        QVERIFY2(r.exit_code == 0, qPrintable(r.out + r.err));
        QCOMPARE(r.out.count(QStringLiteral(" finished: ")), 3);
        QVERIFY(QFile::exists(dir_.path() + "/" + name + "/logs/run-3.log"));
        store::RunStore one(ws(QStringLiteral("one")).toStdString()), p(par.toStdString());
        const auto expected = one.list_runs(), got = p.list_runs();
        QCOMPARE(got.size(), expected.size());
        for (size_t i = 0; i < got.size(); ++i) {
            QCOMPARE(got[i].config, expected[i].config); // queued in the same order: the same ids
            const auto he = history(one, expected[i].id), hg = history(p, got[i].id);
            QCOMPARE(hg.size(), he.size());
            for (size_t k = 0; k < he.size(); ++k) QCOMPARE(hg[k].value, he[k].value);
        }
    }

    void ctrlCStopsEveryProcessCleanly() {
        const QString db = ws(QStringLiteral("stop"));
        test::make_demo_workspace(dir_.path() + "/stop", 4, 4.0);
        QFile pre(dir_.path() + "/pre.json");
        QVERIFY(pre.open(QIODevice::ReadOnly));
        QByteArray long_grid = pre.readAll().replace("\"epochs\": 2", "\"epochs\": 200");
        long_grid.replace("\"seed\": 0}}", "\"seed\": 0}, \"grid\": {\"seed\": [0, 1, 2]}}");
        QVERIFY(long_grid.contains("[0, 1, 2]"));
        test::write_bytes(dir_.path() + "/long.json", long_grid);
        QProcess p;
        p.start(QStringLiteral(GAFX_CLI_PATH), {QStringLiteral("train"), dir_.path() + "/long.json", QStringLiteral("--db"), db,
                                                 QStringLiteral("--parallel"), QStringLiteral("2"), QStringLiteral("--cache"),
                                                 cache_});
        QVERIFY(p.waitForStarted());
        // Both processes past their first epoch's checkpoint.
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                int past = 0;
                for (const auto& r : store::RunStore(db.toStdString()).list_runs()) past += r.epochs_done >= 1;
                return past == 2;
            }(),
            120000);
        ::kill(pid_t(p.processId()), SIGINT);
        QVERIFY(p.waitForFinished(120000));
        QCOMPARE(p.exitCode(), 1);
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QVERIFY2(err.contains(QStringLiteral("run 3 not started: stopped before it started")), qPrintable(err));
        const auto runs = store::RunStore(db.toStdString()).list_runs();
        QCOMPARE(runs.size(), size_t(3));
        QVERIFY(runs[0].status == store::RunStatus::Interrupted);
        QVERIFY(runs[1].status == store::RunStatus::Interrupted);
        QVERIFY(runs[2].status == store::RunStatus::Queued);
        QVERIFY(runs[0].epochs_done >= 1);
    }

    void aDatasetOfTheSameNameWithOtherTracksIsAConflict() {
        // part2's copy of "tiny" relabels a track; part1's went in first.
        const QString other = dir_.path() + "/other/ws.db";
        QDir().mkpath(dir_.path() + "/other");
        {
            store::RunStore src(ws(QStringLiteral("part2")).toStdString()); // a whole file, WAL folded in
        }
        QVERIFY(QFile::copy(ws(QStringLiteral("part2")), other));
        {
            store::RunStore s(other.toStdString());
            const auto runs = s.list_runs();
            QCOMPARE(runs.size(), size_t(1));
            // A run still queued is no result: skipped, said so.
            s.create_run(runs[0].experiment_id, runs[0].config, 9);
        }
        {
            store::Db db(other.toStdString());
            db.exec("UPDATE tracks SET labels = '[\"jazz\"]' WHERE id = (SELECT min(id) FROM tracks)");
        }
        const QString fresh = dir_.path() + "/fresh/ws.db";
        QCOMPARE(import({ws(QStringLiteral("part1"))}, fresh).exit_code, 0);
        const auto r = import({other}, fresh);
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.out.contains(QStringLiteral("conflict: dataset 'tiny' here is not the one it was trained on: track")),
                 qPrintable(r.out));
        QVERIFY2(r.out.contains(QStringLiteral("skipped: it is queued, not a result yet")), qPrintable(r.out));
        QCOMPARE(store::RunStore(fresh.toStdString()).list_runs().size(), size_t(2));
        // The same workspace twice is refused by name.
        const auto self = import({fresh}, fresh);
        QCOMPARE(self.exit_code, 1);
        QVERIFY2(self.err.contains(QStringLiteral("is this workspace itself")), qPrintable(self.err));
    }
};

QTEST_GUILESS_MAIN(TestCliShards)
#include "test_cli_shards.moc"
