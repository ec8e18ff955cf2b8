// gafx slurm on a real single-node Slurm cluster that the test starts (tests/cli/slurm_cluster.sh;
// scripts/test.sh installs slurm-wlm and munge): the job array trains each part of a grid into its
// own workspace, and gafx runs import merges them into the workspace the job was written from.
// Without Slurm, munge or root the test is skipped and says why; it never passes silently.
#include "store/run_store.h"
#include "test_support.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QDeadlineTimer>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

using namespace gafx;
using test::run_gafx;

namespace {

QString cluster_script() { return QStringLiteral(GAFX_SOURCE_DIR "/tests/cli/slurm_cluster.sh"); }

} // namespace

class TestCliSlurm : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString cluster_;
    bool started_ = false;

    // gafx slurm ARGS --submit, then waits until squeue no longer lists the job; its output.
    test::CliResult submit_and_wait(const QStringList& args) {
        const auto r = run_gafx(args + QStringList{QStringLiteral("--submit")});
        if (r.exit_code != 0) return r;
        const auto m = QRegularExpression(QStringLiteral("Submitted batch job (\\d+)")).match(r.out);
        if (!m.hasMatch()) return test::CliResult{-1, r.out, r.err + "\nno job id in the output"};
        const QString job = m.captured(1);
        QDeadlineTimer deadline(300000);
        for (;;) {
            QProcess q;
            q.start(QStringLiteral("squeue"), {QStringLiteral("-h"), QStringLiteral("-j"), job});
            q.waitForFinished(10000);
            if (q.exitCode() == 0 && q.readAllStandardOutput().trimmed().isEmpty()) return r;
            if (deadline.hasExpired()) return test::CliResult{-1, r.out, r.err + "\njob " + job + " still listed after 5 min"};
            QThread::msleep(500);
        }
    }

private Q_SLOTS:
    void initTestCase() {
        cluster_ = dir_.path() + "/cluster";
        QProcess p;
        p.start(QStringLiteral("bash"), {cluster_script(), QStringLiteral("start"), cluster_});
        QVERIFY(p.waitForFinished(60000));
        const QString err = QString::fromUtf8(p.readAllStandardError()).trimmed();
        if (p.exitCode() == 77) QSKIP(qPrintable("no Slurm test cluster here: " + err));
        QVERIFY2(p.exitCode() == 0, qPrintable(err));
        started_ = true;
        qputenv("SLURM_CONF", (cluster_ + "/slurm.conf").toUtf8());
    }

    void cleanupTestCase() {
        if (!started_) return;
        QProcess p;
        p.start(QStringLiteral("bash"), {cluster_script(), QStringLiteral("stop"), cluster_});
        p.waitForFinished(30000);
    }

    void aJobArrayTrainsThePartsAndTheyMergeBack() {
        const std::string db = test::make_demo_workspace(dir_.path() + "/main", 4, 4.0);
        test::write_pretrain_and_finetune(dir_.path(), 1);
        const QString out = dir_.path() + "/job";
        const auto r = submit_and_wait({QStringLiteral("slurm"), dir_.path() + "/ft.json", QStringLiteral("--db"),
                                        QString::fromStdString(db), QStringLiteral("--out"), out});
        QVERIFY2(r.exit_code == 0, qPrintable(r.out + r.err));
        // Two parts: the pretraining with the run that starts from it, and the run from scratch.
        QVERIFY2(r.out.contains(QStringLiteral("2 task(s) for 3 run(s)")), qPrintable(r.out));
        QVERIFY2(r.out.contains(QStringLiteral("parts by estimated cost: the largest 66.7 % of the grid, the smallest 33.3 %")),
                 qPrintable(r.out));
        QStringList parts;
        for (int i = 1; i <= 2; ++i) {
            const QString part = out + QStringLiteral("/part-%1-of-2/ws.db").arg(i);
            QVERIFY2(QFile::exists(part), qPrintable(part + " missing; the tasks' output is in " + out));
            parts << part;
        }
        const auto merged = run_gafx(QStringList{QStringLiteral("runs"), QStringLiteral("import")} + parts +
                                     QStringList{QStringLiteral("--db"), QString::fromStdString(db)});
        QVERIFY2(merged.exit_code == 0, qPrintable(merged.out + merged.err));
        const auto runs = store::RunStore(db).list_runs();
        QCOMPARE(runs.size(), size_t(3));
        for (const auto& run : runs) QVERIFY2(run.status == store::RunStatus::Finished, run.error.c_str());
        // A task started again finds its part and says how to continue instead of training it twice.
        QProcess again;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("SLURM_ARRAY_TASK_ID"), QStringLiteral("1"));
        again.setProcessEnvironment(env);
        again.start(QStringLiteral("bash"), {out + "/job.sh"});
        QVERIFY(again.waitForFinished(30000));
        QCOMPARE(again.exitCode(), 1);
        QVERIFY(QString::fromUtf8(again.readAllStandardError()).contains(QStringLiteral("continue its runs with gafx resume")));
    }

    // --nodes-per-run 1 --ranks-per-node 2: each run of the part trains on the job's 2 Slurm
    // tasks (srun gafx resume), as ranks that find each other through Slurm's environment.
    void aRunTrainsDataParallelOnTheJobsTasks() {
        const std::string db = test::make_demo_workspace(dir_.path() + "/dp", 4, 4.0);
        test::write_pretrain_and_finetune(dir_.path(), 1);
        const QString out = dir_.path() + "/dp-job";
        const auto r = submit_and_wait({QStringLiteral("slurm"), dir_.path() + "/pre.json", QStringLiteral("--db"),
                                        QString::fromStdString(db), QStringLiteral("--out"), out,
                                        QStringLiteral("--nodes-per-run"), QStringLiteral("1"),
                                        QStringLiteral("--ranks-per-node"), QStringLiteral("2"),
                                        QStringLiteral("--cpus-per-task"), QStringLiteral("1")});
        QVERIFY2(r.exit_code == 0, qPrintable(r.out + r.err));
        const QString part = out + QStringLiteral("/part-1-of-1/ws.db");
        QVERIFY2(QFile::exists(part), qPrintable(part + " missing; the task's output is in " + out));
        QString output;
        for (const auto& f : QDir(out).entryList({QStringLiteral("*.out")})) {
            QFile file(out + "/" + f);
            if (file.open(QIODevice::ReadOnly)) output += QString::fromUtf8(file.readAll());
        }
        const auto runs = store::RunStore(part.toStdString()).list_runs();
        QCOMPARE(runs.size(), size_t(1));
        QVERIFY2(runs[0].status == store::RunStatus::Finished, qPrintable(QString::fromStdString(runs[0].error) + output));
        QCOMPARE(runs[0].world_size, int64_t(2));
        QCOMPARE(runs[0].backend, std::string("gloo"));
        QVERIFY2(output.contains(QStringLiteral("rank 1 of 2 (gloo, from slurm)")), qPrintable(output));
    }
};

QTEST_GUILESS_MAIN(TestCliSlurm)
#include "test_cli_slurm.moc"
