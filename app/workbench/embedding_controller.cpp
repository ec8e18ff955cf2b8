#include "embedding_controller.h"

#include "workspace.h"

#include "embedding_view.h"

#include "core/feedback.h"
#include "experiments/experiment.h"
#include "experiments/projection.h"

#include <QDir>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QPointer>
#include <QSettings>
#include <QtConcurrent/QtConcurrentRun>

namespace gafx::app {
namespace {

QString qs(const std::string& v) { return QString::fromStdString(v); }

// The rows asked for (all when none), in the same order, with their 2-D positions.
train::Embeddings pick(const train::Embeddings& e, const std::vector<float>& xy, const QList<int>& rows,
                       std::vector<float>& xy_out) {
    if (rows.isEmpty()) {
        xy_out = xy;
        return e;
    }
    train::Embeddings out;
    out.run = e.run;
    out.kind = e.kind;
    out.class_names = e.class_names;
    out.dim = e.dim;
    for (int r : rows) {
        const size_t i = size_t(r);
        out.track_ids.push_back(e.track_ids[i]);
        out.track_keys.push_back(e.track_keys[i]);
        out.true_class.push_back(e.true_class[i]);
        out.predicted_class.push_back(e.predicted_class[i]);
        out.subsets.push_back(e.subsets[i]);
        out.matrix.insert(out.matrix.end(), e.matrix.begin() + long(i) * e.dim, e.matrix.begin() + long(i + 1) * e.dim);
        xy_out.push_back(xy[2 * i]);
        xy_out.push_back(xy[2 * i + 1]);
    }
    return out;
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
    job_.waitForFinished();
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
    const qint64 run = view_->current_run();
    if (!run) return;
    train::EmbeddingJob job;
    try {
        job = train::embedding_job(ctx_.workspace->store(), run);
    } catch (const std::exception& e) {
        view_->set_status(QString::fromUtf8(e.what()), true);
        return;
    }
    const auto kind = view_->kind();
    const auto projection = view_->projection();
    QPointer<widgets::EmbeddingView> view = view_;
    feedback_ = std::make_shared<Feedback>([view](int64_t done, int64_t total, const std::string& item) {
        QMetaObject::invokeMethod(
            view,
            [view, done, total, item] {
                if (!view) return;
                view->set_busy(item == "t-SNE"
                                   ? tr("Projecting: t-SNE iteration %1 of %2...").arg(done).arg(total)
                                   : tr("Embedding track %1 of %2 (%3)...").arg(done).arg(total).arg(qs(item)));
            },
            Qt::QueuedConnection);
    });
    view_->set_busy(tr("Loading run %1's model...").arg(run));
    std::shared_ptr<Feedback> fb = feedback_;
    job_.setFuture(QtConcurrent::run([job = std::move(job), kind, projection, fb] {
        Job out;
        try {
            out.embeddings = train::compute_embeddings(job, kind, fb.get());
            const auto& e = out.embeddings;
            const QString what = kind == train::EmbeddingKind::Pooled ? tr("the classifier's pooled token")
                                                                      : tr("the feature map averaged over time");
            if (projection == widgets::EmbeddingView::Pca) {
                const auto p = experiments::pca_2d(e.matrix, e.rows(), e.dim);
                out.xy = p.xy;
                out.caption = tr("Run %1: %2 of %3 tracks (%4-D), PCA: x explains %5 %, y %6 % of the variance")
                                  .arg(e.run)
                                  .arg(what)
                                  .arg(e.rows())
                                  .arg(e.dim)
                                  .arg(p.explained.size() > 0 ? 100.0 * p.explained[0] : 0.0, 0, 'f', 1)
                                  .arg(p.explained.size() > 1 ? 100.0 * p.explained[1] : 0.0, 0, 'f', 1);
            } else {
                const auto p = experiments::tsne_2d(e.matrix, e.rows(), e.dim, {}, fb.get());
                out.xy = p.xy;
                out.caption = tr("Run %1: %2 of %3 tracks (%4-D), t-SNE (perplexity %5, KL %6): distances between "
                                 "clusters mean little")
                                  .arg(e.run)
                                  .arg(what)
                                  .arg(e.rows())
                                  .arg(e.dim)
                                  .arg(p.perplexity, 0, 'f', 1)
                                  .arg(p.kl_divergence, 0, 'f', 3);
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
    const Job job = job_.result();
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
    view_->set_points(job.embeddings, job.xy, job.caption);
    view_->set_status(tr("%1 tracks; hover names a track, a click inspects it, a lasso lists a set.")
                          .arg(job.embeddings.rows()));
}

void EmbeddingController::export_rows(const QString& format, const QList<int>& rows) {
    // The view holds what is drawn; the export takes it back from there.
    const auto& e = view_->embeddings();
    if (e.rows() == 0) return;
    const bool csv = format == QStringLiteral("csv");
    QSettings settings;
    const QString dir = settings.value(QStringLiteral("embeddings/export_dir"), QDir::homePath()).toString();
    QString path = QFileDialog::getSaveFileName(
        view_, tr("Export %n track(s)", "", int(rows.isEmpty() ? e.rows() : rows.size())),
        dir + QStringLiteral("/run%1-embeddings.%2").arg(e.run).arg(csv ? QStringLiteral("csv") : QStringLiteral("npy")),
        csv ? tr("CSV (*.csv)") : tr("NumPy array (*.npy)"));
    if (path.isEmpty()) return;
    if (QFileInfo(path).suffix().isEmpty()) path += csv ? QStringLiteral(".csv") : QStringLiteral(".npy");
    settings.setValue(QStringLiteral("embeddings/export_dir"), QFileInfo(path).absolutePath());
    try {
        std::vector<float> xy;
        const auto chosen = pick(e, view_->layout(), rows, xy);
        if (csv) train::write_layout_csv(chosen, xy, path.toStdString());
        else train::write_embeddings(chosen, path.toStdString(), train::tracks_csv_path(path.toStdString()));
        view_->set_status(tr("Wrote %1 tracks to %2%3")
                              .arg(chosen.rows())
                              .arg(path)
                              .arg(csv ? QString() : tr(" (track ids and classes in %1)")
                                                         .arg(qs(train::tracks_csv_path(path.toStdString())))));
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
