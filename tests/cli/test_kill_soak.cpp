// Kill soak: a demo run's trainer (`gafx train`, then `gafx resume`) is SIGKILLed at random
// moments — while starting, mid-epoch, mid-checkpoint, while evaluating — and resumed each time.
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

// `epochs` long: 15 steps each.
QByteArray experiment(int epochs) {
    return QStringLiteral(R"({"name": "soak", "base": {"dataset": "tiny", "extractor": "mel", "classifier": "ast-tiny",
  "preset": "small", "track_seconds": 4, "clips_per_track": 2, "clip_seconds": 1.5, "epochs": %1, "batch_size": 4,
  "lr": 0.0005, "warmup_steps": 5, "lr_halving_epochs": [3], "precision": "fp32", "seed": 1}})")
        .arg(epochs)
        .toUtf8();
}

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
        // More kills want a longer run, so that resumes still have work left to be killed in.
        const int epochs = kills_wanted > 5 ? 12 : 4;
        test::write_bytes(exp, experiment(epochs));
        const QStringList common = {"--threads", "1", "--cache", "none", "--checkpoint-minutes", "0.003"};
        QCOMPARE(run_gafx(QStringList{"train", exp, "--db", ref} + common).exit_code, 0);

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
            // One kill in four while the process starts; the rest once it has claimed the run, 0 to
            // 400 ms into its work (setup, normalisation, steps, evaluation, a checkpoint). Each
            // resume continues from the last checkpoint (every ~0.2 s), so the kills land all over
            // the run.
            int ms = 0;
            QString when;
            if (QRandomGenerator::global()->bounded(4) == 0) {
                ms = 100 + int(QRandomGenerator::global()->bounded(300));
                when = QStringLiteral("start+%1").arg(ms);
            } else {
                QElapsedTimer waited;
                waited.start();
                while (waited.elapsed() < 60000 && p.state() == QProcess::Running) {
                    const auto r = store::RunStore(soak.toStdString()).run(1);
                    if (r && r->status == store::RunStatus::Running && r->pid == p.processId()) break;
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
                }
                ms = int(QRandomGenerator::global()->bounded(400));
                const auto r = store::RunStore(soak.toStdString()).run(1);
                when = QStringLiteral("step %1+%2").arg(r ? r->step : 0).arg(ms);
            }
            if (!p.waitForFinished(ms)) {
                p.kill(); // SIGKILL
                p.waitForFinished();
                ++kills;
                moments << when;
            } else if (p.exitCode() != 0) {
                QFAIL(qPrintable(QStringLiteral("gafx %1 ended with %2 before it was killed: %3")
                                     .arg(args.join(QLatin1Char(' ')))
                                     .arg(p.exitCode())
                                     .arg(QString::fromUtf8(p.readAllStandardError().right(600)))));
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
        qInfo("kill soak: %d kills survived (at %s ms); integrity_check ok; %zu metric rows equal to the "
              "uninterrupted run's",
              kills, qPrintable(moments.join(QStringLiteral(", "))), b.size());
        QVERIFY(kills > 0);
    }
};

QTEST_GUILESS_MAIN(TestKillSoak)
#include "test_kill_soak.moc"
