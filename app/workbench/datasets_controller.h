#pragma once
// The Datasets page's controller: wires a widgets::DatasetsView to the workspace. Imports, demo
// writing and re-splits run on QtConcurrent with their own RunStore connection through
// engine/workflows (the calls `gafx dataset` makes), report progress through a QPromise and
// stop through a gafx::Feedback; the GUI thread only reads the dataset list and the chosen
// dataset through the Workspace.
#include "pages.h"

#include <QFutureWatcher>
#include <QObject>
#include <QString>

#include <map>
#include <memory>

namespace gafx {
class Feedback;
}
namespace gafx::store {
struct DatasetSummary;
}
namespace gafx::widgets {
class DatasetsView;
}

namespace gafx::app {

class AudioPlayer;

// What a finished job leaves for the GUI thread: the dataset to select and a message, or an error.
struct DatasetJobResult {
    QString dataset, message, error;
};

class DatasetsController : public QObject {
    Q_OBJECT
public:
    // A child of `view`; takes the workspace and the status bar (may be null) from `ctx`.
    DatasetsController(AppContext& ctx, widgets::DatasetsView* view);
    // A job still running finishes on its own thread; it is asked to stop.
    ~DatasetsController() override;

private:
    struct Job;
    static QString signature(const store::DatasetSummary& d);
    void refresh(bool force);
    void load(const QString& name);
    void start_import(bool demo);
    void start_resplit();
    void start(Job job, const QString& what);
    void job_finished();
    // The play bar, a double click and the space bar play the current track (nothing without a player).
    void wire_playback(AudioPlayer* player);

    Workspace* workspace_;
    QStatusBar* status_;
    widgets::DatasetsView* view_;
    QFutureWatcher<DatasetJobResult>* watcher_ = nullptr;
    std::shared_ptr<Feedback> feedback_;
    std::map<QString, QString> signatures_; // dataset name -> its summary at the last refresh
    QString wanted_;                        // select this one at the next refresh
    QString loaded_, loaded_signature_;     // what the table shows
    int loads_ = 0;
    bool stale_ = false;
};

} // namespace gafx::app
