#include "training_controller.h"

#include "training_worker.h"
#include "workspace.h"

#include "curve_plot.h"
#include "training_view.h"

#include "experiments/experiment.h"

#include <QStatusBar>

#include <map>

namespace gafx::app {
namespace {
QString qs(const std::string& v) { return QString::fromStdString(v); }
} // namespace

using widgets::TrainingView;

TrainingController::TrainingController(AppContext& ctx, TrainingView* view) : QObject(view), ctx_(ctx), view_(view) {
    TrainingWorker* w = ctx_.trainer;
    connect(w, &TrainingWorker::queueChanged, this, &TrainingController::update_queue);
    connect(w, &TrainingWorker::runStarted, this, &TrainingController::started);
    connect(w, &TrainingWorker::statusChanged, this, &TrainingController::status);
    connect(w, &TrainingWorker::runFinished, this, &TrainingController::finished);
    connect(w, &TrainingWorker::stepProgress, this, [this](qint64 run, const train::StepProgress& p) {
        if (run != view_->run()) return;
        view_->add_step(p.step, p.loss, p.lr);
        view_->show_progress(p);
    });
    connect(w, &TrainingWorker::epochDone, this, [this](qint64 run, const train::EpochReport& r) {
        if (run != view_->run()) return;
        view_->add_epoch({r.epoch, r.step, r.train_accuracy, r.val.loss, r.val.track_accuracy, r.test.loss,
                          r.test.accuracy, r.test.track_accuracy});
    });
    connect(view_, &TrainingView::pauseRequested, w, &TrainingWorker::pause);
    connect(view_, &TrainingView::resumeRequested, w, &TrainingWorker::resume);
    connect(view_, &TrainingView::cancelRequested, w, &TrainingWorker::cancel);
    QList<QPair<QString, QString>> devices;
    for (const auto& d : train::device_choices()) devices << qMakePair(qs(d.id), qs(d.label));
    view_->set_device_choices(devices);
    connect(view_, &TrainingView::deviceChosen, this, [w](const QString& id) {
        auto o = w->options();
        o.device = id.toStdString();
        w->set_options(o);
    });
    connect(view_, &TrainingView::cudaGraphsChosen, this, [w](bool on) {
        auto o = w->options();
        o.cuda_graphs = on;
        w->set_options(o);
    });
    update_queue();
}

QString TrainingController::factors(qint64 run) {
    try {
        const auto r = ctx_.workspace->store().run(run);
        if (!r) return tr("(no such run)");
        const auto c = experiments::parse_run_config(r->config);
        return qs(experiments::describe(c, {"dataset", "extractor", "classifier", "preset", "augmentation", "pretraining",
                                            "lr", "batch_size", "epochs", "seed"}));
    } catch (const std::exception& e) {
        return QString::fromUtf8(e.what());
    }
}

void TrainingController::update_queue() {
    QList<TrainingView::QueueEntry> entries;
    const qint64 active = ctx_.trainer->active_run();
    if (active)
        entries << TrainingView::QueueEntry{active, view_->run() == active && view_->state() == store::RunStatus::Paused
                                                        ? QString::fromLatin1(store::to_string(store::RunStatus::Paused))
                                                        : tr("training"),
                                            factors(active)};
    for (qint64 id : ctx_.trainer->queued())
        entries << TrainingView::QueueEntry{id, QString::fromLatin1(store::to_string(store::RunStatus::Queued)), factors(id)};
    view_->set_queue(entries);
}

void TrainingController::started(qint64 run) {
    history_loaded_ = false;
    view_->show_run(run, factors(run));
    view_->set_state(std::nullopt, tr("loading the dataset and the model"));
    update_queue();
}

void TrainingController::status(qint64 run, store::RunStatus status, const QString& message) {
    if (run != view_->run()) started(run);
    if (status == store::RunStatus::Running && !history_loaded_) load_history(run);
    view_->set_state(status, message);
    update_queue();
}

// A resumed run continues its curves: the rows up to its checkpoint are read once, and the
// live steps follow (CurvePlot drops points that are not past its last one).
void TrainingController::load_history(qint64 run) {
    history_loaded_ = true;
    try {
        store::RunStore& store = ctx_.workspace->store();
        const auto r = store.run(run);
        if (!r) return;
        view_->set_device(qs(r->device), qs(r->precision));
        if (r->step == 0) return; // a fresh start
        std::map<int64_t, TrainingView::EpochPoint> epochs;
        std::map<int64_t, std::pair<double, double>> steps; // step -> (loss, lr)
        for (const auto& m : store.metrics(run)) {
            if (m.step > r->step) continue;
            if (m.split == "train" && m.name == "loss") steps[m.step].first = m.value;
            else if (m.split == "train" && m.name == "lr") steps[m.step].second = m.value;
            else if (m.split == "train" && m.name == "epoch_accuracy") epochs[m.epoch].train_accuracy = m.value;
            else if (m.split == "val" && m.name == "loss") epochs[m.epoch].val_loss = m.value;
            else if (m.split == "val" && m.name == "track_accuracy") epochs[m.epoch].val_track_accuracy = m.value;
            else if (m.split == "test" && m.name == "loss") epochs[m.epoch].test_loss = m.value, epochs[m.epoch].step = m.step;
            else if (m.split == "test" && m.name == "accuracy") epochs[m.epoch].test_clip_accuracy = m.value;
            else if (m.split == "test" && m.name == "track_accuracy") epochs[m.epoch].test_track_accuracy = m.value;
        }
        for (const auto& [step, v] : steps) view_->add_step(step, v.first, v.second);
        for (auto& [e, v] : epochs) {
            v.epoch = int(e);
            view_->add_epoch(v);
        }
    } catch (const std::exception& e) {
        ctx_.status->showMessage(tr("Could not read the history of run %1: %2").arg(run).arg(QString::fromUtf8(e.what())));
    }
}

void TrainingController::finished(qint64 run, store::RunStatus status, const QString& message) {
    if (run == view_->run()) view_->set_state(status, message);
    update_queue();
    const QString word = QString::fromLatin1(store::to_string(status));
    ctx_.status->showMessage(message.isEmpty() ? tr("Run %1 %2").arg(run).arg(word)
                                               : tr("Run %1 %2: %3").arg(run).arg(word, message),
                             15000);
}

QWidget* create_training_page(AppContext& ctx, QWidget* parent) {
    auto* view = new TrainingView(parent);
    new TrainingController(ctx, view); // owned by the view
    return view;
}

} // namespace gafx::app
