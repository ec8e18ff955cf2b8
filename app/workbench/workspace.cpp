#include "workspace.h"

#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <exception>

namespace gafx::app {
namespace {

// A run's config never changes once queued: configs parsed for `before` are reused.
std::shared_ptr<const RunList> list_runs(store::RunStore& store, const RunList& before) {
    auto out = std::make_shared<RunList>();
    auto records = store.list_runs();
    out->reserve(records.size());
    auto old = before.begin();
    for (auto& r : records) {
        ListedRun run;
        old = std::lower_bound(old, before.end(), r.id,
                               [](const ListedRun& a, int64_t id) { return a.record.id < id; });
        if (old != before.end() && old->record.id == r.id && old->record.config == r.config) {
            run.config = old->config;
        } else {
            try {
                run.config = experiments::parse_run_config(r.config);
            } catch (const std::exception&) {
            }
        }
        run.record = std::move(r);
        out->push_back(std::move(run));
    }
    return out;
}

} // namespace

Workspace::Workspace(const QString& db_path, QObject* parent)
    : QObject(parent), path_(db_path), store_(std::make_unique<store::RunStore>(db_path.toStdString())),
      runs_(std::make_shared<RunList>()) {
    version_ = store_->data_version();
    connect(&timer_, &QTimer::timeout, this, &Workspace::poll);
    connect(&job_, &QFutureWatcher<Listing>::finished, this, &Workspace::listed);
    // Named in bench_gui_stall's list of the costliest events.
    job_.setObjectName(QStringLiteral("workspaceRunList"));
    timer_.setObjectName(QStringLiteral("workspacePoll"));
    timer_.start(1000);
    try {
        runs_ = list_runs(*store_, {});
    } catch (const std::exception&) { // an unreadable run table shows on each page's own read
    }
}

Workspace::~Workspace() {
    // Only while running: once listed() has taken the result, waiting on the future never returns.
    if (job_.isRunning()) job_.waitForFinished();
}

void Workspace::poll() {
    // A timer's slot: a locked or vanished database is tried again at the next tick.
    int64_t v = version_;
    try {
        v = store_->data_version();
    } catch (const std::exception&) {
        return;
    }
    if (v == version_) return;
    version_ = v;
    Q_EMIT changed();
    list_later();
}

void Workspace::list_runs_now() {
    try {
        runs_ = list_runs(*store_, *runs_);
        ++generation_; // a listing under way started before this one: older
        Q_EMIT runsListed();
    } catch (const std::exception& e) {
        Q_EMIT listFailed(QString::fromUtf8(e.what()));
    }
}

void Workspace::list_later() {
    if (job_.isRunning()) {
        again_ = true; // listed() starts one more
        return;
    }
    const std::string db = path_.toStdString();
    job_.setFuture(QtConcurrent::run([db, before = runs_, generation = generation_] {
        Listing out;
        out.generation = generation;
        try {
            store::RunStore store(db); // a connection of the worker's own
            out.runs = list_runs(store, *before);
        } catch (const std::exception& e) {
            out.error = QString::fromUtf8(e.what());
        }
        return out;
    }));
}

void Workspace::listed() {
    Listing l = job_.future().takeResult();
    if (l.generation != generation_) again_ = true; // list_runs_now() came in meanwhile
    else if (!l.error.isEmpty()) Q_EMIT listFailed(l.error);
    else {
        runs_ = std::move(l.runs);
        Q_EMIT runsListed();
    }
    if (again_) {
        again_ = false;
        list_later();
    }
}

} // namespace gafx::app
