// gafx train / runs / resume / cancel as a user runs them: a trainer killed with SIGKILL in the
// middle of an epoch is found interrupted and resumes to the history of an uninterrupted run,
// and experiments/demo.json reaches the accuracy it promises.
#include "store/run_store.h"
#include "test_support.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <thread>

using namespace gafx;
using test::run_gafx;

namespace {

const char* kTiny = R"({"name": "tiny", "base": {"dataset": "tiny", "extractor": "mel", "classifier": "ast-tiny",
  "preset": "small", "track_seconds": 4, "clips_per_track": 2, "clip_seconds": 1.5, "epochs": 3, "batch_size": 8,
  "lr": 0.0005, "warmup_steps": 5, "lr_halving_epochs": [2], "precision": "fp32", "seed": 3}})";

QJsonArray runs_json(const QString& db) {
    const auto r = run_gafx({QStringLiteral("runs"), QStringLiteral("--json"), QStringLiteral("--db"), db});
    return QJsonDocument::fromJson(r.out.toUtf8()).array();
}

QJsonObject run_json(const QString& db, int64_t id) {
    for (const auto& v : runs_json(db))
        if (v.toObject()[QStringLiteral("id")].toInteger() == id) return v.toObject();
    return {};
}

std::vector<store::MetricRow> history(const std::string& db, int64_t run) {
    std::vector<store::MetricRow> out;
    for (auto& r : store::RunStore(db).metrics(run))
        if (r.split != "time") out.push_back(r);
    return out;
}

} // namespace

class TestCliTrain : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString db_, exp_, cache_;

    QStringList common() const {
        return {QStringLiteral("--db"), db_, QStringLiteral("--threads"), QStringLiteral("1"), QStringLiteral("--cache"),
                cache_};
    }

private Q_SLOTS:
    void initTestCase() {
        db_ = QString::fromStdString(test::make_demo_workspace(dir_.path(), 5, 4.0));
        exp_ = dir_.path() + "/tiny.json";
        cache_ = dir_.path() + "/cache";
        test::write_bytes(exp_, kTiny);
    }

    void dryRunListsTheGrid() {
        const auto r = run_gafx({QStringLiteral("train"), QStringLiteral(GAFX_SOURCE_DIR "/experiments/paper/table3.json"),
                                 QStringLiteral("--dry-run")});
        QCOMPARE(r.exit_code, 0);
        QVERIFY2(r.out.contains(QStringLiteral("6 run(s)")), qPrintable(r.out));
        QVERIFY(r.out.contains(QStringLiteral("classifier=ast-small seed=2")));
        // Table 4's first part holds the AudioSet pretraining with the three runs that start from it.
        const auto s = run_gafx({QStringLiteral("train"), QStringLiteral(GAFX_SOURCE_DIR "/experiments/paper/table4.json"),
                                 QStringLiteral("--dry-run"), QStringLiteral("--shard"), QStringLiteral("1/3")});
        QCOMPARE(s.exit_code, 0);
        // Its cost: 80 epochs of 10 s and three runs of 80 epochs of 30 s, against three more such
        // runs from scratch: 8000 of 15200 by the same model.
        QVERIFY2(s.out.startsWith(QStringLiteral("shard 1/3: 4 run(s) of 7, 52.6 % of the grid's estimated cost (the "
                                                 "largest part 52.6 %")),
                 qPrintable(s.out));
        QVERIFY2(s.out.contains(QStringLiteral(")\npaper-audioset-pretrain run 1 of 1")), qPrintable(s.out));
        QCOMPARE(s.out.count(QStringLiteral("pretraining=run")), 3);
        const auto bad = run_gafx({QStringLiteral("train"), exp_, QStringLiteral("--shard"), QStringLiteral("4/3")});
        QCOMPARE(bad.exit_code, 1);
        QVERIFY2(bad.err.contains(QStringLiteral("parts are numbered from 1 to N")), qPrintable(bad.err));
        // --cuda-graph takes on or off, in every command that trains.
        const auto graphs = run_gafx({QStringLiteral("train"), exp_, QStringLiteral("--dry-run"),
                                      QStringLiteral("--cuda-graph"), QStringLiteral("off")});
        QCOMPARE(graphs.exit_code, 0);
        const auto typo = run_gafx({QStringLiteral("train"), exp_, QStringLiteral("--dry-run"),
                                    QStringLiteral("--cuda-graph"), QStringLiteral("no")});
        QCOMPARE(typo.exit_code, 2);
        QVERIFY2(typo.err.contains(QStringLiteral("--cuda-graph on|off, not 'no'")), qPrintable(typo.err));
    }

    void killedTrainerResumesToTheSameHistory() {
        // Reference: the same experiment, never interrupted.
        auto ref = run_gafx(QStringList{QStringLiteral("train"), exp_} + common());
        QCOMPARE(ref.exit_code, 0);
        QVERIFY2(ref.out.contains(QStringLiteral("run 1 finished")), qPrintable(ref.out + ref.err));

        QProcess p;
        p.start(QStringLiteral(GAFX_CLI_PATH),
                QStringList{QStringLiteral("train"), exp_, QStringLiteral("--checkpoint-minutes"), QStringLiteral("0.0001")} +
                    common());
        QVERIFY(p.waitForStarted());
        // Wait until run 2 is in its second epoch with a mid-epoch checkpoint, then kill -9.
        bool ready = false;
        for (int i = 0; i < 600 && !ready; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            const auto r = store::RunStore(db_.toStdString()).run(2);
            ready = r && r->step >= 13 && r->step % 10 != 0;
        }
        QVERIFY2(ready, "the trainer never reached a mid-epoch checkpoint");
        ::kill(pid_t(p.processId()), SIGKILL);
        QVERIFY(p.waitForFinished());
        QCOMPARE(p.exitStatus(), QProcess::CrashExit);

        const QJsonObject killed = run_json(db_, 2);
        QCOMPARE(killed[QStringLiteral("status")].toString(), QStringLiteral("interrupted"));
        QVERIFY(killed[QStringLiteral("error")].toString().contains(QStringLiteral("gafx resume 2")));
        const auto resumed = run_gafx(QStringList{QStringLiteral("resume"), QStringLiteral("2")} + common());
        QCOMPARE(resumed.exit_code, 0);
        QVERIFY2(resumed.out.contains(QStringLiteral("run 2 finished")), qPrintable(resumed.out + resumed.err));

        const auto a = history(db_.toStdString(), 1), b = history(db_.toStdString(), 2);
        QCOMPARE(a.size(), b.size());
        for (size_t i = 0; i < a.size(); ++i) {
            QCOMPARE(a[i].step, b[i].step);
            QCOMPARE(a[i].name, b[i].name);
            QCOMPARE(a[i].value, b[i].value);
        }
        const QJsonObject done = run_json(db_, 2);
        QCOMPARE(done[QStringLiteral("status")].toString(), QStringLiteral("finished"));
        QCOMPARE(done[QStringLiteral("epochs_done")].toInt(), 3);
        QCOMPARE(done[QStringLiteral("test_track_accuracy")].toDouble(),
                 run_json(db_, 1)[QStringLiteral("test_track_accuracy")].toDouble());
        for (const char* key : {"id", "status", "config", "seed", "test_accuracy", "test_track_accuracy", "epochs_done"})
            QVERIFY2(done.contains(QLatin1String(key)), key);
    }

    void cancelAndResumeRules() {
        store::RunStore s(db_.toStdString());
        const int64_t queued = s.create_run(0, R"({"dataset": "tiny"})", 0);
        const QString id = QString::number(queued);
        auto c = run_gafx({QStringLiteral("cancel"), id, QStringLiteral("--db"), db_});
        QCOMPARE(c.exit_code, 0);
        QCOMPARE(run_json(db_, queued)[QStringLiteral("status")].toString(), QStringLiteral("cancelled"));
        auto again = run_gafx({QStringLiteral("cancel"), id, QStringLiteral("--db"), db_});
        QCOMPARE(again.exit_code, 1);
        QVERIFY(again.err.contains(QStringLiteral("already ended")));
        auto finished = run_gafx(QStringList{QStringLiteral("resume"), QStringLiteral("1")} + common());
        QCOMPARE(finished.exit_code, 0);
        QVERIFY(finished.out.contains(QStringLiteral("already finished")));
        auto missing = run_gafx({QStringLiteral("resume"), QStringLiteral("999"), QStringLiteral("--db"), db_});
        QCOMPARE(missing.exit_code, 1);
        auto usage = run_gafx({QStringLiteral("resume"), QStringLiteral("two"), QStringLiteral("--db"), db_});
        QCOMPARE(usage.exit_code, 2);
    }

    void badExperimentNamesThePath() {
        const QString bad = dir_.path() + "/bad.json";
        test::write_bytes(bad, R"({"name": "x", "base": {"dataset": "tiny"}, "grid": {"extractor": ["mel", "gafx-z"]}})");
        auto r = run_gafx({QStringLiteral("train"), bad, QStringLiteral("--db"), db_});
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.contains(QStringLiteral("$.grid.extractor[1]")), qPrintable(r.err));
        QVERIFY(r.err.contains(bad));
        auto none = run_gafx({QStringLiteral("train"), exp_, QStringLiteral("--db"), dir_.path() + "/empty.db"});
        QCOMPARE(none.exit_code, 1);
        QVERIFY2(none.err.contains(QStringLiteral("no imported dataset named 'tiny'")), qPrintable(none.err));
    }

    void tableFourTrainsBothArmsFromItsFile() {
        // experiments/paper/table4.json as shipped, at the small preset and one short epoch: the
        // pretraining it requires is queued and trained first, and its w/ arm fine-tunes from it.
        QTemporaryDir t;
        const QString db = t.path() + "/ws.db";
        for (const auto& [kind, name] : {std::pair<const char*, const char*>{"gtzan", "gtzan"}, {"audioset", "audioset"}}) {
            const QString dir = t.path() + "/" + name;
            QStringList demo = {QStringLiteral("dataset"), QStringLiteral("demo"), dir, QStringLiteral("--kind"),
                                QLatin1String(kind)};
            if (QLatin1String(kind) == QLatin1String("gtzan"))
                demo << QStringLiteral("--tracks-per-genre") << QStringLiteral("3") << QStringLiteral("--seconds")
                     << QStringLiteral("4");
            QCOMPARE(run_gafx(demo).exit_code, 0);
            QCOMPARE(run_gafx({QStringLiteral("dataset"), QStringLiteral("import"), QLatin1String(kind), dir,
                               QStringLiteral("--name"), QLatin1String(name), QStringLiteral("--db"), db})
                         .exit_code,
                     0);
        }
        const auto shrink = [&](const char* file, const QList<QPair<QString, QString>>& edits) {
            QFile in(QStringLiteral(GAFX_SOURCE_DIR "/experiments/paper/") + QLatin1String(file));
            QVERIFY(in.open(QIODevice::ReadOnly));
            QString text = QString::fromUtf8(in.readAll());
            for (const auto& [from, to] : edits) {
                QVERIFY2(text.contains(from), qPrintable(QLatin1String(file) + QStringLiteral(": ") + from));
                text.replace(from, to);
            }
            test::write_bytes(t.path() + "/" + QLatin1String(file), text.toUtf8());
        };
        const QPair<QString, QString> small{QStringLiteral("\"preset\": \"paper\""), QStringLiteral("\"preset\": \"small\"")};
        const QPair<QString, QString> one_epoch{QStringLiteral("\"epochs\": 80"),
                                                QStringLiteral("\"epochs\": 1, \"warmup_steps\": 2, \"precision\": \"fp32\"")};
        // The DeiT files are not fetched in tests (tests/cli/test_cli_weights.cpp covers them).
        const QPair<QString, QString> no_deit{QStringLiteral("\"classifier_weights\": \"deit\", "), QString()};
        shrink("audioset_pretrain.json", {small, one_epoch, no_deit, {QStringLiteral("\"track_seconds\": 10"), QStringLiteral("\"track_seconds\": 2")},
                                          {QStringLiteral("\"frames\": 1024"), QStringLiteral("\"frames\": 0")}});
        shrink("table4.json", {small, one_epoch, no_deit, {QStringLiteral("\"seed\": [0, 1, 2]"), QStringLiteral("\"seed\": [0]")},
                               {QStringLiteral("\"lr\": 5e-4,"), QStringLiteral("\"lr\": 5e-4, \"track_seconds\": 4, \"clips_per_track\": 2, \"clip_seconds\": 1.5,")}});

        auto r = run_gafx({QStringLiteral("train"), t.path() + "/table4.json", QStringLiteral("--db"), db,
                           QStringLiteral("--cache"), QStringLiteral("none")},
                          600000);
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        QJsonArray runs = runs_json(db);
        QCOMPARE(runs.size(), 3);
        const QJsonObject pre = runs[0].toObject(), wo = runs[1].toObject(), w = runs[2].toObject();
        QCOMPARE(pre[QStringLiteral("experiment")].toString(), QStringLiteral("paper-audioset-pretrain"));
        for (const auto& run : {pre, wo, w}) QCOMPARE(run[QStringLiteral("status")].toString(), QStringLiteral("finished"));
        QCOMPARE(wo[QStringLiteral("config")].toObject()[QStringLiteral("pretraining")].toString(), QStringLiteral("none"));
        QCOMPARE(w[QStringLiteral("config")].toObject()[QStringLiteral("pretraining")].toString(), QStringLiteral("run"));
        QCOMPARE(w[QStringLiteral("config")].toObject()[QStringLiteral("pretrained_run")].toInteger(),
                 pre[QStringLiteral("id")].toInteger());

        // Again: the finished pretraining is reused, not trained a second time.
        r = run_gafx({QStringLiteral("train"), t.path() + "/table4.json", QStringLiteral("--db"), db,
                      QStringLiteral("--cache"), QStringLiteral("none")},
                     600000);
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        QVERIFY2(!r.err.contains(QStringLiteral("paper-audioset-pretrain: 1 run(s) queued")), qPrintable(r.err));
        runs = runs_json(db);
        QCOMPARE(runs.size(), 5);
        QCOMPARE(runs[4].toObject()[QStringLiteral("config")].toObject()[QStringLiteral("pretrained_run")].toInteger(),
                 pre[QStringLiteral("id")].toInteger());
    }

    void demoExperimentReachesNinetyPercent() {
        // What the README promises: the demo set, experiments/demo.json, >= 90 % test track accuracy.
        QTemporaryDir demo;
        const QString db = demo.path() + "/ws.db";
        QCOMPARE(run_gafx({QStringLiteral("dataset"), QStringLiteral("demo"), demo.path() + "/audio"}).exit_code, 0);
        QCOMPARE(run_gafx({QStringLiteral("dataset"), QStringLiteral("import"), QStringLiteral("gtzan"),
                           demo.path() + "/audio", QStringLiteral("--name"), QStringLiteral("demo"),
                           QStringLiteral("--db"), db})
                     .exit_code,
                 0);
        const auto r = run_gafx({QStringLiteral("train"), QStringLiteral(GAFX_SOURCE_DIR "/experiments/demo.json"),
                                 QStringLiteral("--db"), db, QStringLiteral("--cache"), QStringLiteral("none")},
                                1200000);
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        const QJsonObject run = runs_json(db).first().toObject();
        const double acc = run[QStringLiteral("test_track_accuracy")].toDouble();
        qInfo("demo.json: best test track accuracy %.3f (final %.3f), %.0f s", acc,
              run[QStringLiteral("final_test_track_accuracy")].toDouble(), run[QStringLiteral("seconds")].toDouble());
        QVERIFY2(acc >= 0.9, qPrintable(QString::number(acc)));
        QVERIFY(run[QStringLiteral("final_test_track_accuracy")].toDouble() >= 0.9);
    }
};

QTEST_GUILESS_MAIN(TestCliTrain)
#include "test_cli_train.moc"
