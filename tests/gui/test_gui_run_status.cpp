// One run-status vocabulary: the words the schema admits, the resume/cancel rules, and that
// `gafx resume` and the Runs page offer resuming for the same statuses.
#include "experiments/experiment.h"
#include "runs_table_model.h"
#include "runs_view.h"
#include "store/run_status.h"
#include "store/run_store.h"
#include "test_support.h"

#include <QPushButton>
#include <QTemporaryDir>
#include <QtTest>

#include <unistd.h>

using namespace gafx;
using store::RunStatus;

namespace {

const RunStatus kAll[] = {RunStatus::Queued,   RunStatus::Running,  RunStatus::Paused,      RunStatus::Finished,
                          RunStatus::Failed,   RunStatus::Diverged, RunStatus::Interrupted, RunStatus::Cancelled};

std::string host_name() {
    char buf[256] = {};
    ::gethostname(buf, sizeof buf - 1);
    return buf;
}

} // namespace

class TestRunStatus : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void wordsRoundTrip() {
        for (RunStatus s : kAll) QCOMPARE(store::parse_run_status(store::to_string(s)), std::optional<RunStatus>(s));
        QVERIFY(!store::parse_run_status("done"));
        QVERIFY(!store::parse_run_status(""));
    }

    // Every status can be stored (the schema's CHECK admits the same words) and reads back.
    void schemaAdmitsEveryStatus() {
        QTemporaryDir dir;
        store::RunStore db((dir.path() + "/ws.db").toStdString());
        for (RunStatus s : kAll) {
            const int64_t id = db.create_run(0, "{}", 0);
            db.set_run_status(id, s, "why");
            QCOMPARE(store::to_string(db.run(id)->status), store::to_string(s));
        }
    }

    // Decided once: interrupted, paused, cancelled and queued resume; failed and diverged only on
    // request; running and finished never.
    void resumeRules() {
        using D = store::ResumeDecision;
        const std::map<RunStatus, std::pair<D, D>> expected = {
            {RunStatus::Queued, {D::Resume, D::Resume}},
            {RunStatus::Running, {D::AlreadyRunning, D::AlreadyRunning}},
            {RunStatus::Paused, {D::Resume, D::Resume}},
            {RunStatus::Finished, {D::AlreadyFinished, D::AlreadyFinished}},
            {RunStatus::Failed, {D::NeedsRetryFlag, D::Retry}},
            {RunStatus::Diverged, {D::NeedsRetryFlag, D::Retry}},
            {RunStatus::Interrupted, {D::Resume, D::Resume}},
            {RunStatus::Cancelled, {D::Resume, D::Resume}},
        };
        for (RunStatus s : kAll) {
            QCOMPARE(int(store::decide_resume(s, false)), int(expected.at(s).first));
            QCOMPARE(int(store::decide_resume(s, true)), int(expected.at(s).second));
        }
        QVERIFY(store::can_cancel(RunStatus::Running) && store::can_cancel(RunStatus::Queued));
        QVERIFY(!store::can_cancel(RunStatus::Finished) && !store::can_cancel(RunStatus::Cancelled));
        const std::string why = store::resume_refusal(7, RunStatus::Diverged, "loss NaN", "gafx resume --retry 7");
        QVERIFY2(why.find("run 7 diverged: loss NaN") != std::string::npos, why.c_str());
        QVERIFY2(why.find("gafx resume --retry 7") != std::string::npos, why.c_str());
    }

    // The same statuses resume from the command line and from the Runs page. The runs name a dataset
    // the workspace lacks, so a resume that is attempted ends at once as failed, naming the dataset.
    void cliAndRunsPageAgree() {
        QTemporaryDir dir;
        const QString db_path = dir.path() + "/ws.db";
        std::map<RunStatus, int64_t> ids;
        std::vector<widgets::RunRow> rows;
        {
            store::RunStore db(db_path.toStdString());
            experiments::RunConfig c;
            c.dataset = "absent";
            for (RunStatus s : kAll) {
                const int64_t id = db.create_run(0, experiments::to_json(c), 0);
                if (s == RunStatus::Running) // alive: this test's own process on this host
                    db.start_run(id, "cpu", "fp32", "{}", int64_t(::getpid()), host_name());
                else
                    db.set_run_status(id, s, "earlier error");
                ids[s] = id;
                rows.push_back(widgets::RunRow{*db.run(id), c, true});
            }
        }
        widgets::RunsView view;
        view.model()->set_runs(rows);
        auto* resume = view.findChild<QPushButton*>(QStringLiteral("resumeRunsButton"));
        auto* cancel = view.findChild<QPushButton*>(QStringLiteral("cancelRunsButton"));
        QVERIFY(resume && cancel);

        for (RunStatus s : kAll) {
            const QString id = QString::number(ids[s]);
            view.select_runs({ids[s]});
            const bool resumes = store::can_resume(s), on_request = store::needs_retry_request(s);
            QCOMPARE(resume->isEnabled(), resumes || on_request);
            QCOMPARE(cancel->isEnabled(), store::can_cancel(s));

            const auto r = test::run_gafx({"resume", id, "--db", db_path});
            const auto after = store::RunStore(db_path.toStdString()).run(ids[s]);
            const QString said = r.out + r.err;
            if (resumes) {
                QCOMPARE(r.exit_code, 1);
                QCOMPARE(store::to_string(after->status), store::to_string(RunStatus::Failed));
                QVERIFY2(after->error.find("absent") != std::string::npos, after->error.c_str());
            } else if (on_request) {
                QCOMPARE(r.exit_code, 1);
                QVERIFY2(said.contains("--retry " + id), qPrintable(said));
                QCOMPARE(store::to_string(after->status), store::to_string(s)); // untouched
                const auto retry = test::run_gafx({"resume", id, "--retry", "--db", db_path});
                QCOMPARE(retry.exit_code, 1);
                const auto retried = store::RunStore(db_path.toStdString()).run(ids[s]);
                QVERIFY2(retried->error.find("absent") != std::string::npos, retried->error.c_str());
            } else if (s == RunStatus::Finished) {
                QCOMPARE(r.exit_code, 0);
                QVERIFY2(r.out.contains("already finished"), qPrintable(said));
            } else {
                QCOMPARE(r.exit_code, 1);
                QVERIFY2(said.contains("is running"), qPrintable(said));
            }
        }
    }
};

QTEST_MAIN(TestRunStatus)
#include "test_gui_run_status.moc"
