#pragma once
// The Training page's view: the run queue (active run first, then the queued ones, each with
// its factors), the active run's live curves (loss, accuracy per epoch, learning rate), an
// epoch/step progress bar with ETA and throughput, device and precision, pause / resume /
// cancel, and the run's state with the reason when it stops. It only draws and emits;
// app/workbench/training_controller.cpp feeds it from the TrainingWorker.
#include "train/trainer.h"

#include <QList>
#include <QPair>
#include <QWidget>

#include <optional>

class QCheckBox;
class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QTreeWidget;

namespace gafx::widgets {

class CurvePlot;

class TrainingView : public QWidget {
    Q_OBJECT
public:
    struct QueueEntry {
        qint64 id = 0;
        QString state;   // what the queue shows: training, or the run status word
        QString factors; // "extractor=mel classifier=ast-tiny ... seed=3"
    };

    explicit TrainingView(QWidget* parent = nullptr);

    void set_queue(const QList<QueueEntry>& entries);
    // Starts showing `run`: empty curves and progress, no device yet.
    void show_run(qint64 run, const QString& description);
    qint64 run() const { return run_; }
    void set_device(const QString& device, const QString& precision);
    // Where runs started from now on train: (id, label) pairs, the first one chosen. CUDA graphs
    // can be chosen only for a GPU.
    void set_device_choices(const QList<QPair<QString, QString>>& choices);
    // One optimiser step (live, or from the stored history of a resumed run).
    void add_step(int64_t step, double loss, double lr);
    // One evaluated epoch; `step` places the val and test losses on the loss plot's step axis.
    struct EpochPoint {
        int epoch = 0;
        int64_t step = 0;
        double train_accuracy = 0, val_loss = 0, val_track_accuracy = 0, test_loss = 0, test_clip_accuracy = 0,
               test_track_accuracy = 0;
    };
    void add_epoch(const EpochPoint& e);
    void show_progress(const train::StepProgress& p);
    // running | paused | finished | cancelled | interrupted | failed | diverged, and why.
    // nullopt: the run is starting (loading its dataset and model).
    void set_state(std::optional<store::RunStatus> status, const QString& message);
    std::optional<store::RunStatus> state() const { return state_; }

    CurvePlot* loss_plot() const { return loss_; }
    CurvePlot* accuracy_plot() const { return accuracy_; }
    CurvePlot* lr_plot() const { return lr_; }

Q_SIGNALS:
    void pauseRequested();
    void resumeRequested();
    void cancelRequested();
    void deviceChosen(const QString& id, const QString& label);
    void cudaGraphsChosen(bool on);

private:
    QTreeWidget* queue_ = nullptr;
    QLabel* title_ = nullptr;
    QLabel* device_ = nullptr;
    QLabel* status_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* rate_ = nullptr;
    QPushButton* pause_ = nullptr;
    QPushButton* resume_ = nullptr;
    QPushButton* cancel_ = nullptr;
    QComboBox* train_on_ = nullptr;
    QCheckBox* graphs_ = nullptr;
    void enable_graphs_for_choice(); // CUDA graphs: a GPU's option only
    CurvePlot* loss_ = nullptr;
    CurvePlot* accuracy_ = nullptr;
    CurvePlot* lr_ = nullptr;
    qint64 run_ = 0;
    std::optional<store::RunStatus> state_;
    // Curve indices on the plots.
    int train_loss_ = 0, val_loss_ = 0, test_loss_ = 0, val_track_acc_ = 0, track_acc_ = 0, clip_acc_ = 0,
        train_acc_ = 0, lr_curve_ = 0;
};

} // namespace gafx::widgets
