// The Training page on the real main window: a tiny run's curves grow live, Pause / Resume /
// Cancel act on it, and Resume on the Runs page finishes it from its checkpoint.
#include "main_window.h"
#include "training_worker.h"

#include "curve_plot.h"
#include "runs_table_model.h"
#include "runs_view.h"
#include "training_view.h"

#include "store/run_store.h"
#include "train/trainer.h"
#include "test_support.h"

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QPushButton>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

using namespace gafx;

namespace {

const char* kTiny = R"({"dataset": "tiny", "extractor": "mel", "classifier": "ast-tiny", "preset": "small",
    "track_seconds": 4, "clips_per_track": 2, "clip_seconds": 1.5, "epochs": 3, "batch_size": 8, "lr": 0.0005,
    "warmup_steps": 5, "lr_halving_epochs": [2], "precision": "fp32", "seed": 3})";

QString label_text(QWidget* page, const char* name) { return page->findChild<QLabel*>(QLatin1String(name))->text(); }

void click(QWidget* page, const char* button) {
    auto* b = page->findChild<QPushButton*>(QLatin1String(button));
    QVERIFY2(b, button);
    QTRY_VERIFY2(b->isEnabled(), button);
    QTest::mouseClick(b, Qt::LeftButton);
}

} // namespace

class TestGuiTraining : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString db_;

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(dir_.isValid());
        db_ = QString::fromStdString(test::make_demo_workspace(dir_.path(), 5, 4.0));
    }

    void pauseResumeCancelAndResumeFromTheRunsPage() {
        app::MainWindow w(db_);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.tabs()->setCurrentIndex(app::TrainingPage);
        auto* view = qobject_cast<widgets::TrainingView*>(w.page(app::TrainingPage));
        QVERIFY(view);
        int64_t id = 0;
        {
            store::RunStore s(db_.toStdString());
            id = s.create_run(0, kTiny, 3);
        }
        // The worker emits from its thread; collect on ours, as the pages do.
        QStringList finished;
        connect(w.trainer(), &app::TrainingWorker::runFinished, &w,
                [&](qint64, store::RunStatus status, const QString&) { finished << QString::fromLatin1(store::to_string(status)); });
        w.trainer()->enqueue({id});

        // Live curves: the loss graph grows step by step.
        widgets::CurvePlot* loss = view->loss_plot();
        QTRY_VERIFY_WITH_TIMEOUT(loss->point_count(0) > 0, 120000);
        QVERIFY(view->lr_plot()->point_count(0) > 0);
        QVERIFY(label_text(view, "deviceLabel").contains(QLatin1String("cpu")));
        QVERIFY(label_text(view, "deviceLabel").contains(QLatin1String("fp32")));

        click(view, "pauseButton");
        QTRY_VERIFY_WITH_TIMEOUT(label_text(view, "statusLabel").contains(QLatin1String("paused")), 30000);
        const int paused_at = loss->point_count(0);
        QTest::qWait(600);
        QCOMPARE(loss->point_count(0), paused_at); // nothing trains while paused
        QVERIFY(!view->findChild<QPushButton*>(QStringLiteral("pauseButton"))->isEnabled());

        click(view, "resumeButton");
        QTRY_VERIFY_WITH_TIMEOUT(loss->point_count(0) > paused_at, 30000);
        QVERIFY(label_text(view, "statusLabel").contains(QLatin1String("running")));

        click(view, "cancelButton");
        QTRY_VERIFY_WITH_TIMEOUT(label_text(view, "statusLabel").contains(QLatin1String("cancelled")), 30000);
        QTRY_COMPARE(finished.count(), 1);
        QCOMPARE(finished.at(0), QStringLiteral("cancelled"));
        QVERIFY(loss->point_count(0) < 24); // 3 epochs x 8 batches

        // Resume it from the Runs page: select its row, press Resume.
        w.tabs()->setCurrentIndex(app::RunsPage);
        auto* runs = qobject_cast<widgets::RunsView*>(w.page(app::RunsPage));
        QVERIFY(runs);
        QTableView* table = runs->table();
        QModelIndex row;
        QTRY_VERIFY([&] {
            for (int r = 0; r < table->model()->rowCount(); ++r) {
                const QModelIndex i = table->model()->index(r, widgets::RunsTableModel::Status);
                if (i.data(widgets::RunsTableModel::IdRole).toLongLong() == id &&
                    i.data().toString() == QLatin1String("cancelled"))
                    row = i;
            }
            return row.isValid();
        }());
        QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, table->visualRect(row).center());
        QCOMPARE(runs->selected_runs(), QList<qint64>{id});
        click(runs, "resumeRunsButton");
        QCOMPARE(w.tabs()->currentIndex(), int(app::TrainingPage)); // it shows the Training page

        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 180000);
        QCOMPARE(finished.at(1), QStringLiteral("finished"));
        QTRY_VERIFY(label_text(view, "statusLabel").contains(QLatin1String("finished")));
        // The resumed run's curves continue its stored history: every step once, every epoch once.
        QCOMPARE(loss->point_count(0), 24); // 30 training tracks x 2 clips / 8 = 8 steps x 3 epochs
        QCOMPARE(view->accuracy_plot()->point_count(0), 3);
        store::RunStore s(db_.toStdString());
        QCOMPARE(QString::fromLatin1(store::to_string(s.run(id)->status)), QStringLiteral("finished"));
    }

    void aRunThatFailsSaysWhy() {
        app::MainWindow w(db_);
        w.show();
        w.tabs()->setCurrentIndex(app::TrainingPage);
        auto* view = qobject_cast<widgets::TrainingView*>(w.page(app::TrainingPage));
        int64_t id = 0;
        {
            store::RunStore s(db_.toStdString());
            id = s.create_run(0, R"({"dataset": "gone", "extractor": "mel", "preset": "small"})", 0);
        }
        w.trainer()->enqueue({id});
        QTRY_VERIFY_WITH_TIMEOUT(label_text(view, "statusLabel").contains(QLatin1String("failed")), 60000);
        QVERIFY2(label_text(view, "statusLabel").contains(QLatin1String("gone")), qPrintable(label_text(view, "statusLabel")));
    }

    // The Training page's "Train on" lists the engine's devices, the first chosen; a choice
    // reaches the runs started after it, and CUDA graphs are a GPU's option only.
    void runsTrainWhereTheTrainingPageSays() {
        app::MainWindow w(db_);
        w.tabs()->setCurrentIndex(app::TrainingPage);
        auto* view = qobject_cast<widgets::TrainingView*>(w.page(app::TrainingPage));
        auto* box = view->findChild<QComboBox*>(QStringLiteral("trainOnBox"));
        auto* graphs = view->findChild<QCheckBox*>(QStringLiteral("cudaGraphsBox"));
        QVERIFY(box && graphs);
        const auto choices = train::device_choices();
        QCOMPARE(box->count(), int(choices.size()));
        QCOMPARE(box->currentIndex(), 0);
        QCOMPARE(box->itemData(box->count() - 1).toString(), QStringLiteral("cpu"));
        QCOMPARE(graphs->isEnabled(), choices.front().id != "cpu");
        auto* status = w.findChild<QLabel*>(QStringLiteral("deviceStatus"));
        QVERIFY(status && status->text().contains(QString::fromStdString(choices.front().label)));

        // A device no run could use until the page's choice replaces it: the run must not fail.
        auto o = w.trainer()->options();
        o.device = "cuda:7";
        w.trainer()->set_options(o);
        if (box->count() > 1) box->setCurrentIndex(box->count() - 1);
        else Q_EMIT box->currentIndexChanged(0); // one choice: what picking it again would say
        QCOMPARE(w.trainer()->options().device, std::string("cpu"));
        QVERIFY(!graphs->isEnabled());
        QVERIFY2(status->text().contains(QLatin1String("CPU")), qPrintable(status->text()));
        graphs->setChecked(false);
        QVERIFY(!w.trainer()->options().cuda_graphs);

        int64_t id = 0;
        {
            store::RunStore s(db_.toStdString());
            id = s.create_run(0, QByteArray(kTiny).replace("\"epochs\": 3", "\"epochs\": 1").toStdString(), 3);
        }
        QString ended;
        connect(w.trainer(), &app::TrainingWorker::runFinished, &w,
                [&](qint64, store::RunStatus st, const QString& why) { ended = QString::fromLatin1(store::to_string(st)) + ": " + why; });
        w.trainer()->enqueue({id});
        QTRY_VERIFY_WITH_TIMEOUT(!ended.isEmpty(), 120000);
        QVERIFY2(ended.startsWith(QLatin1String("finished")), qPrintable(ended));
        store::RunStore s(db_.toStdString());
        QCOMPARE(s.run(id)->device, std::string("cpu"));
    }
};

QTEST_MAIN(TestGuiTraining)
#include "test_gui_training.moc"
