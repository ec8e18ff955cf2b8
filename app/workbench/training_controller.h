#pragma once
// The Training page's controller: shows the TrainingWorker's queue and its active run in a
// widgets::TrainingView, live. Curves grow from the worker's step and epoch signals (the stored
// history is read once, when a resumed run starts), so training never makes the GUI read the
// database per step. The view's buttons go straight to the worker.
#include "pages.h"

#include "store/run_status.h"

#include <QObject>
#include <QString>

namespace gafx::widgets {
class TrainingView;
}

namespace gafx::app {

class TrainingController : public QObject {
    Q_OBJECT
public:
    // A child of `view`; `ctx`'s services outlive it.
    TrainingController(AppContext& ctx, widgets::TrainingView* view);

private:
    QString factors(qint64 run);
    void update_queue();
    void started(qint64 run);
    void status(qint64 run, store::RunStatus status, const QString& message);
    void load_history(qint64 run);
    void finished(qint64 run, store::RunStatus status, const QString& message);

    AppContext& ctx_;
    widgets::TrainingView* view_;
    bool history_loaded_ = false;
};

} // namespace gafx::app
