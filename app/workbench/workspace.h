#pragma once
// The open workspace database, for the GUI thread: quick reads (metrics, datasets) go through its
// own RunStore connection; a 1 s poll of SQLite's data_version notices commits from other
// connections (the trainer thread, a `gafx train` in a terminal) and announces them. The run list
// the pages show is read on a worker thread after each commit, configs parsed there, because
// 10 000 runs take longer than a frame.
#include "experiments/experiment.h"
#include "store/run_store.h"

#include <QFutureWatcher>
#include <QObject>
#include <QString>
#include <QTimer>

#include <memory>
#include <optional>
#include <vector>

namespace gafx::app {

// A run as the pages list it: its record, and its config parsed (nullopt: it no longer parses).
struct ListedRun {
    store::RunRecord record;
    std::optional<experiments::RunConfig> config;
};
using RunList = std::vector<ListedRun>; // by run id

class Workspace : public QObject {
    Q_OBJECT
public:
    // Throws gafx::Error when the database cannot be opened.
    explicit Workspace(const QString& db_path, QObject* parent = nullptr);
    ~Workspace() override; // waits for a listing under way

    QString path() const { return path_; }
    store::RunStore& store() { return *store_; }
    // Checks for outside commits now (also done every second).
    void poll();

    // The runs as last listed; never null. Listed at once when the workspace opens, then on a
    // worker thread after each commit.
    std::shared_ptr<const RunList> runs() const { return runs_; }
    // Lists them now, on this thread (after an edit of one's own that should show at once).
    void list_runs_now();

Q_SIGNALS:
    void changed();     // something was committed by another connection
    void runsListed();  // runs() was read again
    void listFailed(const QString& reason);

private:
    void list_later();
    void listed();

    QString path_;
    std::unique_ptr<store::RunStore> store_;
    int64_t version_ = -1;
    QTimer timer_;
    std::shared_ptr<const RunList> runs_;
    struct Listing {
        std::shared_ptr<const RunList> runs;
        QString error;
        int generation = 0;
    };
    QFutureWatcher<Listing> job_;
    int generation_ = 0;
    bool again_ = false;
};

} // namespace gafx::app
