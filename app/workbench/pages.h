#pragma once
// The main window's pages. Each create_* builds its widgets (from widgets/) and wires them to
// the workspace and the trainer; it lives in <name>_controller.cpp. Pages talk to each other only
// through the Workspace's changed() signal and AppContext::show_page.
#include <QWidget>

#include <functional>

class QStatusBar;

namespace gafx::app {

class Workspace;
class TrainingWorker;
class AudioPlayer;

enum Page { DatasetsPage = 0, ExperimentPage, TrainingPage, RunsPage, InspectorPage, EmbeddingsPage, PageCount };

// What every page's controller shares. Ownership: MainWindow owns the workspace, the trainer and
// this context, creates them before the pages and destroys them after (its destructor deletes the
// pages, and with them their controllers, first), so a controller may use every member until its
// own destructor has returned. The controllers own nothing here; the inspector's controller sets
// `inspect` and clears it when it is destroyed.
struct AppContext {
    Workspace* workspace = nullptr;   // the open database, for the GUI thread
    TrainingWorker* trainer = nullptr; // the worker thread training queued runs
    QStatusBar* status = nullptr;     // the window's
    AudioPlayer* player = nullptr;    // the one audio player every page shares
    std::function<void(Page)> show_page;
    // Opens the inspector on these runs (and optionally a track id; 0: keep the current one).
    std::function<void(const QList<qint64>& runs, qint64 track)> inspect;
    // Plays a track of any dataset from its start (the inspector's controller sets it).
    std::function<void(qint64 track)> play;
};

QWidget* create_datasets_page(AppContext& ctx, QWidget* parent);
QWidget* create_experiment_page(AppContext& ctx, QWidget* parent);
QWidget* create_training_page(AppContext& ctx, QWidget* parent);
QWidget* create_runs_page(AppContext& ctx, QWidget* parent);
QWidget* create_inspector_page(AppContext& ctx, QWidget* parent);
QWidget* create_embedding_page(AppContext& ctx, QWidget* parent);

} // namespace gafx::app
