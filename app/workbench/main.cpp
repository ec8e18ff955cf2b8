// gafx-workbench: the Qt application. `--db FILE` opens a workspace (default: the last one, else
// the user's default); `--demo DIR` first creates and imports the built-in demo dataset there
// when the workspace has no dataset named "demo" (what README's first command does).
#include "main_window.h"
#include "workspace.h"

#include "core/build_info.h"
#include "core/cpu_tuning.h"
#include "core/error.h"
#include "store/run_store.h"
#include "workflows/demo_dataset.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QMessageBox>
#include <QSettings>
#include <QTabWidget>
#include <QTimer>

namespace {

// For docs/screenshots: each page after its asynchronous work (feature maps) has had time.
void save_screenshots(gafx::app::MainWindow& window, const QString& dir) {
    QDir().mkpath(dir);
    window.resize(1400, 900);
    qint64 run = 0, track = 0;
    for (const auto& r : window.workspace()->store().list_runs())
        if (r.status == gafx::store::RunStatus::Finished) run = r.id;
    if (run) {
        const auto preds = window.workspace()->store().predictions(run);
        if (!preds.empty()) track = preds.front().track_id;
        if (window.context().inspect) window.context().inspect({run}, track);
    }
    static const char* names[gafx::app::PageCount] = {"datasets", "experiment", "training", "runs", "inspector"};
    for (int i = 0; i < gafx::app::PageCount; ++i) {
        QTimer::singleShot(1000 + 4000 * i, &window, [&window, dir, i] {
            window.tabs()->setCurrentIndex(i);
        });
        QTimer::singleShot(3500 + 4000 * i, &window, [&window, dir, i] {
            window.grab().save(dir + QStringLiteral("/%1-%2.png").arg(i + 1).arg(QLatin1String(names[i])));
            if (i + 1 == gafx::app::PageCount) QApplication::quit();
        });
    }
}

} // namespace

int main(int argc, char** argv) {
    gafx::tune_cpu_runtime(argv);
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("gafx"));
    QApplication::setApplicationName(QStringLiteral("gafx-workbench"));
    QApplication::setApplicationVersion(QString::fromStdString(gafx::build_info().gafx));
    QCommandLineParser cli;
    cli.setApplicationDescription(QStringLiteral("GAFX Workbench: train, compare and inspect learnable audio feature extractors"));
    cli.addHelpOption();
    cli.addVersionOption();
    cli.addOption({QStringLiteral("db"), QStringLiteral("The workspace database."), QStringLiteral("FILE")});
    cli.addOption({QStringLiteral("demo"), QStringLiteral("Create and import the demo dataset into DIR if the workspace has none."),
                   QStringLiteral("DIR")});
    cli.addOption({QStringLiteral("screenshots"),
                   QStringLiteral("Save a PNG of every page into DIR (the latest finished run inspected), then quit."),
                   QStringLiteral("DIR")});
    cli.process(app);

    QString db = cli.value(QStringLiteral("db"));
    if (db.isEmpty()) db = QSettings().value(QStringLiteral("workspace/last")).toString();
    if (db.isEmpty()) db = QString::fromStdString(gafx::store::RunStore::default_path());
    try {
        if (cli.isSet(QStringLiteral("demo"))) {
            gafx::store::RunStore store(db.toStdString());
            gafx::workflows::ensure_demo_dataset(store, cli.value(QStringLiteral("demo")).toStdString());
        }
        gafx::app::MainWindow window(db);
        window.show();
        if (cli.isSet(QStringLiteral("screenshots")))
            save_screenshots(window, cli.value(QStringLiteral("screenshots")));
        return app.exec();
    } catch (const std::exception& e) { // gafx::Error, and whatever a library throws
        QMessageBox::critical(nullptr, QStringLiteral("GAFX Workbench"), QString::fromStdString(e.what()));
        return 1;
    }
}
