#include "main_window.h"

#include "audio_player.h"
#include "training_worker.h"
#include "workspace.h"

#include "training_view.h"

#include "train/trainer.h"

#include <QAction>
#include <QCloseEvent>
#include <QCoreApplication>
#include <QFileDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QProcess>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>

namespace gafx::app {

MainWindow::MainWindow(const QString& db_path, QWidget* parent)
    : QMainWindow(parent), workspace_(std::make_unique<Workspace>(db_path)),
      trainer_(std::make_unique<TrainingWorker>(db_path)), player_(std::make_unique<AudioPlayer>()) {
    setWindowTitle(QStringLiteral("GAFX Workbench"));
    ctx_.workspace = workspace_.get();
    ctx_.trainer = trainer_.get();
    ctx_.status = statusBar();
    ctx_.player = player_.get();
    tabs_ = new QTabWidget(this);
    tabs_->setDocumentMode(true);
    ctx_.show_page = [this](Page p) { tabs_->setCurrentIndex(int(p)); };
    setCentralWidget(tabs_);

    pages_[DatasetsPage] = create_datasets_page(ctx_, tabs_);
    pages_[ExperimentPage] = create_experiment_page(ctx_, tabs_);
    pages_[TrainingPage] = create_training_page(ctx_, tabs_);
    pages_[RunsPage] = create_runs_page(ctx_, tabs_);
    pages_[InspectorPage] = create_inspector_page(ctx_, tabs_);
    pages_[EmbeddingsPage] = create_embedding_page(ctx_, tabs_);
    const char* names[PageCount] = {"&Datasets", "&Experiment", "&Training", "&Runs", "&Inspector", "E&mbeddings"};
    for (int i = 0; i < PageCount; ++i) tabs_->addTab(pages_[i], tr(names[i]));

    auto* file = menuBar()->addMenu(tr("&File"));
    auto* open = file->addAction(tr("&Open workspace..."), this, &MainWindow::open_workspace_dialog);
    open->setShortcut(QKeySequence::Open);
    file->addSeparator();
    auto* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
    auto* view = menuBar()->addMenu(tr("&View"));
    for (int i = 0; i < PageCount; ++i) {
        auto* a = view->addAction(tabs_->tabText(i).remove(QLatin1Char('&')), this,
                                  [this, i] { tabs_->setCurrentIndex(i); });
        a->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + i)));
    }

    db_label_ = new QLabel(tr("Database: %1").arg(db_path), this);
    db_label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // Where new runs train: the Training page's choice, at first the first of the engine's.
    device_label_ = new QLabel(tr("Device: %1").arg(QString::fromStdString(train::device_choices().front().label)), this);
    device_label_->setObjectName(QStringLiteral("deviceStatus"));
    auto* training = qobject_cast<widgets::TrainingView*>(pages_[TrainingPage]);
    connect(training, &widgets::TrainingView::deviceChosen, this,
            [this](const QString&, const QString& label) { device_label_->setText(tr("Device: %1").arg(label)); });
    statusBar()->addPermanentWidget(db_label_);
    statusBar()->addPermanentWidget(device_label_);

    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    tabs_->setCurrentIndex(settings.value(QStringLiteral("window/page"), 0).toInt());
    settings.setValue(QStringLiteral("workspace/last"), db_path);
}

MainWindow::~MainWindow() {
    // Pages and their controllers go first, while the services they use (members below) live:
    // Qt would otherwise delete them as children after the members are gone.
    delete tabs_;
    tabs_ = nullptr;
}

void MainWindow::closeEvent(QCloseEvent* e) {
    if (trainer_->busy()) {
        const auto answer = QMessageBox::question(
            this, tr("Training in progress"),
            tr("A run is training. Quit anyway? It is checkpointed and marked interrupted; "
               "resume it later from the Runs page or with gafx resume."));
        if (answer != QMessageBox::Yes) {
            e->ignore();
            return;
        }
    }
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    settings.setValue(QStringLiteral("window/page"), tabs_->currentIndex());
    trainer_->interrupt_all();
    e->accept();
}

void MainWindow::open_workspace_dialog() {
    const QString path = QFileDialog::getSaveFileName(this, tr("Open or create a workspace"), workspace_->path(),
                                                      tr("Workspace (*.db)"), nullptr,
                                                      QFileDialog::DontConfirmOverwrite);
    if (path.isEmpty() || path == workspace_->path()) return;
    // A workspace is one database; the simplest correct switch is a fresh window on it.
    QSettings().setValue(QStringLiteral("workspace/last"), path);
    if (QProcess::startDetached(QCoreApplication::applicationFilePath(), {QStringLiteral("--db"), path})) close();
}

} // namespace gafx::app
