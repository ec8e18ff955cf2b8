#include "training_worker.h"

#include "data/waveform_cache.h"
#include "store/run_store.h"

#include <QMetaObject>
#include <QMutexLocker>

#include <memory>

namespace gafx::app {

TrainingWorker::TrainingWorker(const QString& db_path, QObject* parent) : QObject(parent), db_path_(db_path) {
    qRegisterMetaType<gafx::train::StepProgress>();
    qRegisterMetaType<gafx::train::EpochReport>();
    options_.device = train::default_device(); // the Training page's first choice (train::device_choices)
    thread_.setObjectName(QStringLiteral("training"));
    runner_.moveToThread(&thread_);
    thread_.start();
}

TrainingWorker::~TrainingWorker() {
    interrupt_all();
    thread_.quit();
    thread_.wait();
}

void TrainingWorker::set_options(const train::TrainOptions& options) {
    QMutexLocker lock(&mutex_);
    options_ = options;
}

train::TrainOptions TrainingWorker::options() const {
    QMutexLocker lock(&mutex_);
    return options_;
}

void TrainingWorker::enqueue(const QList<qint64>& run_ids) {
    {
        QMutexLocker lock(&mutex_);
        stopping_ = false;
        for (qint64 id : run_ids)
            if (!queue_.contains(id) && id != active_) queue_.append(id);
    }
    Q_EMIT queueChanged();
    // A work() already running picks the new ids up; one queued behind it finds nothing left.
    QMetaObject::invokeMethod(&runner_, [this] { work(); }, Qt::QueuedConnection);
}

void TrainingWorker::dequeue(const QList<qint64>& run_ids) {
    {
        QMutexLocker lock(&mutex_);
        for (qint64 id : run_ids) queue_.removeAll(id);
    }
    Q_EMIT queueChanged();
}

QList<qint64> TrainingWorker::queued() const {
    QMutexLocker lock(&mutex_);
    return queue_;
}

qint64 TrainingWorker::active_run() const {
    QMutexLocker lock(&mutex_);
    return active_;
}

bool TrainingWorker::busy() const {
    QMutexLocker lock(&mutex_);
    return active_ != 0 || !queue_.isEmpty();
}

void TrainingWorker::pause() {
    QMutexLocker lock(&mutex_);
    if (control_) control_->request(train::TrainControl::Pause);
}

void TrainingWorker::resume() {
    QMutexLocker lock(&mutex_);
    if (control_) control_->resume();
}

void TrainingWorker::cancel() {
    QMutexLocker lock(&mutex_);
    if (control_) control_->request(train::TrainControl::Cancel);
}

void TrainingWorker::interrupt_all() {
    QMutexLocker lock(&mutex_);
    stopping_ = true;
    queue_.clear();
    if (control_) control_->request(train::TrainControl::Interrupt);
}

void TrainingWorker::work() {
    std::unique_ptr<store::RunStore> store;
    const std::string cache_dir = data::WaveformCache::default_dir();
    std::unique_ptr<data::WaveformCache> cache =
        cache_dir.empty() ? nullptr : std::make_unique<data::WaveformCache>(cache_dir);
    for (;;) {
        train::TrainControl control;
        train::TrainOptions options;
        qint64 run = 0;
        {
            QMutexLocker lock(&mutex_);
            if (queue_.isEmpty() || stopping_) {
                active_ = 0;
                break;
            }
            run = queue_.takeFirst();
            active_ = run;
            control_ = &control;
            options = options_;
        }
        Q_EMIT queueChanged();
        Q_EMIT runStarted(run);
        train::TrainCallbacks cb;
        cb.on_status = [this, run](store::RunStatus status, const std::string& message) {
            Q_EMIT statusChanged(run, status, QString::fromStdString(message));
        };
        cb.on_step = [this, run](const train::StepProgress& p) { Q_EMIT stepProgress(run, p); };
        cb.on_epoch = [this, run](const train::EpochReport& r) { Q_EMIT epochDone(run, r); };
        train::RunResult result;
        try {
            if (!store) store = std::make_unique<store::RunStore>(db_path_.toStdString());
            options.cache = cache.get();
            result = train::train_run(*store, run, options, control, cb);
        } catch (const std::exception& e) {
            result.status = store::RunStatus::Failed;
            result.message = e.what();
        }
        {
            QMutexLocker lock(&mutex_);
            control_ = nullptr;
            active_ = 0;
        }
        Q_EMIT runFinished(run, result.status, QString::fromStdString(result.message));
        Q_EMIT queueChanged();
    }
}

} // namespace gafx::app
