#include "training_view.h"

#include "curve_plot.h"

#include <QCheckBox>
#include <QComboBox>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSplitter>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace gafx::widgets {
namespace {

QString hms(double seconds) {
    const qint64 t = qint64(seconds + 0.5);
    return QStringLiteral("%1:%2:%3").arg(t / 3600).arg(t / 60 % 60, 2, 10, QLatin1Char('0')).arg(t % 60, 2, 10, QLatin1Char('0'));
}

} // namespace

TrainingView::TrainingView(QWidget* parent) : QWidget(parent) {
    queue_ = new QTreeWidget(this);
    queue_->setObjectName(QStringLiteral("queue"));
    queue_->setHeaderLabels({tr("Run"), tr("State"), tr("Factors")});
    queue_->setRootIsDecorated(false);
    queue_->setSelectionMode(QAbstractItemView::NoSelection);
    queue_->header()->setSectionResizeMode(2, QHeaderView::Stretch);
    queue_->setMaximumHeight(130);
    auto* queue_box = new QGroupBox(tr("Queue"), this);
    (new QVBoxLayout(queue_box))->addWidget(queue_);

    title_ = new QLabel(tr("No run has trained yet. Queue runs from the Experiment page, or resume one from the Runs page."), this);
    title_->setWordWrap(true);
    QFont bold = title_->font();
    bold.setBold(true);
    title_->setFont(bold);
    device_ = new QLabel(this);
    device_->setObjectName(QStringLiteral("deviceLabel"));
    status_ = new QLabel(this);
    status_->setObjectName(QStringLiteral("statusLabel"));
    status_->setWordWrap(true);
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    progress_ = new QProgressBar(this);
    progress_->setObjectName(QStringLiteral("progressBar"));
    progress_->setRange(0, 1);
    progress_->setValue(0);
    progress_->setFormat(QString());
    rate_ = new QLabel(this);
    rate_->setObjectName(QStringLiteral("rateLabel"));
    pause_ = new QPushButton(tr("&Pause"), this);
    pause_->setObjectName(QStringLiteral("pauseButton"));
    pause_->setToolTip(tr("Checkpoint and wait; Resume continues from the same step"));
    resume_ = new QPushButton(tr("Res&ume"), this);
    resume_->setObjectName(QStringLiteral("resumeButton"));
    cancel_ = new QPushButton(tr("&Cancel"), this);
    cancel_->setObjectName(QStringLiteral("cancelButton"));
    cancel_->setToolTip(tr("Stop after the current step (checkpointed: it can still be resumed from the Runs page)"));
    connect(pause_, &QPushButton::clicked, this, &TrainingView::pauseRequested);
    connect(resume_, &QPushButton::clicked, this, &TrainingView::resumeRequested);
    connect(cancel_, &QPushButton::clicked, this, &TrainingView::cancelRequested);
    train_on_ = new QComboBox(this);
    train_on_->setObjectName(QStringLiteral("trainOnBox"));
    train_on_->setToolTip(tr("Where runs started from now on train; a run that is training stays where it is"));
    graphs_ = new QCheckBox(tr("CUDA &graphs"), this);
    graphs_->setObjectName(QStringLiteral("cudaGraphsBox"));
    graphs_->setChecked(true);
    graphs_->setToolTip(tr("On a GPU, replay each full batch's step as one CUDA graph after 3 eager steps "
                           "(the run's notes say whether it was)"));
    connect(train_on_, &QComboBox::currentIndexChanged, this, [this](int i) {
        enable_graphs_for_choice();
        Q_EMIT deviceChosen(train_on_->itemData(i).toString(), train_on_->itemText(i));
    });
    connect(graphs_, &QCheckBox::toggled, this, &TrainingView::cudaGraphsChosen);

    loss_ = new CurvePlot(this);
    loss_->setObjectName(QStringLiteral("lossPlot"));
    loss_->set_axis_labels(tr("step"), tr("loss"));
    train_loss_ = loss_->add_curve(tr("train"), CurvePlot::palette(0));
    val_loss_ = loss_->add_curve(tr("val"), CurvePlot::palette(3), true);
    test_loss_ = loss_->add_curve(tr("test"), CurvePlot::palette(1), true);
    accuracy_ = new CurvePlot(this);
    accuracy_->setObjectName(QStringLiteral("accuracyPlot"));
    accuracy_->set_axis_labels(tr("epoch"), tr("accuracy"));
    accuracy_->set_integer_x(true);
    accuracy_->set_legend_corner(Qt::AlignBottom | Qt::AlignRight);
    val_track_acc_ = accuracy_->add_curve(tr("val track (selects)"), CurvePlot::palette(3), true);
    track_acc_ = accuracy_->add_curve(tr("test track"), CurvePlot::palette(0), true);
    clip_acc_ = accuracy_->add_curve(tr("test clip"), CurvePlot::palette(1), true);
    train_acc_ = accuracy_->add_curve(tr("train clip"), CurvePlot::palette(7), true);
    lr_ = new CurvePlot(this);
    lr_->setObjectName(QStringLiteral("lrPlot"));
    lr_->set_axis_labels(tr("step"), tr("learning rate"));
    lr_->set_log_y(true);
    lr_curve_ = lr_->add_curve(tr("lr"), CurvePlot::palette(2));

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(pause_);
    buttons->addWidget(resume_);
    buttons->addWidget(cancel_);
    buttons->addStretch(1);
    buttons->addWidget(device_);
    buttons->addSpacing(12);
    buttons->addWidget(new QLabel(tr("Train on:"), this));
    buttons->addWidget(train_on_);
    buttons->addWidget(graphs_);
    auto* progress_row = new QHBoxLayout;
    progress_row->addWidget(progress_, 1);
    progress_row->addWidget(rate_);
    auto* plots = new QSplitter(Qt::Horizontal, this);
    plots->addWidget(loss_);
    plots->addWidget(accuracy_);
    plots->addWidget(lr_);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(queue_box);
    layout->addWidget(title_);
    layout->addLayout(progress_row);
    layout->addLayout(buttons);
    layout->addWidget(status_);
    layout->addWidget(plots, 1);
    set_state(std::nullopt, {});
    status_->clear(); // no run yet
}

void TrainingView::set_queue(const QList<QueueEntry>& entries) {
    queue_->clear();
    for (const auto& e : entries) {
        auto* item = new QTreeWidgetItem(queue_, {QString::number(e.id), e.state, e.factors});
        item->setToolTip(2, e.factors);
    }
    if (entries.isEmpty()) new QTreeWidgetItem(queue_, {QString(), tr("empty"), QString()});
    queue_->resizeColumnToContents(0);
    queue_->resizeColumnToContents(1);
}

void TrainingView::show_run(qint64 run, const QString& description) {
    run_ = run;
    title_->setText(tr("Run %1: %2").arg(run).arg(description));
    for (CurvePlot* p : {loss_, accuracy_, lr_})
        for (int c = 0; c < p->curve_count(); ++c) p->set_points(c, {}, {});
    progress_->setRange(0, 1);
    progress_->setValue(0);
    progress_->setFormat(tr("starting"));
    rate_->clear();
    device_->clear();
}

void TrainingView::set_device(const QString& device, const QString& precision) {
    device_->setText(device.isEmpty() ? QString() : tr("Device: %1 · precision: %2").arg(device, precision));
}

void TrainingView::set_device_choices(const QList<QPair<QString, QString>>& choices) {
    const QSignalBlocker quiet(train_on_); // the first choice is where the worker already trains
    train_on_->clear();
    for (const auto& [id, label] : choices) train_on_->addItem(label, id);
    enable_graphs_for_choice();
}

void TrainingView::enable_graphs_for_choice() {
    graphs_->setEnabled(train_on_->currentData().toString().startsWith(QLatin1String("cuda")));
}

void TrainingView::add_step(int64_t step, double loss, double lr) {
    loss_->append(train_loss_, double(step), loss);
    lr_->append(lr_curve_, double(step), lr);
}

void TrainingView::add_epoch(const EpochPoint& e) {
    loss_->append(val_loss_, double(e.step), e.val_loss);
    loss_->append(test_loss_, double(e.step), e.test_loss);
    accuracy_->append(val_track_acc_, e.epoch, e.val_track_accuracy);
    accuracy_->append(track_acc_, e.epoch, e.test_track_accuracy);
    accuracy_->append(clip_acc_, e.epoch, e.test_clip_accuracy);
    accuracy_->append(train_acc_, e.epoch, e.train_accuracy);
}

void TrainingView::show_progress(const train::StepProgress& p) {
    // QProgressBar counts in int; a paper run has ~50 000 steps, far inside.
    progress_->setRange(0, int(std::max<int64_t>(1, p.total_steps)));
    progress_->setValue(int(p.step));
    progress_->setFormat(tr("epoch %1/%2 · batch %3/%4 · step %5/%6 (%p%)")
                             .arg(p.epoch)
                             .arg(p.epochs)
                             .arg(p.batch)
                             .arg(p.batches)
                             .arg(p.step)
                             .arg(p.total_steps));
    rate_->setText(p.clips_per_second > 0
                       ? tr("ETA %1 · %2 clips/s").arg(hms(p.eta_seconds)).arg(p.clips_per_second, 0, 'f', 1)
                       : tr("measuring speed..."));
}

void TrainingView::set_state(std::optional<store::RunStatus> status, const QString& message) {
    state_ = status;
    using store::RunStatus;
    const bool running = status == RunStatus::Running, paused = status == RunStatus::Paused;
    pause_->setEnabled(running);
    resume_->setEnabled(paused);
    cancel_->setEnabled(running || paused);
    QString text = tr("Status: %1").arg(status ? QString::fromLatin1(store::to_string(*status)) : tr("starting"));
    if (!message.isEmpty()) text += QStringLiteral(" — ") + message;
    status_->setText(text);
    // A run that died must not look like one that is fine: its reason stands out.
    status_->setStyleSheet(status && store::is_failure(*status) ? QStringLiteral("color: #c62828; font-weight: bold;")
                                                                : QString());
    if (status == RunStatus::Finished) {
        progress_->setValue(progress_->maximum());
        rate_->clear();
    } else if (!running && !paused) {
        rate_->clear();
    }
}

} // namespace gafx::widgets
