// The embedding explorer on the real main window: a trained run's tracks computed on a worker
// thread and projected (PCA, t-SNE), coloured by class or split, a lasso lists a set that
// exports with track ids, a click inspects a track, and a running job cancels; two runs side by
// side, coloured by what sets them apart, a lasso in one marking the same tracks in the other.
#include "main_window.h"

#include "dialog_answers.h"
#include "embedding_view.h"
#include "inspector_view.h"

#include "core/npy.h"
#include "data/csv.h"
#include "store/run_store.h"
#include "test_support.h"
#include "train/trainer.h"

#include <QComboBox>
#include <QFile>
#include <QPushButton>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <set>

using namespace gafx;

namespace {

// Drags the left button along `path` over `w`, as a user draws a lasso.
void drag(QWidget* w, const QList<QPoint>& path) {
    QTest::mousePress(w, Qt::LeftButton, {}, path.front());
    for (const QPoint& p : path) {
        QMouseEvent move(QEvent::MouseMove, QPointF(p), QPointF(w->mapToGlobal(p)), Qt::NoButton, Qt::LeftButton, {});
        QApplication::sendEvent(w, &move);
    }
    QTest::mouseRelease(w, Qt::LeftButton, {}, path.back());
}

// The main window shown on its Embeddings page.
widgets::EmbeddingView* show_embeddings_page(app::MainWindow& w) {
    w.show();
    if (!QTest::qWaitForWindowExposed(&w)) return nullptr;
    w.tabs()->setCurrentIndex(app::EmbeddingsPage);
    return qobject_cast<widgets::EmbeddingView*>(w.page(app::EmbeddingsPage));
}

} // namespace

class TestGuiEmbeddings : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string db_;
    int64_t run_ = 0, other_ = 0;
    int64_t tracks_ = 0;
    int classes_ = 0;

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(dir_.isValid());
        db_ = test::make_demo_workspace(dir_.path(), 4, 4.0);
        store::RunStore s(db_);
        train::TrainOptions o;
        o.checkpoint_dir = (dir_.path() + "/runs").toStdString();
        const auto config = [](const char* lr) {
            return std::string(R"({"dataset": "tiny", "extractor": "mel", "classifier": "ast-tiny", "preset": "small",
            "track_seconds": 4, "clips_per_track": 2, "clip_seconds": 1.5, "epochs": 1, "batch_size": 8,
            "lr": )") + lr + R"(, "warmup_steps": 5, "precision": "fp32", "seed": 1})";
        };
        run_ = s.create_run(0, config("0.0005"), 1);
        other_ = s.create_run(0, config("0.001"), 1);
        for (int64_t run : {run_, other_}) {
            train::TrainControl control;
            QCOMPARE(QString::fromLatin1(store::to_string(train::train_run(s, run, o, control).status)),
                     QStringLiteral("finished"));
        }
        const auto ds = s.load_dataset("tiny");
        for (const auto sub : {data::Subset::Train, data::Subset::Val, data::Subset::Test}) tracks_ += ds->split.count(sub);
        classes_ = int(ds->catalog.classes.size());
    }

    void explore() {
        app::MainWindow w(QString::fromStdString(db_));
        widgets::EmbeddingView* view = show_embeddings_page(w);
        QVERIFY(view);
        QCOMPARE(view->checked_runs(), QList<qint64>{run_}); // the first, until the user checks others
        auto* compute = view->findChild<QPushButton*>(QStringLiteral("embeddingCompute"));

        // PCA of the pooled tokens: one point per track on the run's train, val and test sides,
        // coloured by true class.
        QTest::mouseClick(compute, Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(view->point_count(), int(tracks_), 60000);
        QVERIFY(!view->busy());
        QCOMPARE(view->colour_groups(), classes_);
        QCOMPARE(view->panels().size(), size_t(1));
        QCOMPARE(view->panels().front().embeddings.run, run_);
        view->set_colour_by(widgets::EmbeddingView::BySubset);
        QCOMPARE(view->colour_groups(), 3);
        view->set_colour_by(widgets::EmbeddingView::ByCorrect);
        QVERIFY(view->colour_groups() >= 1 && view->colour_groups() <= 2);

        // A lasso around the left half of the points lists exactly those.
        QWidget* canvas = view->canvas();
        std::vector<int> xs;
        for (int i = 0; i < view->point_count(); ++i) xs.push_back(view->point_position(i).x());
        std::vector<int> sorted = xs;
        std::sort(sorted.begin(), sorted.end());
        const int cut = sorted[sorted.size() / 2];
        const QRect area = canvas->rect();
        drag(canvas, {QPoint(0, 0), QPoint(cut, 0), QPoint(cut, area.height() - 1), QPoint(0, area.height() - 1),
                      QPoint(0, 1)});
        std::set<int> want;
        for (int i = 0; i < view->point_count(); ++i)
            if (xs[size_t(i)] < cut) want.insert(i);
        const QList<int> got = view->selected_rows();
        QCOMPARE(std::set<int>(got.begin(), got.end()), want);
        QVERIFY(!want.empty());
        QCOMPARE(view->selection_table()->rowCount(), int(want.size()));

        // Export the set: .npy rows beside a CSV of their track ids.
        const QString npy = dir_.path() + "/chosen.npy";
        test::answer_file_dialog(npy);
        QTest::mouseClick(view->findChild<QPushButton*>(QStringLiteral("embeddingExportNpy")), Qt::LeftButton);
        QVERIFY2(view->status().contains(QStringLiteral("Wrote %1 tracks").arg(want.size())), qPrintable(view->status()));
        QVERIFY2(QFile::exists(npy), qPrintable(view->status()));
        const auto array = read_npy_f32(npy.toStdString());
        QCOMPARE(array.shape.at(0), int64_t(want.size()));
        QFile ids(dir_.path() + "/chosen.tracks.csv");
        QVERIFY(ids.open(QIODevice::ReadOnly));
        QCOMPARE(QString::fromUtf8(ids.readAll()).count(QLatin1Char('\n')), int(want.size()) + 1);

        // A click on a point opens its track in the Inspector with the run.
        const int row = *want.begin();
        const qint64 track = view->panels().front().embeddings.track_ids[size_t(row)];
        QTest::mouseClick(canvas, Qt::LeftButton, {}, view->point_position(row));
        QTRY_COMPARE(w.tabs()->currentIndex(), int(app::InspectorPage));
        auto* inspector = qobject_cast<widgets::InspectorView*>(w.page(app::InspectorPage));
        QCOMPARE(inspector->current_track(), track);
        QCOMPARE(inspector->checked_runs(), QList<qint64>{run_});
        w.tabs()->setCurrentIndex(app::EmbeddingsPage);

        // t-SNE, cancelled while it runs, then to the end.
        auto* projection = view->findChild<QComboBox*>(QStringLiteral("embeddingProjection"));
        projection->setCurrentIndex(projection->findText(QStringLiteral("t-SNE")));
        QTest::mouseClick(compute, Qt::LeftButton);
        QVERIFY(view->busy());
        QTest::mouseClick(compute, Qt::LeftButton); // now Cancel
        QTRY_VERIFY_WITH_TIMEOUT(!view->busy(), 60000);
        QVERIFY2(view->status().contains(QStringLiteral("Cancelled")), qPrintable(view->status()));
        QTest::mouseClick(compute, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!view->busy(), 120000);
        QCOMPARE(view->point_count(), int(tracks_));
        QVERIFY2(view->status().contains(QStringLiteral("tracks; hover")), qPrintable(view->status()));
    }

    void twoRunsSideBySide() {
        app::MainWindow w(QString::fromStdString(db_));
        widgets::EmbeddingView* view = show_embeddings_page(w);
        QVERIFY(view);
        view->set_checked_runs({run_, other_});
        QCOMPARE(view->checked_runs(), (QList<qint64>{run_, other_}));
        QTest::mouseClick(view->findChild<QPushButton*>(QStringLiteral("embeddingCompute")), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(view->point_count(), int(2 * tracks_), 120000);
        QCOMPARE(view->panels().size(), size_t(2));
        QCOMPARE(view->panels()[0].embeddings.run, run_);
        QCOMPARE(view->panels()[1].embeddings.run, other_);
        // What sets the runs apart names their group: only lr differs (seed would be left out).
        QCOMPARE(view->panels()[0].group, QStringLiteral("lr=0.0005"));
        QCOMPARE(view->panels()[1].group, QStringLiteral("lr=0.001"));
        view->set_colour_by(widgets::EmbeddingView::ByRunGroup);
        QCOMPARE(view->colour_groups(), 2);
        view->set_colour_by(widgets::EmbeddingView::ByTrueClass);
        QCOMPARE(view->colour_groups(), classes_); // one colour per class across both panels
        QVERIFY2(view->status().contains(QStringLiteral("of 2 runs")), qPrintable(view->status()));

        // Panels side by side: every point of the first run left of every point of the second.
        int right_of_first = 0, left_of_second = 1 << 30;
        for (int i = 0; i < view->point_count(); ++i) {
            const int p = view->locate(i).first;
            QCOMPARE(p, i < tracks_ ? 0 : 1);
            if (p == 0) right_of_first = std::max(right_of_first, view->point_position(i).x());
            else left_of_second = std::min(left_of_second, view->point_position(i).x());
        }
        QVERIFY2(right_of_first < left_of_second, qPrintable(QStringLiteral("%1 %2").arg(right_of_first).arg(left_of_second)));

        // A lasso around the first panel lists its tracks and marks the same tracks in the second.
        QWidget* canvas = view->canvas();
        const int cut = (right_of_first + left_of_second) / 2;
        drag(canvas, {QPoint(0, 0), QPoint(cut, 0), QPoint(cut, canvas->height() - 1), QPoint(0, canvas->height() - 1),
                      QPoint(0, 1)});
        QCOMPARE(view->selected_rows().size(), int(tracks_));
        QCOMPARE(view->linked_count(), int(tracks_));
        QCOMPARE(view->selection_table()->item(0, 1)->text(), QString::number(run_));

        // Both runs exported at once: one matrix (same width), each row naming its run.
        view->select_in(QPolygonF());
        QVERIFY(view->selected_rows().isEmpty());
        const QString npy = dir_.path() + "/both.npy";
        test::answer_file_dialog(npy);
        QTest::mouseClick(view->findChild<QPushButton*>(QStringLiteral("embeddingExportNpy")), Qt::LeftButton);
        QVERIFY2(QFile::exists(npy), qPrintable(view->status()));
        QCOMPARE(read_npy_f32(npy.toStdString()).shape.at(0), 2 * tracks_);
        const auto rows = data::read_csv((dir_.path() + "/both.tracks.csv").toStdString());
        QCOMPARE(rows.at(1).fields.at(1), std::to_string(run_));
        QCOMPARE(rows.back().fields.at(1), std::to_string(other_));

        // A click in the second panel inspects that track with the second run.
        const int last = view->point_count() - 1;
        QTest::mouseClick(canvas, Qt::LeftButton, {}, view->point_position(last));
        QTRY_COMPARE(w.tabs()->currentIndex(), int(app::InspectorPage));
        auto* inspector = qobject_cast<widgets::InspectorView*>(w.page(app::InspectorPage));
        QCOMPARE(inspector->checked_runs(), QList<qint64>{other_});
    }
};

QTEST_MAIN(TestGuiEmbeddings)
#include "test_gui_embeddings.moc"
