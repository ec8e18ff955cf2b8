#pragma once
// The embedding explorer's controller: lists the runs that have weights, computes the checked
// runs' embeddings and each run's 2-D projection on a worker thread (train/embeddings.h,
// experiments/projection.h) with progress and cancel, names what sets each run apart
// (experiments::varying_levels), opens a clicked track in the Inspector, and exports the
// lassoed tracks.
#include "embedding_view.h"
#include "pages.h"

#include "train/embeddings.h"

#include <QFutureWatcher>
#include <QObject>
#include <QString>

#include <memory>
#include <vector>

namespace gafx {
class Feedback;
}

namespace gafx::app {

class EmbeddingController : public QObject {
    Q_OBJECT
public:
    // Owned by `view`.
    EmbeddingController(AppContext& ctx, widgets::EmbeddingView* view);
    ~EmbeddingController() override; // cancels a running job and waits for it

protected:
    bool eventFilter(QObject* watched, QEvent* event) override; // the page shown: catch up

private:
    struct Job {
        std::vector<widgets::EmbeddingPanel> panels;
        QString caption, error;
        bool cancelled = false;
    };
    void refresh_runs();
    void compute(); // or cancel the running one
    void finished();
    void export_rows(const QString& format, const QList<int>& rows);

    AppContext& ctx_;
    widgets::EmbeddingView* view_;
    QFutureWatcher<Job> job_;
    std::shared_ptr<Feedback> feedback_;
    QString runs_sig_;
    bool stale_ = false; // runs changed while the page was hidden
};

} // namespace gafx::app
