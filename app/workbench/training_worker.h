#pragma once
// Runs the engine's Trainer on a worker QThread for the workbench. Runs are queued by id and
// trained one after another; every trainer callback crosses to the GUI thread as a queued
// signal, so the GUI never waits on training. Pause, resume and cancel set the trainer's
// TrainControl (atomics) directly and return at once.
#include "train/trainer.h"

#include <QList>
#include <QMetaType>
#include <QMutex>
#include <QObject>
#include <QString>
#include <QThread>

namespace gafx::app {

class TrainingWorker : public QObject {
    Q_OBJECT
public:
    // `db_path`: the trainer opens its own connection to it on the worker thread.
    explicit TrainingWorker(const QString& db_path, QObject* parent = nullptr);
    ~TrainingWorker() override; // cancels (checkpointing) and joins

    // For runs started from now on; the active one keeps its own.
    void set_options(const train::TrainOptions& options);
    train::TrainOptions options() const;
    void enqueue(const QList<qint64>& run_ids);
    void dequeue(const QList<qint64>& run_ids); // queued ids only; the active run is cancel()'s
    QList<qint64> queued() const;
    qint64 active_run() const;
    bool busy() const;

    void pause();
    void resume();
    void cancel(); // the active run; queued ones stay queued
    void interrupt_all(); // on quit: the active run checkpoints as interrupted, the queue stops

Q_SIGNALS:
    void runStarted(qint64 run);
    void stepProgress(qint64 run, const gafx::train::StepProgress& progress);
    void epochDone(qint64 run, const gafx::train::EpochReport& report);
    void statusChanged(qint64 run, gafx::store::RunStatus status, const QString& message);
    void runFinished(qint64 run, gafx::store::RunStatus status, const QString& message);
    void queueChanged();

private:
    void work(); // on the worker thread
    QString db_path_;
    QThread thread_;
    QObject runner_; // lives on thread_: queued calls to it run work() there
    mutable QMutex mutex_;
    QList<qint64> queue_;
    qint64 active_ = 0;
    bool stopping_ = false;
    train::TrainOptions options_;
    train::TrainControl* control_ = nullptr; // the active run's, guarded by mutex_
};

} // namespace gafx::app

Q_DECLARE_METATYPE(gafx::train::StepProgress)
Q_DECLARE_METATYPE(gafx::train::EpochReport)
Q_DECLARE_METATYPE(gafx::store::RunStatus)
