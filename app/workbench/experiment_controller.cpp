// Presets: every *.json in experiments/ and experiments/paper/ of the installed share folder
// (<bin>/../share/gafx-workbench/experiments) and of the source checkout the binary was built
// from (GAFX_EXPERIMENTS_SOURCE_DIR); the first folder found wins a name.
#include "experiment_controller.h"
#include "training_worker.h"
#include "workspace.h"

#include "experiment_view.h"

#include "core/error.h"
#include "experiments/experiment.h"
#include "experiments/queue.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QSaveFile>
#include <QStatusBar>

#include <algorithm>
#include <cmath>

namespace gafx::app {
namespace {

QList<QPair<QString, QString>> find_presets() {
    QStringList roots = {QCoreApplication::applicationDirPath() + QStringLiteral("/../share/gafx-workbench/experiments")};
#ifdef GAFX_EXPERIMENTS_SOURCE_DIR
    roots << QStringLiteral(GAFX_EXPERIMENTS_SOURCE_DIR);
#endif
    QList<QPair<QString, QString>> out;
    QStringList seen;
    for (const QString& root : roots)
        for (const QString& sub : {QString(), QStringLiteral("paper")}) {
            const QDir dir(sub.isEmpty() ? root : root + QLatin1Char('/') + sub);
            for (const QString& f : dir.entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name)) {
                const QString label = sub.isEmpty() ? f : sub + QLatin1Char('/') + f;
                if (seen.contains(label)) continue;
                seen << label;
                out.append({label, QDir::cleanPath(dir.absoluteFilePath(f))});
            }
        }
    return out;
}

} // namespace

ExperimentController::ExperimentController(AppContext& ctx, widgets::ExperimentView* view)
    : QObject(view), workspace_(ctx.workspace), trainer_(ctx.trainer), status_(ctx.status), show_page_(ctx.show_page),
      view_(view) {
    view_->set_presets(find_presets());
    connect(view_, &widgets::ExperimentView::edited, this, &ExperimentController::validate);
    connect(view_, &widgets::ExperimentView::presetChosen, this, [this](const QString& p) { open(p, true); });
    connect(view_, &widgets::ExperimentView::openRequested, this, [this](const QString& p) { open(p, false); });
    connect(view_, &widgets::ExperimentView::saveRequested, this, &ExperimentController::save);
    connect(view_, &widgets::ExperimentView::trainRequested, this, &ExperimentController::train);
    // Training commits every few seconds; the run and dataset lists only matter when seen.
    for (auto signal : {&Workspace::changed, &Workspace::runsListed})
        connect(workspace_, signal, this, [this] {
            if (view_->isVisible()) refresh();
            else stale_ = true;
        });
    connect(view_, &widgets::ExperimentView::shown, this, [this] {
        if (stale_) refresh();
    });
    refresh();
}

void ExperimentController::refresh() {
    stale_ = false;
    try {
        QStringList names;
        datasets_.clear();
        for (const auto& d : workspace_->store().list_datasets()) {
            datasets_.insert(d.name);
            names << QString::fromStdString(d.name);
        }
        // Rebuilt only when the finished runs or their figures changed: the list is a combo box of
        // every finished run (10 000 in a big workspace) and commits come every second.
        std::vector<std::pair<int64_t, double>> sig;
        for (const ListedRun& l : *workspace_->runs())
            if (l.record.status == store::RunStatus::Finished) sig.push_back({l.record.id, l.record.val_track_accuracy});
        const bool same = sig.size() == runs_sig_.size() &&
                          std::equal(sig.begin(), sig.end(), runs_sig_.begin(), [](const auto& a, const auto& b) {
                              return a.first == b.first && (a.second == b.second || (std::isnan(a.second) && std::isnan(b.second)));
                          });
        view_->set_datasets(names);
        if (!same) {
            QList<QPair<qint64, QString>> runs;
            for (const ListedRun& l : *workspace_->runs()) {
                const store::RunRecord& r = l.record;
                if (r.status != store::RunStatus::Finished) continue;
                QString what;
                if (const auto& c = l.config)
                    what = QStringLiteral(" %1 + %2 on %3").arg(QString::fromStdString(c->extractor),
                                                                QString::fromStdString(c->classifier),
                                                                QString::fromStdString(c->dataset));
                // Val, not test: a run chosen to start from is chosen on what val says.
                const QString acc = std::isnan(r.val_track_accuracy)
                                        ? QString()
                                        : QStringLiteral(" (val %1 %)").arg(100 * r.val_track_accuracy, 0, 'f', 1);
                runs.append({r.id, QStringLiteral("#%1 %2:%3%4").arg(r.id).arg(QString::fromStdString(r.experiment), what, acc)});
            }
            runs_sig_ = std::move(sig);
            view_->set_runs(runs);
        }
    } catch (const std::exception& e) {
        view_->set_message(QString::fromStdString(e.what()), true);
    }
    validate();
}

bool ExperimentController::validate() {
    view_->clear_errors();
    try {
        experiments::parse_experiment(view_->to_json(), {},
                                      [this](const std::string& name) { return datasets_.count(name) > 0; });
        view_->set_train_enabled(true);
        return true;
    } catch (const Error& e) {
        show_error(e);
    } catch (const std::exception& e) { // a slot's edge: nothing may escape into Qt's event loop
        view_->set_message(QString::fromStdString(e.what()), true);
    }
    view_->set_train_enabled(false);
    return false;
}

// The engine words the reason for a form; a key the view has no field for (or none) goes to
// the message line.
void ExperimentController::show_error(const Error& e) {
    view_->set_field_error(QString::fromStdString(e.field().key), QString::fromStdString(e.reason()));
}

void ExperimentController::open(const QString& path, bool preset) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        view_->set_message(tr("%1: cannot open the experiment file").arg(path), true);
        return;
    }
    const std::string text = f.readAll().toStdString();
    try {
        experiments::parse_experiment(text, path.toStdString()); // any dataset name: a file may come from elsewhere
    } catch (const std::exception& e) {
        view_->set_message(QString::fromStdString(e.what()), true);
        return;
    }
    view_->load_json(text);
    // A preset is a starting point: saving must not overwrite the shipped file.
    view_->set_file_path(preset ? QString() : path);
    if (status_) status_->showMessage(tr("Loaded %1").arg(path), 5000);
}

void ExperimentController::save(const QString& path) {
    const std::string text = view_->to_json();
    try {
        experiments::parse_experiment(text, path.toStdString());
    } catch (const std::exception& e) {
        view_->set_message(tr("Not saved: %1").arg(QString::fromStdString(e.what())), true);
        return;
    }
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(QByteArray::fromStdString(text + "\n")) < 0 || !f.commit()) {
        view_->set_message(tr("%1: cannot write (%2)").arg(path, f.errorString()), true);
        return;
    }
    try { // what gafx train will read
        const auto ex = experiments::read_experiment(path.toStdString());
        const QString msg = tr("Saved %1 (%2 runs)").arg(path).arg(ex.runs.size());
        view_->set_message(msg, false);
        if (status_) status_->showMessage(msg, 5000);
    } catch (const std::exception& e) {
        view_->set_message(QString::fromStdString(e.what()), true);
    }
}

void ExperimentController::train() {
    if (!validate()) return;
    experiments::Experiment ex;
    experiments::QueuedExperiment queued;
    try {
        ex = experiments::parse_experiment(view_->to_json(), {});
        // Checks the datasets against the workspace as it is now, not as last refreshed.
        queued = experiments::queue(workspace_->store(), ex);
    } catch (const Error& e) {
        if (!e.field().key.empty()) show_error(e);
        else view_->set_message(QString::fromStdString(e.what()), true); // the store: a full disk, a lock
        return;
    } catch (const std::exception& e) {
        view_->set_message(QString::fromStdString(e.what()), true);
        return;
    }
    workspace_->poll(); // the other pages list the new runs
    QList<qint64> ids;
    for (const int64_t id : queued.run_ids) ids << qint64(id);
    trainer_->enqueue(ids);
    const QString msg = tr("%1: %2 run(s) queued (ids %3-%4)")
                            .arg(QString::fromStdString(ex.name))
                            .arg(ids.size())
                            .arg(ids.front())
                            .arg(ids.back());
    view_->set_message(msg, false);
    if (status_) status_->showMessage(msg, 10000);
    if (show_page_) show_page_(TrainingPage);
}

QWidget* create_experiment_page(AppContext& ctx, QWidget* parent) {
    auto* view = new widgets::ExperimentView(parent);
    new ExperimentController(ctx, view);
    return view;
}

} // namespace gafx::app
