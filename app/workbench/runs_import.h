#pragma once
// "Import runs…" on the Runs page: the runs of other workspaces (shards, Slurm tasks, another
// machine) merged into this one by workflows::import_runs on a worker thread, with its own
// connection, since copying run folders takes as long as their checkpoints are big. What happened
// is said in the page's message line, one line per run in its tooltip.
#include <QFutureWatcher>
#include <QObject>
#include <QStringList>

namespace gafx::widgets {
class RunsView;
}

namespace gafx::app {

struct AppContext;

class RunsImporter : public QObject {
    Q_OBJECT
public:
    RunsImporter(AppContext& ctx, widgets::RunsView* view); // owned by `view`
    ~RunsImporter() override;                               // waits for an import under way

    // Asks for the files, then start().
    void ask();
    // Imports `files` into the open workspace; finished() when done.
    void start(const QStringList& files);
    bool busy() const { return job_.isRunning(); }

Q_SIGNALS:
    void finished(bool problems);

private:
    struct Outcome {
        QStringList lines; // every line of workflows::describe
        QStringList shown; // each file's line and the runs that need attention
        bool problems = false;
        QString error; // the whole import stopped (a file that is not a workspace)
    };
    void done();

    AppContext& ctx_;
    widgets::RunsView* view_;
    QFutureWatcher<Outcome> job_;
};

} // namespace gafx::app
