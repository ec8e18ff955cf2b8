#pragma once
// The Runs page's controller: every run of the workspace, refreshed whenever anything commits
// (the trainer thread, a `gafx train` in a terminal), compared as curves, groups and the paper's
// tables, with a confusion matrix, export, and the Inspect / Resume / Cancel actions. The numbers
// come from the engine (experiments/run_analysis.h, report.h); this converts them to Qt types
// for widgets::RunsView and runs the slow reads on worker threads.
#include "pages.h"

#include "experiments/report.h"
#include "experiments/run_analysis.h"
#include "store/run_store.h"
#include "runs_table_model.h"

#include <QFutureWatcher>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gafx::widgets {
class RunsView;
}

namespace gafx::app {

class RunsController : public QObject {
    Q_OBJECT
public:
    // Owned by `view`; fills it from ctx.workspace and keeps it current.
    RunsController(AppContext& ctx, widgets::RunsView* view);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    struct CurvesJob {
        std::map<int64_t, experiments::RunCurves> curves;
        std::map<int64_t, std::string> stamps; // curve_stamp() of each run when it was read
        QString error;
    };
    struct ConfusionJob {
        std::vector<int64_t> runs;
        QString key;
        experiments::Confusion confusion;
        QString error;
    };
    struct Cached {
        std::string stamp;
        experiments::RunCurves curves;
    };

    struct ListJob {
        int generation = 0;
        std::vector<store::RunRecord> runs;
        std::vector<widgets::RunRow> rows; // configs parsed off the GUI thread
        QString error;
    };
    // `on_worker`: also fill experiments::config_values' memory, which grouping reads later.
    static ListJob list_now(store::RunStore& store, int generation, bool on_worker);
    // At once, on the GUI thread: after the user's own edits, which must show as they are made.
    void refresh();
    // On a worker thread: after commits from elsewhere; the views update when it is read.
    void refresh_later();
    void list_loaded();
    void apply(ListJob job);
    void show_selected_curves();
    bool in_sight(int tab) const; // the page shown, on that tab
    void show_tab();              // whichever tab is in sight
    void show_groups();
    void show_paper_table();
    // The factor-vs-statistic and parallel-coordinates plots of the runs the table shows.
    void show_compare();
    void show_confusion();
    // Starts loading the curves of `ids` that are missing or older than their run; the
    // views redraw when they arrive.
    void ensure_curves(const std::vector<int64_t>& ids);
    void curves_loaded();
    void confusion_loaded();
    // Lists the tracks of one cell of the matrix shown.
    void show_cell_tracks(int true_class, int predicted);
    const store::RunRecord* record(int64_t id) const;
    experiments::ReportOptions report_options() const;
    void resume(const QList<qint64>& ids);
    void cancel(const QList<qint64>& ids);
    void export_runs(const QString& format, const QList<qint64>& ids);
    // Ask for the tags the runs share (or one run's note) and store the edit.
    void edit_tags(const QList<qint64>& ids);
    void edit_note(qint64 id);
    // The two runs' settings side by side, in a dialog over the page.
    void compare(qint64 a, qint64 b);
    void error(const QString& what, const std::exception& e);

    AppContext& ctx_;
    widgets::RunsView* view_;
    std::vector<store::RunRecord> runs_;
    // What gafx report uses too (experiments::report_options); re-read when a run names a dataset
    // not seen before, since reading it loads the paper dataset for its baseline.
    std::optional<experiments::ReportOptions> report_base_;
    std::set<std::string> known_datasets_;
    std::map<int64_t, Cached> curves_;
    QFutureWatcher<CurvesJob> curve_job_; // one at a time; when it ends the views ask again for what is missing
    QString selected_sig_, group_sig_, compare_sig_; // what is drawn, to redraw only on change
    QFutureWatcher<ConfusionJob> confusion_job_;
    QFutureWatcher<ListJob> list_job_;
    bool list_again_ = false; // a commit came while a list was being read
    int generation_ = 0;      // of the last synchronous refresh
    QString confusion_key_; // runs and epochs shown (or being computed)
    QStringList confusion_skipped_; // selected runs without an epoch chosen on val
    std::optional<experiments::Confusion> confusion_; // what the matrix shows
};

} // namespace gafx::app
