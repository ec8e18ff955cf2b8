// gafx-workbench: the Qt application. `--db FILE` opens a workspace (default: the last one, else
// the user's default); `--demo DIR` first creates and imports the built-in demo dataset there
// when the workspace has no dataset named "demo" (what README's first command does).
#include "main_window.h"
#include "workspace.h"

#include "confusion_matrix_view.h"
#include "embedding_view.h"
#include "runs_view.h"

#include "core/build_info.h"
#include "core/cpu_tuning.h"
#include "core/error.h"
#include "store/run_store.h"
#include "workflows/demo_dataset.h"

#include <QApplication>
#include <QComboBox>
#include <QCommandLineParser>
#include <QDir>
#include <QMessageBox>
#include <QSettings>
#include <QTabWidget>
#include <QTimer>

#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace {

// For docs/screenshots: every page, and the Runs page's views, each after its asynchronous work
// (feature maps, a confusion matrix, embeddings) has had time.
struct Shot {
    const char* name;
    int wait_ms;                     // from setting up to the picture (at most, with `ready`)
    std::function<void()> set_up;    // brings the view there
    std::function<bool()> ready = {}; // the asynchronous work is done (then a moment to draw)
};

void save_screenshots(gafx::app::MainWindow& window, const QString& dir) {
    using namespace gafx;
    QDir().mkpath(dir);
    window.resize(1400, 900);
    QList<qint64> finished;
    qint64 track = 0, best = 0;
    double best_val = -1;
    std::map<std::string, std::pair<double, qint64>> best_of; // per extractor, for the explorer
    for (const auto& l : *window.workspace()->runs()) {
        const auto& r = l.record;
        if (r.status != store::RunStatus::Finished) continue;
        finished << r.id;
        if (!(r.val_score >= 0)) continue; // nothing chosen on val
        if (r.val_score > best_val) best_val = r.val_score, best = r.id; // chosen on val, never on test
        if (!l.config) continue;
        auto& b = best_of[l.config->extractor];
        if (!b.second || r.val_score > b.first) b = {r.val_score, r.id};
    }
    QList<qint64> side_by_side;
    for (const auto& [extractor, b] : best_of) side_by_side << b.second;
    if (best) { // the best run (chosen on val, shown on test) for the inspector and the explorer
        const auto preds = window.workspace()->store().predictions(best);
        if (!preds.empty()) track = preds.front().track_id;
        if (window.context().inspect) window.context().inspect({best}, track);
    }
    auto* runs = qobject_cast<widgets::RunsView*>(window.page(app::RunsPage));
    auto* embeddings = qobject_cast<widgets::EmbeddingView*>(window.page(app::EmbeddingsPage));
    const auto page = [&window](app::Page p) { window.tabs()->setCurrentIndex(p); };
    const auto runs_tab = [&window, runs](widgets::RunsView::Tab t) {
        window.tabs()->setCurrentIndex(app::RunsPage);
        runs->tabs()->setCurrentIndex(t);
    };
    auto shots = std::make_shared<std::vector<Shot>>(std::vector<Shot>{
        {"1-datasets", 2500, [=] { page(app::DatasetsPage); }},
        {"2-experiment", 2500, [=] { page(app::ExperimentPage); }},
        {"3-training", 2500, [=] { page(app::TrainingPage); }},
        {"4-runs", 3000,
         [=] {
             runs_tab(widgets::RunsView::CurvesTab);
             runs->select_runs(finished);
         }},
        {"4b-runs-groups", 3000,
         [=] {
             runs->findChild<QComboBox*>(QStringLiteral("groupFactor"))->setCurrentText(QStringLiteral("extractor"));
             runs->findChild<QComboBox*>(QStringLiteral("compareFactor"))->setCurrentText(QStringLiteral("extractor"));
             runs_tab(widgets::RunsView::GroupsTab);
         }},
        {"4c-runs-confusion", 4000,
         [=] {
             runs_tab(widgets::RunsView::ConfusionTab);
             if (best) runs->select_runs({best});
             QTimer::singleShot(2500, runs, [runs] { // the matrix is computed on a worker thread
                 auto* m = runs->confusion();
                 int bt = 0, bp = 1;
                 for (int t = 0; t < m->classes(); ++t)
                     for (int q = 0; q < m->classes(); ++q)
                         if (t != q && m->count(t, q) > m->count(bt, bp)) bt = t, bp = q;
                 if (m->classes() > 1) {
                     m->select_cell(bt, bp);
                     Q_EMIT m->cellActivated(bt, bp);
                 }
             });
         }},
        {"4d-runs-compare", 3000, [=] { runs_tab(widgets::RunsView::CompareTab); }},
        {"5-inspector", 3500, [=] { page(app::InspectorPage); }},
        {"6-embeddings", 300000,
         [=] {
             page(app::EmbeddingsPage);
             if (!side_by_side.isEmpty()) embeddings->set_checked_runs(side_by_side);
             embeddings->findChild<QComboBox*>(QStringLiteral("embeddingProjection"))->setCurrentIndex(1); // t-SNE
             Q_EMIT embeddings->computeRequested();
         },
         [=] { return !embeddings->busy(); }},
    });
    auto next = std::make_shared<std::function<void(size_t)>>();
    *next = [&window, dir, shots, next](size_t i) {
        if (i == shots->size()) {
            QApplication::quit();
            return;
        }
        const Shot& s = (*shots)[i];
        s.set_up();
        const auto shoot = [&window, dir, shots, next, i] {
            window.grab().save(dir + QStringLiteral("/%1.png").arg(QLatin1String((*shots)[i].name)));
            (*next)(i + 1);
        };
        if (!s.ready) {
            QTimer::singleShot(s.wait_ms, &window, shoot);
            return;
        }
        auto* poll = new QTimer(&window);
        auto waited = std::make_shared<int>(0);
        QObject::connect(poll, &QTimer::timeout, &window, [poll, waited, shots, i, shoot] {
            *waited += 250;
            if (!(*shots)[i].ready() && *waited < (*shots)[i].wait_ms) return;
            poll->stop();
            poll->deleteLater();
            QTimer::singleShot(1500, poll->parent(), shoot);
        });
        QTimer::singleShot(1000, poll, [poll] { poll->start(250); }); // let the work start first
    };
    QTimer::singleShot(1000, &window, [next] { (*next)(0); });
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
