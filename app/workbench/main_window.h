#pragma once
// The workbench window: one tab per job (Datasets, Experiment, Training, Runs, Inspector), a
// status bar with the database and the device, window state and last workspace remembered.
#include "pages.h"

#include <QMainWindow>

#include <memory>

class QTabWidget;
class QLabel;

namespace gafx::app {

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    // Throws gafx::Error when the database cannot be opened.
    explicit MainWindow(const QString& db_path, QWidget* parent = nullptr);
    ~MainWindow() override;

    QTabWidget* tabs() const { return tabs_; }
    Workspace* workspace() const { return workspace_.get(); }
    TrainingWorker* trainer() const { return trainer_.get(); }
    QWidget* page(Page p) const { return pages_[p]; }
    AudioPlayer* player() const { return player_.get(); }
    AppContext& context() { return ctx_; }

protected:
    void closeEvent(QCloseEvent* e) override;

private:
    void open_workspace_dialog();
    // Services outlive the pages: ~MainWindow deletes tabs_ (every page) before these members go.
    std::unique_ptr<Workspace> workspace_;
    std::unique_ptr<TrainingWorker> trainer_;
    std::unique_ptr<AudioPlayer> player_;
    AppContext ctx_;
    QTabWidget* tabs_ = nullptr;
    QWidget* pages_[PageCount] = {};
    QLabel* db_label_ = nullptr;
    QLabel* device_label_ = nullptr;
};

} // namespace gafx::app
