#include "embedding_controller.h"

#include "workspace.h"

#include "embedding_view.h"

#include "core/feedback.h"
#include "experiments/experiment.h"
#include "experiments/grid_compare.h"
#include "experiments/projection.h"

#include <QDir>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QPointer>
#include <QSettings>
#include <QtConcurrent/QtConcurrentRun>

#include <atomic>

namespace gafx::app {
namespace {

QString qs(const std::string& v) { return QString::fromStdString(v); }

// The rows asked for (all when none), by panel, in the same order, with their 2-D positions.
struct Picked {
    std::vector<train::Embeddings> parts;
    std::vector<std::vector<float>> xys;
};
Picked pick(const widgets::EmbeddingView& view, const QList<int>& rows) {
    Picked out;
    const auto& panels = view.panels();
    std::vector<std::vector<int>> by_panel(panels.size());
    if (rows.isEmpty()) {
        for (size_t p = 0; p < panels.size(); ++p)
            for (int i = 0; i < int(panels[p].embeddings.rows()); ++i) by_panel[p].push_back(i);
    } else {
        for (int r : rows) {
            const auto [p, i] = view.locate(r);
            by_panel[size_t(p)].push_back(i);
        }
    }
    for (size_t p = 0; p < panels.size(); ++p) {
        if (by_panel[p].empty()) continue;
        const train::Embeddings& e = panels[p].embeddings;
        train::Embeddings part;
        part.run = e.run;
        part.kind = e.kind;
        part.class_names = e.class_names;
        part.dim = e.dim;
        std::vector<float> xy;
        for (int r : by_panel[p]) {
            const size_t i = size_t(r);
            part.track_ids.push_back(e.track_ids[i]);
            part.track_keys.push_back(e.track_keys[i]);
            part.true_class.push_back(e.true_class[i]);
            part.predicted_class.push_back(e.predicted_class[i]);
            part.subsets.push_back(e.subsets[i]);
            part.matrix.insert(part.matrix.end(), e.matrix.begin() + long(i) * e.dim,
                               e.matrix.begin() + long(i + 1) * e.dim);
            xy.push_back(panels[p].xy[2 * i]);
            xy.push_back(panels[p].xy[2 * i + 1]);
        }
        out.parts.push_back(std::move(part));
        out.xys.push_back(std::move(xy));
    }
    return out;
}

// What one run's projection says, for its panel and the caption.
QString describe(const train::Embeddings& e, widgets::EmbeddingView::Projection projection, const QString& result) {
    const QString what = e.kind == train::EmbeddingKind::Pooled ? EmbeddingController::tr("the classifier's pooled token")
                                                                : EmbeddingController::tr("the feature map averaged over time");
    return EmbeddingController::tr("Run %1: %2 of %3 tracks (%4-D), %5%6")
        .arg(e.run)
        .arg(what)
        .arg(e.rows())
        .arg(e.dim)
        .arg(projection == widgets::EmbeddingView::Pca ? QStringLiteral("PCA") : QStringLiteral("t-SNE"))
        .arg(result);
}

} // namespace

EmbeddingController::EmbeddingController(AppContext& ctx, widgets::EmbeddingView* view)
    : QObject(view), ctx_(ctx), view_(view) {
    // Listing every run is slow in a big workspace: while the page is hidden, only remember that
    // the list is stale, and read it when the page shows.
    connect(ctx_.workspace, &Workspace::runsListed, this, [this] {
        if (view_->isVisible()) refresh_runs();
        else stale_ = true;
    });
    connect(ctx_.workspace, &Workspace::listFailed, this, [this](const QString& reason) {
        view_->set_status(tr("Could not read the runs: %1").arg(reason), true);
    });
    view_->installEventFilter(this);
    connect(view_, &widgets::EmbeddingView::computeRequested, this, &EmbeddingController::compute);
    connect(&job_, &QFutureWatcher<Job>::finished, this, &EmbeddingController::finished);
    connect(view_, &widgets::EmbeddingView::trackActivated, this, [this](qint64 run, qint64 track) {
        if (ctx_.inspect) ctx_.inspect({run}, track);
        if (ctx_.play) ctx_.play(track); // opened to be heard
    });
    connect(view_, &widgets::EmbeddingView::exportRequested, this, &EmbeddingController::export_rows);
    refresh_runs();
}

bool EmbeddingController::eventFilter(QObject* watched, QEvent* event) {
    if (watched == view_ && event->type() == QEvent::Show && stale_) refresh_runs();
    return QObject::eventFilter(watched, event);
}

EmbeddingController::~EmbeddingController() {
    if (feedback_) feedback_->cancel();
    if (job_.isRunning()) job_.waitForFinished(); // once finished() took the result, it would never return
}

void EmbeddingController::refresh_runs() {
    stale_ = false;
    try {
        QList<QPair<qint64, QString>> runs;
        QString sig;
        for (const ListedRun& l : *ctx_.workspace->runs()) {
            const store::RunRecord& r = l.record;
            if (r.selected_epoch == 0) continue; // no weights chosen on val yet
            if (!l.config) continue;             // its config no longer parses: nothing to build
            const auto& c = *l.config;
            const QString label = QStringLiteral("Run %1: %2 + %3, seed %4 (%5)")
                                      .arg(r.id)
                                      .arg(qs(c.extractor), qs(c.classifier))
                                      .arg(r.seed)
                                      .arg(qs(c.dataset));
            runs << qMakePair(qint64(r.id), label);
            sig += label + QLatin1Char('\n');
        }
        if (sig == runs_sig_) return;
        runs_sig_ = sig;
        view_->set_runs(runs);
    } catch (const std::exception& e) {
        view_->set_status(tr("Could not read the runs: %1").arg(QString::fromUtf8(e.what())), true);
    }
}

void EmbeddingController::compute() {
    if (view_->busy()) { // the button reads Cancel until finished() has run
        if (feedback_) feedback_->cancel();
        view_->set_status(tr("Cancelling..."));
        return;
    }
    const QList<qint64> runs = view_->checked_runs();
    if (runs.isEmpty()) return;
    std::vector<train::EmbeddingJob> jobs;
    QStringList labels;
    std::vector<std::string> configs;
    try {
        for (qint64 run : runs) {
            jobs.push_back(train::embedding_job(ctx_.workspace->store(), run));
            configs.push_back(jobs.back().config);
            labels << view_->run_label(run);
        }
    } catch (const std::exception& e) {
        view_->set_status(QString::fromUtf8(e.what()), true);
        return;
    }
    QStringList groups;
    for (const auto& g : experiments::varying_levels(configs)) groups << qs(g);
    const auto kind = view_->kind();
    const auto projection = view_->projection();
    QPointer<widgets::EmbeddingView> view = view_;
    const int count = int(jobs.size());
    auto at = std::make_shared<std::atomic<int>>(0); // the run being worked on, for progress
    feedback_ = std::make_shared<Feedback>([view, at, count](int64_t done, int64_t total, const std::string& item) {
        const int run = at->load() + 1;
        QMetaObject::invokeMethod(
            view,
            [view, done, total, item, run, count] {
                if (!view) return;
                const QString of = count > 1 ? tr("Run %1 of %2: ").arg(run).arg(count) : QString();
                view->set_busy(of + (item == "t-SNE"
                                         ? tr("projecting: t-SNE iteration %1 of %2...").arg(done).arg(total)
                                         : tr("embedding track %1 of %2 (%3)...").arg(done).arg(total).arg(qs(item))));
            },
            Qt::QueuedConnection);
    });
    view_->set_busy(tr("Loading run %1's model...").arg(runs.front()));
    std::shared_ptr<Feedback> fb = feedback_;
    job_.setFuture(QtConcurrent::run([jobs = std::move(jobs), labels, groups, kind, projection, fb, at] {
        Job out;
        try {
            for (size_t r = 0; r < jobs.size(); ++r) {
                at->store(int(r));
                widgets::EmbeddingPanel panel;
                panel.embeddings = train::compute_embeddings(jobs[r], kind, fb.get());
                const auto& e = panel.embeddings;
                if (projection == widgets::EmbeddingView::Pca) {
                    const auto p = experiments::pca_2d(e.matrix, e.rows(), e.dim);
                    panel.xy = p.xy;
                    panel.caption = describe(e, projection,
                                             tr(": x explains %1 %, y %2 % of the variance")
                                                 .arg(p.explained.size() > 0 ? 100.0 * p.explained[0] : 0.0, 0, 'f', 1)
                                                 .arg(p.explained.size() > 1 ? 100.0 * p.explained[1] : 0.0, 0, 'f', 1));
                } else {
                    const auto p = experiments::tsne_2d(e.matrix, e.rows(), e.dim, {}, fb.get());
                    panel.xy = p.xy;
                    panel.caption = describe(e, projection,
                                             tr(" (perplexity %1, KL %2)").arg(p.perplexity, 0, 'f', 1).arg(p.kl_divergence, 0, 'f', 3));
                }
                panel.label = labels.value(int(r));
                panel.group = groups.value(int(r));
                out.panels.push_back(std::move(panel));
            }
            if (out.panels.size() == 1) {
                out.caption = out.panels.front().caption;
                if (projection == widgets::EmbeddingView::Tsne) out.caption += tr(": distances between clusters mean little");
            } else {
                QStringList lines;
                for (const auto& p : out.panels) lines << p.caption;
                out.caption = tr("%1 runs side by side, each in its own %2 (two models' spaces share no axes):\n%3")
                                  .arg(out.panels.size())
                                  .arg(projection == widgets::EmbeddingView::Pca ? QStringLiteral("PCA")
                                                                                 : QStringLiteral("t-SNE"))
                                  .arg(lines.join(QLatin1Char('\n')));
            }
        } catch (const Cancelled&) {
            out.cancelled = true;
        } catch (const std::exception& e) {
            out.error = QString::fromUtf8(e.what());
        }
        return out;
    }));
}

void EmbeddingController::finished() {
    Job job = job_.future().takeResult();
    // Cancel asked for counts even when the work got to its end first.
    const bool cancelled = job.cancelled || (feedback_ && feedback_->cancelled());
    feedback_.reset();
    view_->set_busy(QString());
    if (cancelled) {
        view_->set_status(tr("Cancelled."));
        return;
    }
    if (!job.error.isEmpty()) {
        view_->set_status(job.error, true);
        return;
    }
    const size_t runs = job.panels.size();
    view_->set_panels(std::move(job.panels), job.caption);
    view_->set_status(runs > 1 ? tr("%1 tracks of %2 runs; hover names a track, a click inspects it, a lasso lists a "
                                    "set and marks the same tracks in the other runs.")
                                     .arg(view_->point_count())
                                     .arg(runs)
                               : tr("%1 tracks; hover names a track, a click inspects it, a lasso lists a set.")
                                     .arg(view_->point_count()));
}

void EmbeddingController::export_rows(const QString& format, const QList<int>& rows) {
    // The view holds what is drawn; the export takes it back from there.
    const auto& panels = view_->panels();
    if (view_->point_count() == 0) return;
    const bool csv = format == QStringLiteral("csv");
    QSettings settings;
    const QString dir = settings.value(QStringLiteral("embeddings/export_dir"), QDir::homePath()).toString();
    QStringList ids;
    for (const auto& p : panels) ids << QString::number(p.embeddings.run);
    QString path = QFileDialog::getSaveFileName(
        view_, tr("Export %n track(s)", "", rows.isEmpty() ? view_->point_count() : int(rows.size())),
        dir + QStringLiteral("/run%1-embeddings.%2").arg(ids.join(QLatin1Char('-')), csv ? QStringLiteral("csv") : QStringLiteral("npy")),
        csv ? tr("CSV (*.csv)") : tr("NumPy array (*.npy)"));
    if (path.isEmpty()) return;
    if (QFileInfo(path).suffix().isEmpty()) path += csv ? QStringLiteral(".csv") : QStringLiteral(".npy");
    settings.setValue(QStringLiteral("embeddings/export_dir"), QFileInfo(path).absolutePath());
    try {
        const Picked chosen = pick(*view_, rows);
        std::vector<const train::Embeddings*> parts;
        std::vector<const std::vector<float>*> xys;
        int64_t count = 0;
        for (size_t p = 0; p < chosen.parts.size(); ++p) {
            parts.push_back(&chosen.parts[p]);
            xys.push_back(&chosen.xys[p]);
            count += chosen.parts[p].rows();
        }
        const std::string csv_path = train::tracks_csv_path(path.toStdString());
        if (csv) train::write_layout_csv(parts, xys, path.toStdString());
        else train::write_embeddings(parts, path.toStdString(), csv_path);
        view_->set_status(tr("Wrote %1 tracks to %2%3")
                              .arg(count)
                              .arg(path)
                              .arg(csv ? QString() : tr(" (runs, track ids and classes in %1)").arg(qs(csv_path))));
    } catch (const std::exception& ex) {
        view_->set_status(QString::fromUtf8(ex.what()), true);
    }
}

QWidget* create_embedding_page(AppContext& ctx, QWidget* parent) {
    auto* view = new widgets::EmbeddingView(parent);
    new EmbeddingController(ctx, view); // owned by the view
    return view;
}

} // namespace gafx::app
