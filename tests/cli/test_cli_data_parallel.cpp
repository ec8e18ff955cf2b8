// One run trained by data-parallel ranks (gafx train --nproc N: each rank a gafx resume process
// in torchrun's environment, Gloo over 127.0.0.1): 2 ranks give the history of 1 rank at the same
// global batch, within float rounding; a rank killed mid-run leaves the run interrupted and one
// rank resumes it to the end; a rank that cannot reach rank 0 fails, naming the address, and
// leaves the run as it was.
#include "store/run_store.h"
#include "train/distributed.h"
#include "test_support.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

using namespace gafx;
using test::run_gafx;

namespace {

// The child of `parent` started with RANK=<rank> in its environment (a rank of --nproc); 0 if none.
pid_t rank_process(qint64 parent, int rank) {
    const std::string want = "RANK=" + std::to_string(rank);
    for (const auto& entry : QDir(QStringLiteral("/proc")).entryList(QDir::Dirs)) {
        bool numeric = false;
        const int pid = entry.toInt(&numeric);
        if (!numeric) continue;
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string line;
        std::getline(stat, line);
        const auto close = line.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(line.substr(close + 2));
        char state;
        long ppid = 0;
        rest >> state >> ppid;
        if (ppid != parent) continue;
        std::ifstream env("/proc/" + std::to_string(pid) + "/environ");
        for (std::string var; std::getline(env, var, '\0');)
            if (var == want) return pid_t(pid);
    }
    return 0;
}

} // namespace

class TestCliDataParallel : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString cache_;

    QString ws(const QString& name) {
        test::make_demo_workspace(dir_.path() + "/" + name, 4, 4.0);
        return dir_.path() + "/" + name + "/ws.db";
    }
    QStringList train_args(const QString& file, const QString& db) const {
        return {QStringLiteral("train"), dir_.path() + "/" + file, QStringLiteral("--db"), db, QStringLiteral("--threads"),
                QStringLiteral("1"), QStringLiteral("--cache"), cache_};
    }
    // pre.json with another epoch count, as `name`.
    void write_with_epochs(const QString& name, int epochs) {
        QFile pre(dir_.path() + "/pre.json");
        QVERIFY(pre.open(QIODevice::ReadOnly));
        QByteArray text = pre.readAll().replace("\"epochs\": 2", "\"epochs\": " + QByteArray::number(epochs));
        QVERIFY(text.contains("\"epochs\": " + QByteArray::number(epochs)));
        test::write_bytes(dir_.path() + "/" + name, text);
    }

private Q_SLOTS:
    void initTestCase() {
        if (!train::have_gloo()) QSKIP("this gafx has no c10d Gloo process group (libgloo-dev was missing at build time)");
        cache_ = dir_.path() + "/cache";
        test::write_pretrain_and_finetune(dir_.path(), 2); // pre.json: mel + AST-Tiny (small), batch 8, no mixup
    }

    void twoRanksTrainTheHistoryOfOne() {
        const QString one = ws(QStringLiteral("one")), two = ws(QStringLiteral("two"));
        auto r = run_gafx(train_args(QStringLiteral("pre.json"), one));
        QVERIFY2(r.exit_code == 0, qPrintable(r.out + r.err));
        r = run_gafx(train_args(QStringLiteral("pre.json"), two) + QStringList{QStringLiteral("--nproc"), QStringLiteral("2")});
        QVERIFY2(r.exit_code == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.err.contains(QStringLiteral("2 ranks (gloo, 1 threads each)")), qPrintable(r.err));
        QVERIFY2((r.out + r.err).contains(QStringLiteral("gradients summed during backward in ")), qPrintable(r.out + r.err));
        QVERIFY(QFile::exists(dir_.path() + "/two/logs/run-1-rank1.log"));
        QCOMPARE(r.out.count(QStringLiteral("run 1 finished")), 1); // rank 0's line, not repeated by the launcher

        store::RunStore a(one.toStdString()), b(two.toStdString());
        const auto ra = a.run(1), rb = b.run(1);
        QVERIFY(ra && rb);
        QVERIFY(ra->status == store::RunStatus::Finished && rb->status == store::RunStatus::Finished);
        QCOMPARE(ra->world_size, int64_t(1));
        QCOMPARE(ra->backend, std::string());
        QCOMPARE(rb->world_size, int64_t(2));
        QCOMPARE(rb->backend, std::string("gloo"));
        QCOMPARE(rb->selected_epoch, ra->selected_epoch);

        // The same rows; values within float rounding: each rank's half-batch GEMMs and the
        // sum of two half gradients round differently from one whole batch.
        std::map<std::tuple<int64_t, std::string, std::string>, double> ha;
        for (const auto& m : a.metrics(1))
            if (m.split != "time") ha[{m.step, m.split, m.name}] = m.value;
        size_t compared = 0;
        double worst_loss = 0, worst_other = 0;
        for (const auto& m : b.metrics(1)) {
            if (m.split == "time") continue;
            const auto it = ha.find({m.step, m.split, m.name});
            QVERIFY2(it != ha.end(), qPrintable(QString::fromStdString(m.split + "/" + m.name)));
            const double d = std::abs(it->second - m.value);
            if (m.name.find("loss") != std::string::npos) worst_loss = std::max(worst_loss, d / std::max(1.0, std::abs(it->second)));
            else worst_other = std::max(worst_other, d);
            ++compared;
        }
        QCOMPARE(compared, ha.size());
        qInfo("2 ranks vs 1: %zu metric rows, largest loss difference %.3g (relative), other %.3g", compared, worst_loss,
              worst_other);
        QVERIFY2(worst_loss < 1e-3, qPrintable(QString::number(worst_loss)));
        QVERIFY2(worst_other < 1e-3, qPrintable(QString::number(worst_other)));

        const auto pa = a.predictions(1), pb = b.predictions(1);
        QCOMPARE(pb.size(), pa.size());
        QVERIFY(!pa.empty());
        for (size_t i = 0; i < pa.size(); ++i) {
            QCOMPARE(pb[i].clip, pa[i].clip);
            for (size_t k = 0; k < pa[i].probabilities.size(); ++k)
                QVERIFY(std::abs(pb[i].probabilities[k] - pa[i].probabilities[k]) < 1e-3);
        }
    }

    void aKilledRankInterruptsTheRunAndOneRankResumesIt() {
        write_with_epochs(QStringLiteral("twelve.json"), 12); // long enough that the kill lands mid-run on a slow machine
        const QString db = ws(QStringLiteral("kill"));
        QProcess p;
        p.start(QStringLiteral(GAFX_CLI_PATH),
                train_args(QStringLiteral("twelve.json"), db) + QStringList{QStringLiteral("--nproc"), QStringLiteral("2")});
        QVERIFY(p.waitForStarted());
        // Past the first epoch's checkpoint, and both ranks up.
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                const auto r = store::RunStore(db.toStdString()).run(1);
                return r && r->epochs_done >= 1;
            }(),
            180000);
        const pid_t rank1 = rank_process(p.processId(), 1);
        QVERIFY(rank1 > 0);
        ::kill(rank1, SIGKILL);
        QVERIFY(p.waitForFinished(120000));
        QCOMPARE(p.exitCode(), 1);
        const QString out = QString::fromUtf8(p.readAllStandardOutput()) + QString::fromUtf8(p.readAllStandardError());
        {
            store::RunStore s(db.toStdString());
            const auto r = s.run(1);
            qInfo("the run after rank 1 was killed: %s: %s", store::to_string(r->status), r->error.c_str());
            QVERIFY2(r->status == store::RunStatus::Interrupted, qPrintable(out));
            QVERIFY2(r->error.find("rank 0 of 2") != std::string::npos, r->error.c_str());
            QVERIFY2(r->error.find("gafx resume 1") != std::string::npos, r->error.c_str());
            QVERIFY2(out.contains(QStringLiteral("rank 1 ended with code 137")), qPrintable(out));
        }
        // One rank continues from the last checkpoint to the end, with one row per step.
        const auto r = run_gafx(QStringList{QStringLiteral("resume"), QStringLiteral("1"), QStringLiteral("--db"), db,
                                            QStringLiteral("--threads"), QStringLiteral("1"), QStringLiteral("--cache"), cache_});
        QVERIFY2(r.exit_code == 0, qPrintable(r.out + r.err));
        store::RunStore s(db.toStdString());
        const auto done = s.run(1);
        QVERIFY(done->status == store::RunStatus::Finished);
        QCOMPARE(done->epochs_done, int64_t(12));
        QCOMPARE(done->world_size, int64_t(1));
        std::vector<int64_t> steps;
        for (const auto& m : s.metrics(1))
            if (m.split == "train" && m.name == "loss") steps.push_back(m.step);
        QCOMPARE(int64_t(steps.size()), done->step);
        for (size_t i = 0; i < steps.size(); ++i) QCOMPARE(steps[i], int64_t(i + 1));
    }

    void aRankThatCannotReachRankZeroFailsAndLeavesTheRun() {
        const QString db = ws(QStringLiteral("alone"));
        auto r = run_gafx(train_args(QStringLiteral("pre.json"), db) + QStringList{QStringLiteral("--queue-only")});
        QVERIFY2(r.exit_code == 0 && r.out.startsWith(QStringLiteral("1\t")), qPrintable(r.out + r.err));
        const QString port = QString::number(test::free_loopback_port());
        for (const char* rank : {"1", "0"}) {
            auto env = QProcessEnvironment::systemEnvironment();
            env.insert(QStringLiteral("RANK"), QString::fromLatin1(rank));
            env.insert(QStringLiteral("WORLD_SIZE"), QStringLiteral("2"));
            env.insert(QStringLiteral("MASTER_ADDR"), QStringLiteral("127.0.0.1"));
            env.insert(QStringLiteral("MASTER_PORT"), port);
            env.insert(QStringLiteral("GAFX_DIST_TIMEOUT"), QStringLiteral("3"));
            r = run_gafx({QStringLiteral("resume"), QStringLiteral("1"), QStringLiteral("--db"), db}, 120000, env);
            QVERIFY2(r.exit_code == 1, qPrintable(r.out + r.err));
            const QString all = r.out + r.err;
            QVERIFY2(all.contains(QStringLiteral("127.0.0.1:") + port), qPrintable(all));
            QVERIFY2(all.contains(QStringLiteral("rank %1 of 2 could not join").arg(QLatin1String(rank))), qPrintable(all));
            QVERIFY2(all.contains(*rank == '1' ? QStringLiteral("is rank 0 running") : QStringLiteral("did every rank start")),
                     qPrintable(all));
            QVERIFY(store::RunStore(db.toStdString()).run(1)->status == store::RunStatus::Queued);
            // gafx train as a rank would queue the grid again in every rank.
            r = run_gafx(train_args(QStringLiteral("pre.json"), db), 60000, env);
            QVERIFY2(r.exit_code != 0 && r.err.contains(QStringLiteral("--queue-only")), qPrintable(r.out + r.err));
        }
        QCOMPARE(store::RunStore(db.toStdString()).list_runs().size(), size_t(1));

        // The global batch of 8 splits into equal slices for 2 or 4 ranks, not for 3.
        r = run_gafx({QStringLiteral("resume"), QStringLiteral("1"), QStringLiteral("--db"), db, QStringLiteral("--nproc"),
                      QStringLiteral("3"), QStringLiteral("--cache"), cache_});
        QVERIFY2(r.exit_code == 1, qPrintable(r.out + r.err));
        QVERIFY2(r.err.contains(QStringLiteral("batch_size 8 does not split into 3 equal slices")), qPrintable(r.out + r.err));
        QVERIFY(store::RunStore(db.toStdString()).run(1)->status == store::RunStatus::Queued);
    }
};

QTEST_GUILESS_MAIN(TestCliDataParallel)
#include "test_cli_data_parallel.moc"
