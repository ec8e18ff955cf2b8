#include "runs_controller.h"

#include "runs_import.h"
#include "training_worker.h"
#include "workspace.h"

#include "confusion_matrix_view.h"
#include "confusion_panel.h"
#include "curve_plot.h"
#include "factor_plot.h"
#include "parallel_plot.h"
#include "report_table.h"
#include "runs_table_model.h"
#include "runs_view.h"
#include "settings_diff_dialog.h"

#include "core/error.h"
#include "core/text.h"
#include "experiments/config_diff.h"
#include "experiments/grid_compare.h"
#include "experiments/report.h"
#include "experiments/run_analysis.h"
#include "experiments/run_export.h"
#include "store/run_notes.h"
#include "train/trainer.h"

#include <QDir>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QInputDialog>
#include <QSaveFile>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QVector>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace gafx::app {
namespace {

using widgets::RunsView;

QString qs(const std::string& v) { return QString::fromStdString(v); }

// The engine's numbers as the plots take them.
QVector<double> qv(const std::vector<double>& v) { return QVector<double>(v.begin(), v.end()); }

QString ids_text(const QList<qint64>& ids) {
    QStringList out;
    for (qint64 id : ids) out << QString::number(id);
    return (ids.size() == 1 ? QStringLiteral("run ") : QStringLiteral("runs ")) + out.join(QStringLiteral(", "));
}

// When a run's stored curves last changed: epoch curves move when an epoch ends (epochs_done),
// and a running run's per-step loss with each batch of rows the trainer commits, which the
// heartbeat's time follows within a beat.
std::string curve_stamp(const store::RunRecord& r) {
    std::string stamp = std::to_string(r.epochs_done);
    if (r.status == store::RunStatus::Running) stamp += "@" + r.heartbeat_at;
    return stamp;
}

} // namespace

RunsController::RunsController(AppContext& ctx, RunsView* view) : QObject(view), ctx_(ctx), view_(view) {
    QStringList factors;
    for (const auto& f : experiments::factor_names()) factors << qs(f);
    view_->set_factors(factors, QSettings().value(QStringLiteral("runs/group_by"), QStringLiteral("extractor")).toString());

    // Commits from elsewhere (the trainer thread, a gafx in a terminal) are read on a worker
    // thread: listing 10 000 runs takes most of a second, too long for the GUI thread.
    connect(ctx_.workspace, &Workspace::changed, this, &RunsController::refresh_later);
    // The trainer's own commits reach us through Workspace::changed within a second; its
    // status changes are worth showing at once.
    connect(ctx_.trainer, &TrainingWorker::statusChanged, this, &RunsController::refresh_later);
    connect(ctx_.trainer, &TrainingWorker::runFinished, this, &RunsController::refresh_later);
    connect(&list_job_, &QFutureWatcher<ListJob>::finished, this, &RunsController::list_loaded);
    // Named for bench_gui_stall's list of the slowest events.
    list_job_.setObjectName(QStringLiteral("runsList"));
    curve_job_.setObjectName(QStringLiteral("runsCurves"));
    confusion_job_.setObjectName(QStringLiteral("runsConfusion"));
    {
        QSettings settings;
        view_->set_curve_options(
            experiments::CurveAxis(std::clamp(settings.value(QStringLiteral("runs/curve_axis"), 0).toInt(), 0, 2)),
            settings.value(QStringLiteral("runs/curve_smoothing"), 0.0).toDouble());
    }
    connect(view_, &RunsView::curveOptionsChanged, this, [this] {
        QSettings settings;
        settings.setValue(QStringLiteral("runs/curve_axis"), int(view_->curve_axis()));
        settings.setValue(QStringLiteral("runs/curve_smoothing"), view_->curve_smoothing());
        selected_sig_.clear();
        show_selected_curves();
        show_groups();
    });
    connect(view_, &RunsView::selectionChanged, this, [this] {
        show_selected_curves();
        show_confusion();
    });
    view_->set_statistic(experiments::RunStatistic(
        std::clamp(QSettings().value(QStringLiteral("runs/statistic"), 0).toInt(), 0, 2)));
    connect(view_, &RunsView::groupingChanged, this, [this] {
        QSettings().setValue(QStringLiteral("runs/group_by"), view_->group_factor());
        QSettings().setValue(QStringLiteral("runs/statistic"), int(view_->statistic()));
        show_groups();
    });
    connect(view_, &RunsView::paperTableChanged, this, &RunsController::show_paper_table);
    connect(view_, &RunsView::compareChanged, this, &RunsController::show_compare);
    connect(view_->tabs(), &QTabWidget::currentChanged, this, &RunsController::show_tab);
    view_->installEventFilter(this); // the page shown: its tab catches up
    connect(view_->paper_table(), &widgets::ReportTable::runsActivated, view_, &RunsView::select_runs);
    connect(view_->group_table(), &widgets::ReportTable::runsActivated, view_, &RunsView::select_runs);
    connect(view_, &RunsView::inspectRequested, this, [this](const QList<qint64>& ids) {
        if (ctx_.inspect) ctx_.inspect(ids, 0);
        else ctx_.show_page(InspectorPage);
    });
    connect(view_, &RunsView::resumeRequested, this, &RunsController::resume);
    connect(view_, &RunsView::cancelRequested, this, &RunsController::cancel);
    connect(view_, &RunsView::exportRequested, this, &RunsController::export_runs);
    connect(view_, &RunsView::tagsRequested, this, &RunsController::edit_tags);
    connect(view_, &RunsView::noteRequested, this, &RunsController::edit_note);
    connect(view_, &RunsView::compareRequested, this, &RunsController::compare);
    auto* importer = new RunsImporter(ctx_, view_);
    connect(view_, &RunsView::importRequested, importer, &RunsImporter::ask);
    connect(importer, &RunsImporter::finished, this, &RunsController::refresh);
    connect(&curve_job_, &QFutureWatcher<CurvesJob>::finished, this, &RunsController::curves_loaded);
    connect(&confusion_job_, &QFutureWatcher<ConfusionJob>::finished, this, &RunsController::confusion_loaded);
    connect(view_->confusion(), &widgets::ConfusionMatrixView::cellActivated, this, &RunsController::show_cell_tracks);
    connect(view_->confusion_panel(), &widgets::ConfusionPanel::trackInspectRequested, this,
            [this](qint64 run, qint64 track) {
                if (ctx_.inspect) ctx_.inspect({run}, track);
                if (ctx_.play) ctx_.play(track); // opened to be heard
            });
    refresh();
    refresh_later(); // once more on a worker, which parses every config for grouping ahead of need
}

void RunsController::show_tab() {
    show_groups();
    show_paper_table();
    show_confusion();
    show_compare();
}

bool RunsController::eventFilter(QObject* watched, QEvent* event) {
    if (watched == view_ && event->type() == QEvent::Show) show_tab();
    return QObject::eventFilter(watched, event);
}

void RunsController::error(const QString& what, const std::exception& e) {
    view_->show_message(what + QStringLiteral(": ") + QString::fromUtf8(e.what()), true);
}

RunsController::ListJob RunsController::list_now(store::RunStore& store, int generation, bool on_worker) {
    ListJob job;
    job.generation = generation;
    try {
        // A run whose process died (kill -9, power loss) must not look like it is running.
        job.runs = store.list_runs();
        if (!train::mark_dead_runs_interrupted(store, job.runs).empty()) job.runs = store.list_runs();
        job.rows.reserve(job.runs.size());
        for (const auto& r : job.runs) {
            widgets::RunRow row;
            row.run = r;
            try {
                row.config = experiments::parse_run_config(r.config);
                // Remembered here, on the worker: the first grouping on the GUI thread then finds
                // every config parsed (25 ms at 10 000 runs instead of 290).
                if (on_worker) experiments::config_values(r.config);
            } catch (const std::exception&) {
                row.config_ok = false;
            }
            job.rows.push_back(std::move(row));
        }
    } catch (const std::exception& e) {
        job.error = QString::fromUtf8(e.what());
    }
    return job;
}

void RunsController::refresh() { apply(list_now(ctx_.workspace->store(), ++generation_, false)); }

void RunsController::refresh_later() {
    if (list_job_.isRunning()) {
        list_again_ = true; // list_loaded() reads once more
        return;
    }
    const std::string db = ctx_.workspace->path().toStdString();
    const int generation = generation_;
    list_job_.setFuture(QtConcurrent::run([db, generation] {
        try {
            store::RunStore store(db);
            return list_now(store, generation, true);
        } catch (const std::exception& e) {
            ListJob job;
            job.generation = generation;
            job.error = QString::fromUtf8(e.what());
            return job;
        }
    }));
}

void RunsController::list_loaded() {
    // Taken, not copied: a copy of 10 000 runs, and freeing the future's own at the next setFuture,
    // cost the GUI thread ~25 ms a commit.
    ListJob job = list_job_.future().takeResult();
    // A refresh of our own (after an edit) came in meanwhile: this read may be older than it.
    if (job.generation == generation_) apply(std::move(job));
    else list_again_ = true;
    if (list_again_) {
        list_again_ = false;
        refresh_later();
    }
}

void RunsController::apply(ListJob job) {
    if (!job.error.isEmpty()) {
        view_->show_message(tr("Could not read the runs: %1").arg(job.error), true);
        return;
    }
    // What this listing replaces is freed on a worker: 10 000 records and their parsed configs.
    struct Replaced {
        std::vector<store::RunRecord> runs;
        std::vector<widgets::RunRow> rows;
    };
    auto replaced = std::make_shared<Replaced>();
    try {
        replaced->runs = std::move(runs_);
        runs_ = std::move(job.runs);
        bool unknown_dataset = !report_base_.has_value();
        for (const auto& row : job.rows) unknown_dataset = unknown_dataset || !known_datasets_.count(row.config.dataset);
        if (unknown_dataset) {
            report_base_ = experiments::report_options(ctx_.workspace->store(), false);
            for (const auto& d : ctx_.workspace->store().list_datasets()) known_datasets_.insert(d.name);
        }
        view_->model()->set_runs(std::move(job.rows), &replaced->rows);
    } catch (const std::exception& e) {
        error(tr("Could not read the runs"), e);
        return;
    }
    (void)QtConcurrent::run([replaced = std::move(replaced)]() mutable { replaced.reset(); });
    show_selected_curves();
    show_tab();
}

const store::RunRecord* RunsController::record(int64_t id) const {
    for (const auto& r : runs_)
        if (r.id == id) return &r;
    return nullptr;
}

experiments::ReportOptions RunsController::report_options() const {
    experiments::ReportOptions o = report_base_.value_or(experiments::ReportOptions{});
    o.include_unfinished = view_->include_unfinished();
    o.statistic = view_->statistic();
    return o;
}

void RunsController::ensure_curves(const std::vector<int64_t>& ids) {
    std::vector<int64_t> stale;
    std::map<int64_t, std::string> stamps;
    for (int64_t id : ids) {
        const store::RunRecord* r = record(id);
        if (!r) continue;
        const auto it = curves_.find(id);
        const std::string stamp = curve_stamp(*r);
        if (it == curves_.end() || it->second.stamp != stamp) {
            stale.push_back(id);
            stamps[id] = stamp;
        }
    }
    if (stale.empty()) return;
    if (curve_job_.isRunning()) return;
    const std::string db = ctx_.workspace->path().toStdString();
    curve_job_.setFuture(QtConcurrent::run([db, stale, stamps] {
        CurvesJob job;
        job.stamps = stamps;
        try {
            job.curves = experiments::load_curves(db, stale);
        } catch (const std::exception& e) {
            job.error = QString::fromUtf8(e.what());
        }
        return job;
    }));
}

void RunsController::curves_loaded() {
    const CurvesJob job = curve_job_.future().takeResult();
    if (!job.error.isEmpty()) view_->show_message(tr("Could not read the curves: %1").arg(job.error), true);
    for (const auto& [id, c] : job.curves) curves_[id] = Cached{job.stamps.at(id), c};
    show_selected_curves(); // each asks again for what is still missing
    show_groups();
}

void RunsController::show_selected_curves() {
    const QList<qint64> ids = view_->selected_runs();
    std::vector<int64_t> want(ids.begin(), ids.end());
    ensure_curves(want);
    const experiments::CurveAxis axis = view_->curve_axis();
    const double smoothing = view_->curve_smoothing();
    QString sig = QStringLiteral("%1 %2|").arg(int(axis)).arg(smoothing);
    for (qint64 id : ids) {
        const auto it = curves_.find(id);
        sig += QStringLiteral("%1:%2 ").arg(id).arg(it == curves_.end() ? QStringLiteral("-") : qs(it->second.stamp));
    }
    if (sig == selected_sig_) return;
    selected_sig_ = sig;
    widgets::CurvePlot* acc = view_->accuracy_curves();
    widgets::CurvePlot* loss = view_->loss_curves();
    acc->clear();
    loss->clear();
    int k = 0;
    for (qint64 id : ids) {
        const auto it = curves_.find(id);
        if (it == curves_.end()) continue; // loading; drawn when it arrives
        const widgets::RunRow* row = view_->model()->find(id);
        QString name = tr("run %1").arg(id);
        if (row)
            name += QStringLiteral(" (%1, %2, seed %3)").arg(qs(row->config.extractor), qs(row->config.classifier)).arg(row->run.seed);
        const QColor colour = widgets::CurvePlot::palette(k++);
        const experiments::RunCurves& c = it->second.curves;
        // With smoothing, the raw series stays underneath, faint, so the smoothing hides nothing.
        const auto draw = [&](widgets::CurvePlot* plot, const experiments::Series& raw, bool dots) {
            if (smoothing > 0) {
                plot->set_points(plot->add_faint_curve(colour), qv(raw.x), qv(raw.y));
                const experiments::Series smooth = experiments::smooth_ema(raw, smoothing);
                plot->set_points(plot->add_curve(name, colour, false), qv(smooth.x), qv(smooth.y));
            } else {
                plot->set_points(plot->add_curve(name, colour, dots), qv(raw.x), qv(raw.y));
            }
        };
        draw(acc, experiments::along(c.track_accuracy, c, axis), true);
        draw(loss, experiments::train_loss_along(c, axis), axis != experiments::CurveAxis::Step);
    }
}

// The groups and paper tables regroup every run (tens of ms at 10 000): only for a tab in sight.
bool RunsController::in_sight(int tab) const { return view_->isVisible() && view_->tabs()->currentIndex() == tab; }

void RunsController::show_groups() {
    const QString factor = view_->group_factor();
    if (factor.isEmpty() || !in_sight(RunsView::GroupsTab)) return;
    experiments::Report rep;
    try {
        rep = experiments::group_by({factor.toStdString()}, runs_, report_options());
    } catch (const std::exception& e) {
        view_->group_table()->clear(QString::fromUtf8(e.what()));
        return;
    }
    view_->group_table()->set_report(rep);
    std::vector<int64_t> want;
    for (const auto& row : rep.rows) want.insert(want.end(), row.run_ids.begin(), row.run_ids.end());
    ensure_curves(want);
    const experiments::CurveAxis axis = view_->curve_axis();
    const double smoothing = view_->curve_smoothing();
    QString sig = factor + QLatin1Char('|') + QString::number(int(axis)) + QLatin1Char('|') +
                  QString::number(smoothing) + QLatin1Char('|');
    for (const auto& row : rep.rows) {
        sig += qs(row.label) + QLatin1Char(':');
        for (int64_t id : row.run_ids) {
            const auto it = curves_.find(id);
            sig += QStringLiteral("%1/%2,").arg(id).arg(it == curves_.end() ? QStringLiteral("-") : qs(it->second.stamp));
        }
    }
    if (sig == group_sig_) return;
    group_sig_ = sig;
    widgets::CurvePlot* plot = view_->group_curves();
    plot->clear();
    plot->set_integer_x(axis != experiments::CurveAxis::Seconds);
    plot->set_axis_labels(axis == experiments::CurveAxis::Epoch  ? tr("epoch")
                          : axis == experiments::CurveAxis::Step ? tr("step")
                                                                 : tr("training seconds"),
                          smoothing > 0 ? tr("test track accuracy, each run smoothed %1 (mean ± std)").arg(smoothing)
                                        : tr("test track accuracy (mean ± std)"));
    int k = 0;
    for (const auto& row : rep.rows) {
        std::vector<experiments::Series> along; // on the chosen x-axis, one per run
        for (int64_t id : row.run_ids) {
            const auto it = curves_.find(id);
            if (it == curves_.end()) continue;
            // Each run smoothed on its own, then banded: the band's spread stays the runs' spread.
            along.push_back(experiments::smooth_ema(
                experiments::along(it->second.curves.track_accuracy, it->second.curves, axis), smoothing));
        }
        std::vector<const experiments::Series*> series;
        for (const auto& a : along) series.push_back(&a);
        const QColor colour = widgets::CurvePlot::palette(k++);
        if (series.empty()) continue;
        const experiments::Band b = experiments::mean_band_along(series, axis);
        plot->add_band(tr("%1 (n=%2)").arg(qs(row.label)).arg(row.n), colour, qv(b.x), qv(b.mean), qv(b.std));
    }
}

void RunsController::show_compare() {
    if (!in_sight(RunsView::CompareTab)) return; // computed when looked at
    const QString factor = view_->compare_factor();
    if (factor.isEmpty()) return;
    // The runs the table shows: filter to one experiment, then compare its grid.
    const QList<qint64> visible = view_->visible_runs();
    const std::set<qint64> shown(visible.begin(), visible.end());
    std::vector<store::RunRecord> runs;
    for (const auto& r : runs_)
        if (shown.count(r.id)) runs.push_back(r);
    const experiments::ReportOptions o = report_options();
    // Redrawn only when what it shows changed: the trainer commits every few seconds.
    QString sig = factor + QLatin1Char('|') + QString::number(int(o.statistic)) + QLatin1Char('|') +
                  QString::number(o.include_unfinished) + QLatin1Char('|');
    for (const auto& r : runs)
        sig += QStringLiteral("%1:%2:%3,").arg(r.id).arg(int(r.status)).arg(experiments::track_statistic(r, o.statistic));
    if (sig == compare_sig_) return;
    compare_sig_ = sig;
    try {
        const auto effect = experiments::factor_effect(factor.toStdString(), runs, o);
        view_->factor_plot()->set_effect(effect);
        const auto parallel = experiments::parallel_coordinates(runs, o);
        view_->parallel_plot()->set_data(parallel);
        int counted = 0;
        for (const auto& level : effect.levels) counted += level.stat.n;
        std::map<std::string, int> reasons;
        for (const auto& l : effect.left_out) ++reasons[experiments::to_string(l.reason)];
        QStringList left;
        for (const auto& [reason, n] : reasons) left << tr("%1 %2").arg(n).arg(qs(reason));
        view_->set_compare_caption(
            tr("%1 of the %2 runs the table shows count (%3)%4")
                .arg(counted)
                .arg(runs.size())
                .arg(qs(experiments::describe(o.statistic)))
                .arg(left.isEmpty() ? QString() : tr("; left out: %1").arg(left.join(QStringLiteral(", ")))));
    } catch (const std::exception& e) {
        view_->factor_plot()->clear(QString::fromUtf8(e.what()));
        view_->parallel_plot()->clear(QString());
    }
}

void RunsController::show_paper_table() {
    if (!in_sight(RunsView::PaperTab)) return;
    try {
        view_->paper_table()->set_report(experiments::paper_table(view_->paper_table_number(), runs_, report_options()));
    } catch (const std::exception& e) {
        view_->paper_table()->clear(QString::fromUtf8(e.what()));
    }
}

void RunsController::show_confusion() {
    if (!in_sight(RunsView::ConfusionTab)) return; // computed when looked at
    // Every selected run that has a val-selected epoch counts; the others are named.
    std::vector<int64_t> ids;
    QStringList skipped;
    for (qint64 id : view_->selected_runs()) {
        const store::RunRecord* r = record(id);
        if (!r) continue;
        if (r->selected_epoch > 0) ids.push_back(id);
        else skipped << QString::number(id);
    }
    if (ids.empty()) {
        confusion_key_.clear();
        confusion_.reset();
        view_->set_confusion_caption(QString());
        view_->confusion_panel()->clear_cell_tracks(QString());
        const store::RunRecord* r = record(view_->current_run());
        view_->confusion()->clear(
            !r ? tr("Select a run (or several: their matrices are summed) to see its confusion matrix.")
            : std::isnan(r->final_test_track_accuracy)
                ? tr("Run %1 has not evaluated yet; its matrix appears after its first epoch.").arg(r->id)
                : tr("Run %1 was trained before validation splits: no epoch was chosen on val, so it has no matrix "
                     "to show.").arg(r->id));
        return;
    }
    // The stored predictions are those of the selected epoch; they change only when it does.
    QString key;
    for (int64_t id : ids) key += QStringLiteral("%1@%2 ").arg(id).arg(record(id)->selected_epoch);
    if (key == confusion_key_) return;
    if (confusion_job_.isRunning()) return; // confusion_loaded() looks again
    confusion_key_ = key;
    confusion_skipped_ = skipped;
    view_->set_confusion_caption(tr("%1: computing...").arg(ids_text(QList<qint64>(ids.begin(), ids.end()))));
    const std::string db = ctx_.workspace->path().toStdString();
    confusion_job_.setFuture(QtConcurrent::run([db, ids, key] {
        ConfusionJob job;
        job.runs = ids;
        job.key = key;
        try {
            job.confusion = experiments::load_confusion(db, ids);
        } catch (const std::exception& e) {
            job.error = QString::fromUtf8(e.what());
        }
        return job;
    }));
}

void RunsController::confusion_loaded() {
    const ConfusionJob job = confusion_job_.future().takeResult();
    if (job.key != confusion_key_) { // the selection moved on meanwhile
        confusion_key_.clear();
        show_confusion();
        return;
    }
    const QString runs = ids_text(QList<qint64>(job.runs.begin(), job.runs.end()));
    if (!job.error.isEmpty()) {
        confusion_.reset();
        view_->set_confusion_caption(runs);
        view_->confusion()->clear(job.error);
        view_->confusion_panel()->clear_cell_tracks(QString());
        return;
    }
    const experiments::Confusion& c = job.confusion;
    QString caption =
        c.runs.size() == 1
            ? tr("Run %1, epoch %2 (selected on val): test track accuracy %3 % on %4 tracks (rows: true class, "
                 "columns: predicted)")
                  .arg(c.run)
                  .arg(c.selected_epoch)
                  .arg(100.0 * c.track_accuracy, 0, 'f', 1)
                  .arg(c.tracks)
            : tr("%1 summed, each at its epoch selected on val: test track accuracy %2 % over %3 (run, track) pairs "
                 "(rows: true class, columns: predicted)")
                  .arg(runs)
                  .arg(100.0 * c.track_accuracy, 0, 'f', 1)
                  .arg(c.tracks);
    if (c.unmatched)
        caption += tr("; %1 predicted clips belong to tracks the dataset no longer has").arg(c.unmatched);
    if (!confusion_skipped_.isEmpty())
        caption += tr("; left out, no epoch selected on val: run %1").arg(confusion_skipped_.join(QStringLiteral(", ")));
    view_->set_confusion_caption(caption);
    QStringList classes;
    for (const auto& name : c.classes) classes << qs(name);
    const QPoint cell = view_->confusion()->selected_cell();
    view_->confusion()->set_matrix(classes, c.counts);
    confusion_ = c;
    if (cell.x() >= 0 && cell.x() < classes.size()) show_cell_tracks(cell.x(), cell.y()); // same cell, new counts
    else view_->confusion_panel()->clear_cell_tracks(tr("Click a cell to list its tracks."));
    show_confusion(); // the selection may have changed while this ran
}

void RunsController::show_cell_tracks(int true_class, int predicted) {
    if (!confusion_) return;
    const experiments::Confusion& c = *confusion_;
    QStringList classes;
    for (const auto& name : c.classes) classes << qs(name);
    if (true_class < 0 || predicted < 0 || true_class >= classes.size() || predicted >= classes.size()) return;
    const auto rows = experiments::cell_tracks(c, true_class, predicted);
    view_->confusion_panel()->set_cell_tracks(
        tr("True %1, predicted %2: %3 tracks, the most confident first (test set, epoch selected on val). Double-click "
           "one to inspect it.")
            .arg(classes[true_class], classes[predicted])
            .arg(rows.size()),
        classes, rows);
}

void RunsController::resume(const QList<qint64>& ids) {
    QList<qint64> queue;
    QStringList notes;
    const QList<qint64> queued = ctx_.trainer->queued();
    for (qint64 id : ids) {
        const store::RunRecord* r = record(id);
        if (!r) continue;
        if (id == ctx_.trainer->active_run()) {
            if (r->status == store::RunStatus::Paused) ctx_.trainer->resume(); // paused here: continue in place
            notes << tr("run %1 is training").arg(id);
            continue;
        }
        if (queued.contains(id)) {
            notes << tr("run %1 is already queued").arg(id);
            continue;
        }
        auto decision = store::decide_resume(r->status, false);
        if (decision == store::ResumeDecision::NeedsRetryFlag &&
            view_->confirm(tr("Retry run %1?").arg(id),
                           qs(store::resume_refusal(id, r->status, r->error, "choose Yes"))))
            decision = store::decide_resume(r->status, true);
        switch (decision) {
        case store::ResumeDecision::Resume:
        case store::ResumeDecision::Retry:
            queue << id;
            break;
        case store::ResumeDecision::NeedsRetryFlag:
            notes << tr("run %1 %2, left as it is").arg(id).arg(QString::fromLatin1(store::to_string(r->status)));
            break;
        case store::ResumeDecision::AlreadyRunning:
        case store::ResumeDecision::AlreadyFinished:
            notes << tr("run %1 is %2, nothing to resume").arg(id).arg(QString::fromLatin1(store::to_string(r->status)));
            break;
        }
    }
    if (!queue.isEmpty()) {
        ctx_.trainer->enqueue(queue); // each continues from its last checkpoint
        notes.prepend(tr("queued %1 to continue from the last checkpoint").arg(ids_text(queue)));
        ctx_.show_page(TrainingPage);
    }
    view_->show_message(notes.join(QStringLiteral("; ")));
}

void RunsController::cancel(const QList<qint64>& ids) {
    QStringList notes;
    try {
        store::RunStore& store = ctx_.workspace->store();
        const QList<qint64> queued = ctx_.trainer->queued();
        for (qint64 id : ids) {
            const store::RunRecord* r = record(id);
            if (!r) continue;
            if (id == ctx_.trainer->active_run()) {
                ctx_.trainer->cancel();
                notes << tr("run %1 stops after its current step").arg(id);
                continue;
            }
            if (queued.contains(id)) ctx_.trainer->dequeue({id});
            switch (train::request_cancel(store, id, r->status, "cancelled in the workbench")) {
            case train::CancelOutcome::Asked:
                notes << tr("asked run %1 (pid %2 on %3) to stop").arg(id).arg(r->pid).arg(qs(r->host));
                break;
            case train::CancelOutcome::Cancelled:
                notes << tr("run %1 cancelled").arg(id);
                break;
            case train::CancelOutcome::AlreadyEnded:
                notes << (queued.contains(id) ? tr("run %1 taken off the queue").arg(id)
                                              : tr("run %1 has already ended (%2)").arg(id).arg(QString::fromLatin1(store::to_string(r->status))));
                break;
            }
        }
    } catch (const std::exception& e) {
        error(tr("Could not cancel"), e);
        return;
    }
    view_->show_message(notes.join(QStringLiteral("; ")));
    refresh();
}

void RunsController::export_runs(const QString& format, const QList<qint64>& ids) {
    if (ids.isEmpty()) return;
    const bool csv = format == QLatin1String("csv");
    QSettings settings;
    const QString dir = settings.value(QStringLiteral("runs/export_dir"), QDir::homePath()).toString();
    QString path = QFileDialog::getSaveFileName(view_, tr("Export %n run(s)", "", int(ids.size())),
                                                dir + (csv ? QStringLiteral("/runs.csv") : QStringLiteral("/runs.json")),
                                                csv ? tr("CSV (*.csv)") : tr("JSON (*.json)"));
    if (path.isEmpty()) return;
    if (QFileInfo(path).suffix().isEmpty()) path += csv ? QStringLiteral(".csv") : QStringLiteral(".json");
    settings.setValue(QStringLiteral("runs/export_dir"), QFileInfo(path).absolutePath());
    std::vector<store::RunRecord> chosen;
    for (qint64 id : ids)
        if (const store::RunRecord* r = record(id)) chosen.push_back(*r);
    const std::string text = csv ? experiments::runs_csv(chosen) : experiments::runs_json(chosen) + "\n";
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(text.data(), qint64(text.size())) != qint64(text.size()) ||
        !file.commit()) {
        view_->show_message(tr("Could not write %1: %2").arg(path, file.errorString()), true);
        return;
    }
    view_->show_message(tr("Wrote %n run(s) to %1", "", int(chosen.size())).arg(path));
}

QWidget* create_runs_page(AppContext& ctx, QWidget* parent) {
    auto* view = new RunsView(parent);
    new RunsController(ctx, view); // owned by the view
    return view;
}

void RunsController::edit_tags(const QList<qint64>& ids) {
    if (ids.isEmpty()) return;
    std::vector<std::vector<std::string>> per_run;
    std::vector<int64_t> run_ids;
    for (qint64 id : ids)
        if (const store::RunRecord* r = record(id)) {
            per_run.push_back(r->tags);
            run_ids.push_back(id);
        }
    const std::vector<std::string> shared = store::shared_tags(per_run);
    bool ok = false;
    const QString typed = QInputDialog::getText(
        view_, tr("Tags"),
        tr("Tags of %n run(s), separated by commas or spaces (letters, digits, . _ + - /). "
           "Tags only some of them have are kept.", "", int(run_ids.size())),
        QLineEdit::Normal, QString::fromStdString(join(shared, ", ")), &ok);
    if (!ok) return;
    try {
        const store::TagChanges change = store::tag_changes(shared, typed.toStdString());
        ctx_.workspace->store().tag_runs(run_ids, change.add, change.remove);
        QStringList parts;
        for (const auto& t : change.add) parts << QStringLiteral("+") + qs(t);
        for (const auto& t : change.remove) parts << QStringLiteral("-") + qs(t);
        view_->show_message(tr("Tags of %n run(s): %1", "", int(run_ids.size()))
                                .arg(parts.isEmpty() ? tr("unchanged") : parts.join(QLatin1Char(' '))));
    } catch (const std::exception& e) {
        error(tr("Could not tag"), e);
        return;
    }
    refresh();
}

void RunsController::edit_note(qint64 id) {
    const store::RunRecord* r = record(id);
    if (!r) return;
    bool ok = false;
    const QString text = QInputDialog::getMultiLineText(view_, tr("Note"), tr("Note on run %1:").arg(id),
                                                        QString::fromStdString(r->note), &ok);
    if (!ok) return;
    try {
        ctx_.workspace->store().set_run_note(id, text.toStdString());
        view_->show_message(text.isEmpty() ? tr("Note on run %1 cleared").arg(id) : tr("Note on run %1 saved").arg(id));
    } catch (const std::exception& e) {
        error(tr("Could not save the note"), e);
        return;
    }
    refresh();
}

void RunsController::compare(qint64 a, qint64 b) {
    const store::RunRecord *ra = record(a), *rb = record(b);
    if (!ra || !rb) return;
    QVector<widgets::SettingRow> rows;
    for (const auto& r : experiments::compare_settings(*ra, *rb))
        rows.push_back({qs(r.key), qs(r.a), qs(r.b), r.differs});
    auto* dialog = new widgets::SettingsDiffDialog(tr("run %1").arg(a), tr("run %1").arg(b), rows, view_);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->show();
}

} // namespace gafx::app
