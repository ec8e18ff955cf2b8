#include "runs_import.h"

#include "pages.h"
#include "runs_view.h"
#include "workspace.h"
#include "workflows/import_runs.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QSettings>
#include <QtConcurrent/QtConcurrentRun>

namespace gafx::app {

RunsImporter::RunsImporter(AppContext& ctx, widgets::RunsView* view) : QObject(view), ctx_(ctx), view_(view) {
    job_.setObjectName(QStringLiteral("runsImportJob"));
    connect(&job_, &QFutureWatcher<Outcome>::finished, this, &RunsImporter::done);
}

RunsImporter::~RunsImporter() {
    if (job_.isRunning()) job_.waitForFinished();
}

void RunsImporter::ask() {
    if (busy()) return;
    QSettings settings;
    const QString dir = settings.value(QStringLiteral("runs/import_dir"), QDir::homePath()).toString();
    const QStringList files = QFileDialog::getOpenFileNames(
        view_, tr("Import runs from other workspaces"), dir, tr("gafx workspaces (*.db);;All files (*)"));
    if (files.isEmpty()) return;
    settings.setValue(QStringLiteral("runs/import_dir"), QFileInfo(files.front()).absolutePath());
    start(files);
}

void RunsImporter::start(const QStringList& files) {
    if (busy()) return;
    std::vector<std::string> paths;
    for (const QString& f : files) paths.push_back(f.toStdString());
    const std::string db = ctx_.workspace->path().toStdString();
    view_->show_message(tr("Importing runs from %n workspace(s)…", "", int(files.size())));
    job_.setFuture(QtConcurrent::run([db, paths] {
        Outcome out;
        try {
            store::RunStore store(db); // this thread's own connection
            for (const auto& rep : workflows::import_runs(store, paths)) {
                const auto lines = workflows::describe(rep);
                out.shown << QString::fromStdString(lines[0]);
                // describe: the file's line, then one per run in rows.runs' order.
                for (size_t i = 0; i < rep.rows.runs.size(); ++i)
                    if (workflows::needs_attention(rep, rep.rows.runs[i])) out.shown << QString::fromStdString(lines[i + 1]);
                for (const auto& line : lines) out.lines << QString::fromStdString(line);
                out.problems = out.problems || workflows::has_problems(rep);
            }
        } catch (const std::exception& e) {
            out.error = QString::fromUtf8(e.what());
        }
        return out;
    }));
}

void RunsImporter::done() {
    const Outcome out = job_.future().takeResult();
    ctx_.workspace->poll(); // the worker's commits show now, not at the next second's poll
    if (!out.error.isEmpty()) {
        view_->show_message(tr("Could not import: %1").arg(out.error), true);
        Q_EMIT finished(true);
        return;
    }
    view_->show_message(out.shown.join(QLatin1Char('\n')), out.problems, out.lines.join(QLatin1Char('\n')));
    Q_EMIT finished(out.problems);
}

} // namespace gafx::app
