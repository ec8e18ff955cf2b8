// Kill soak: a demo run's trainer (`gafx train`, then `gafx resume`) is SIGKILLed at random
// moments — while starting, mid-epoch, mid-checkpoint, while evaluating — and resumed each time
// (from 100 ms to 90 % of an uninterrupted run's time after each start).
// Afterwards the workspace passes PRAGMA integrity_check and the run's whole metric history
// equals an uninterrupted run's, value for value: nothing committed was lost, nothing logged twice.
// GAFX_SOAK_KILLS sets the number of kills (ctest: 5; tests/bench/kill_soak.sh: 20).
#include "store/run_store.h"
#include "test_support.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <thread>

using namespace gafx;
using test::run_gafx;

namespace {

const char* kExperiment = R"({"name": "soak", "base": {"dataset": "tiny", "extractor": "mel", "classifier": "ast-tiny",
  "preset": "small", "track_seconds": 4, "clips_per_track": 2, "clip_seconds": 1.5, "epochs": 4, "batch_size": 4,
  "lr": 0.0005, "warmup_steps": 5, "lr_halving_epochs": [3], "precision": "fp32", "seed": 1}})";

std::vector<store::MetricRow> history(const std::string& db) {
    std::vector<store::MetricRow> out;
    for (auto& r : store::RunStore(db).metrics(1))
        if (r.split != "time") out.push_back(r);
    return out;
}

} // namespace

class TestKillSoak : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void killedAtRandomMomentsNothingIsLost() {
        const int kills_wanted = qEnvironmentVariableIsSet("GAFX_SOAK_KILLS") ? qEnvironmentVariableIntValue("GAFX_SOAK_KILLS") : 5;
        QTemporaryDir dir;
        const QString audio = dir.path() + "/audio", exp = dir.path() + "/exp.json";
        const QString ref = dir.path() + "/ref.db", soak = dir.path() + "/soak.db";
        QCOMPARE(run_gafx({"dataset", "demo", audio, "--tracks-per-genre", "3", "--seconds", "4"}).exit_code, 0);
        for (const QString& db : {ref, soak})
            QCOMPARE(run_gafx({"dataset", "import", "gtzan", audio, "--name", "tiny", "--db", db}).exit_code, 0);
        test::write_bytes(exp, kExperiment);
        const QStringList common = {"--threads", "1", "--cache", "none", "--checkpoint-minutes", "0.003"};
        QElapsedTimer clock;
        clock.start();
        QCOMPARE(run_gafx(QStringList{"train", exp, "--db", ref} + common).exit_code, 0);
        // Kill moments scale with how long a whole run takes on this machine, so a fast machine
        // is killed mid-run too: 100 ms to 90 % of an uninterrupted run.
        const int span = std::max(200, int(clock.elapsed() * 9 / 10) - 100);

        const auto status = [&]() -> std::string {
            const auto r = store::RunStore(soak.toStdString()).run(1);
            return r ? store::to_string(r->status) : "none";
        };
        int kills = 0;
        QStringList moments;
        while (kills < kills_wanted && status() != "finished") {
            // Killed before it queued: train again; else resume the run.
            const QStringList args = (status() == "none" ? QStringList{"train", exp} : QStringList{"resume", "1"}) +
                                     QStringList{"--db", soak} + common;
            QProcess p;
            p.start(QStringLiteral(GAFX_CLI_PATH), args);
            QVERIFY(p.waitForStarted());
            const int ms = 100 + int(QRandomGenerator::global()->bounded(span));
            if (!p.waitForFinished(ms)) {
                p.kill(); // SIGKILL
                p.waitForFinished();
                ++kills;
                moments << QString::number(ms);
            }
        }
        if (status() != "finished") {
            const auto r = run_gafx(QStringList{"resume", "1", "--db", soak} + common, 600000);
            QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        }
        QCOMPARE(QString::fromStdString(store::RunStore(soak.toStdString()).integrity_check()), QStringLiteral("ok"));
        QCOMPARE(QString::fromStdString(store::RunStore(ref.toStdString()).integrity_check()), QStringLiteral("ok"));
        const auto a = history(ref.toStdString()), b = history(soak.toStdString());
        QCOMPARE(b.size(), a.size());
        for (size_t i = 0; i < a.size(); ++i) {
            QCOMPARE(b[i].step, a[i].step);
            QCOMPARE(QString::fromStdString(b[i].split), QString::fromStdString(a[i].split));
            QCOMPARE(QString::fromStdString(b[i].name), QString::fromStdString(a[i].name));
            QCOMPARE(b[i].value, a[i].value);
        }
        qInfo("kill soak: %d kills survived (after %s ms); integrity_check ok; %zu metric rows equal to the "
              "uninterrupted run's",
              kills, qPrintable(moments.join(QStringLiteral(", "))), b.size());
        QVERIFY(kills > 0);
    }
};

QTEST_GUILESS_MAIN(TestKillSoak)
#include "test_kill_soak.moc"
