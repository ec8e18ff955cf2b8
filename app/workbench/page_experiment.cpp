// The Experiment page: wires widgets::ExperimentForm to the experiment parser, the workspace
// and the trainer. Every edit is validated by experiments::parse_experiment, and the JSON path
// of its error ("$.base.lr: must be greater than 0") picks the field to mark. Train does what
// `gafx train` does (create the experiment and its runs), then queues the runs on the trainer.
//
// Presets: every *.json in experiments/ and experiments/paper/ of the installed share folder
// (<bin>/../share/gafx-workbench/experiments) and of the source checkout the binary was built
// from (GAFX_EXPERIMENTS_SOURCE_DIR); the first folder found wins a name.
#include "pages.h"
#include "training_worker.h"
#include "workspace.h"

#include "experiment_form.h"

#include "core/error.h"
#include "experiments/experiment.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QSaveFile>
#include <QStatusBar>

#include <cmath>
#include <set>

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

// "$.base.lr: must be greater than 0", "$.grid.seed[1]: ...", "$ (run 2 of 4).pretrained_run: ..."
// -> the key and the message. A path without a key (the clip plan) gives an empty key.
QPair<QString, QString> field_of(const std::string& reason) {
    static const QRegularExpression re(
        QStringLiteral(R"(^\$(?:\.base|\.grid| \(run \d+ of \d+\))?(?:\.(\w+))?(?:\[\d+\])?: (.*)$)"),
        QRegularExpression::DotMatchesEverythingOption);
    const QString r = QString::fromStdString(reason);
    const auto m = re.match(r);
    if (!m.hasMatch()) return {QString(), r};
    const QString key = m.captured(1);
    QString message = m.captured(2);
    // The form writes an empty field as null and an unticked factor as an empty list.
    message.replace(QStringLiteral(", got null"), QStringLiteral(", but the field is empty"));
    if (message == QStringLiteral("expected a non-empty list of values"))
        message = key == "lr" || key == "batch_size" || key == "seed" ? QObject::tr("enter at least one value")
                                                                       : QObject::tr("choose at least one");
    return {key, message};
}

class ExperimentController : public QObject {
public:
    ExperimentController(AppContext& ctx, widgets::ExperimentForm* form)
        : QObject(form), workspace_(ctx.workspace), trainer_(ctx.trainer), status_(ctx.status), show_page_(ctx.show_page),
          form_(form) {
        form_->set_presets(find_presets());
        connect(form_, &widgets::ExperimentForm::edited, this, &ExperimentController::validate);
        connect(form_, &widgets::ExperimentForm::presetChosen, this, [this](const QString& p) { open(p, true); });
        connect(form_, &widgets::ExperimentForm::openRequested, this, [this](const QString& p) { open(p, false); });
        connect(form_, &widgets::ExperimentForm::saveRequested, this, &ExperimentController::save);
        connect(form_, &widgets::ExperimentForm::trainRequested, this, &ExperimentController::train);
        // Training commits every few seconds; the run and dataset lists only matter when seen.
        connect(workspace_, &Workspace::changed, this, [this] {
            if (form_->isVisible()) refresh();
            else stale_ = true;
        });
        connect(form_, &widgets::ExperimentForm::shown, this, [this] {
            if (stale_) refresh();
        });
        refresh();
    }

private:
    void refresh() {
        stale_ = false;
        try {
            QStringList names;
            datasets_.clear();
            for (const auto& d : workspace_->store().list_datasets()) {
                datasets_.insert(d.name);
                names << QString::fromStdString(d.name);
            }
            QList<QPair<qint64, QString>> runs;
            for (const auto& r : workspace_->store().list_runs()) {
                if (r.status != store::RunStatus::Finished) continue;
                QString what;
                try {
                    const auto c = experiments::parse_run_config(r.config);
                    what = QStringLiteral(" %1 + %2 on %3").arg(QString::fromStdString(c.extractor),
                                                                QString::fromStdString(c.classifier),
                                                                QString::fromStdString(c.dataset));
                } catch (const std::exception&) {
                }
                const QString acc = std::isnan(r.best_track_accuracy)
                                        ? QString()
                                        : QStringLiteral(" (%1 %)").arg(100 * r.best_track_accuracy, 0, 'f', 1);
                runs.append({r.id, QStringLiteral("#%1 %2:%3%4").arg(r.id).arg(QString::fromStdString(r.experiment), what, acc)});
            }
            form_->set_datasets(names);
            form_->set_runs(runs);
        } catch (const std::exception& e) {
            form_->set_message(QString::fromStdString(e.what()), true);
        }
        validate();
    }

    // Shows the parser's first complaint at its field; Train only for an experiment that parses.
    bool validate() {
        form_->clear_errors();
        try {
            experiments::parse_experiment(form_->to_json(), {},
                                          [this](const std::string& name) { return datasets_.count(name) > 0; });
            form_->set_train_enabled(true);
            return true;
        } catch (const Error& e) {
            const auto [key, message] = field_of(e.reason());
            form_->set_field_error(key, message);
            if (key.isEmpty() && message.contains(QStringLiteral("do not fit")))
                form_->set_field_error(QStringLiteral("track_seconds"), message);
        }
        form_->set_train_enabled(false);
        return false;
    }

    void open(const QString& path, bool preset) {
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly)) {
            form_->set_message(tr("%1: cannot open the experiment file").arg(path), true);
            return;
        }
        const std::string text = f.readAll().toStdString();
        try {
            experiments::parse_experiment(text, path.toStdString()); // any dataset name: a file may come from elsewhere
        } catch (const Error& e) {
            form_->set_message(QString::fromStdString(e.what()), true);
            return;
        }
        form_->load_json(text);
        // A preset is a starting point: saving must not overwrite the shipped file.
        form_->set_file_path(preset ? QString() : path);
        if (status_) status_->showMessage(tr("Loaded %1").arg(path), 5000);
    }

    void save(const QString& path) {
        const std::string text = form_->to_json();
        try {
            experiments::parse_experiment(text, path.toStdString());
        } catch (const Error& e) {
            form_->set_message(tr("Not saved: %1").arg(QString::fromStdString(e.what())), true);
            return;
        }
        QSaveFile f(path);
        if (!f.open(QIODevice::WriteOnly) || f.write(QByteArray::fromStdString(text + "\n")) < 0 || !f.commit()) {
            form_->set_message(tr("%1: cannot write (%2)").arg(path, f.errorString()), true);
            return;
        }
        try { // what gafx train will read
            const auto ex = experiments::read_experiment(path.toStdString());
            const QString msg = tr("Saved %1 (%2 runs)").arg(path).arg(ex.runs.size());
            form_->set_message(msg, false);
            if (status_) status_->showMessage(msg, 5000);
        } catch (const Error& e) {
            form_->set_message(QString::fromStdString(e.what()), true);
        }
    }

    void train() {
        if (!validate()) return;
        try {
            store::RunStore& db = workspace_->store();
            std::set<std::string> now; // the list may have changed since the last refresh
            for (const auto& d : db.list_datasets()) now.insert(d.name);
            const auto ex = experiments::parse_experiment(form_->to_json(), {},
                                                          [&now](const std::string& name) { return now.count(name) > 0; });
            const int64_t exp_id = db.create_experiment(ex.name, ex.source);
            QList<qint64> ids;
            for (const auto& r : ex.runs) ids << db.create_run(exp_id, experiments::to_json(r), int64_t(r.seed));
            workspace_->poll(); // the other pages list the new runs
            trainer_->enqueue(ids);
            const QString msg = tr("%1: %2 run(s) queued (ids %3-%4)")
                                    .arg(QString::fromStdString(ex.name))
                                    .arg(ids.size())
                                    .arg(ids.front())
                                    .arg(ids.back());
            form_->set_message(msg, false);
            if (status_) status_->showMessage(msg, 10000);
            if (show_page_) show_page_(TrainingPage);
        } catch (const std::exception& e) {
            form_->set_message(QString::fromStdString(e.what()), true);
        }
    }

    Workspace* workspace_;
    TrainingWorker* trainer_;
    QStatusBar* status_;
    std::function<void(Page)> show_page_;
    widgets::ExperimentForm* form_;
    std::set<std::string> datasets_; // imported names, for the parser's dataset check
    bool stale_ = false;
};

} // namespace

QWidget* create_experiment_page(AppContext& ctx, QWidget* parent) {
    auto* form = new widgets::ExperimentForm(parent);
    new ExperimentController(ctx, form);
    return form;
}

} // namespace gafx::app
