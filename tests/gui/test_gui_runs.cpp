// The Runs page on the real main window: runs written by other connections appear on their
// own, selected runs overlay their curves, groups and the paper's tables are computed from
// them, a run's confusion matrix counts its test tracks and a cell lists them, and exports hold the selected runs.
#include "main_window.h"
#include "runs_controller.h"

#include "confusion_matrix_view.h"
#include "dialog_answers.h"
#include "confusion_panel.h"
#include "inspector_view.h"
#include "curve_plot.h"
#include "factor_plot.h"
#include "parallel_plot.h"
#include "report_table.h"
#include "runs_table_model.h"
#include "runs_view.h"
#include "settings_diff_dialog.h"

#include "store/run_store.h"
#include "test_support.h"
#include "train/trainer.h"

#include <QApplication>
#include <QComboBox>
#include <QFileDialog>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include <functional>

#include <unistd.h>

using namespace gafx;

namespace {

std::string tiny_config(int seed, const char* extractor = "mel") {
    return std::string(R"({"dataset": "tiny", "extractor": ")") + extractor +
           R"(", "classifier": "ast-tiny", "preset": "small", "track_seconds": 4, "clips_per_track": 2,
               "clip_seconds": 1.5, "epochs": 2, "batch_size": 8, "lr": 0.0005, "warmup_steps": 5,
               "lr_halving_epochs": [2], "precision": "fp32", "seed": )" +
           std::to_string(seed) + "}";
}

QModelIndex row_of(QTableView* table, qint64 id) {
    for (int r = 0; r < table->model()->rowCount(); ++r) {
        const QModelIndex i = table->model()->index(r, 0);
        if (i.data(widgets::RunsTableModel::IdRole).toLongLong() == id) return i;
    }
    return {};
}

void click_row(QTableView* table, qint64 id, Qt::KeyboardModifiers mods = {}) {
    const QModelIndex i = row_of(table, id);
    QVERIFY(i.isValid());
    QTest::mouseClick(table->viewport(), Qt::LeftButton, mods, table->visualRect(i).center());
}

QStringList column(QTableWidget* t, int c) {
    QStringList out;
    for (int r = 0; r < t->rowCount(); ++r) out << (t->item(r, c) ? t->item(r, c)->text() : QString());
    return out;
}

using test::answer_file_dialog;
using test::answer_next;

// Answers the next input dialog with `text` (a tag list or a note).
void answer_input_dialog(const QString& text) {
    answer_next<QInputDialog>([text](QInputDialog* d) {
        d->setTextValue(text);
        d->accept();
    });
}

// The main window shown on its Runs page.
widgets::RunsView* show_runs_page(app::MainWindow& w) {
    w.show();
    w.tabs()->setCurrentIndex(app::RunsPage);
    return qobject_cast<widgets::RunsView*>(w.page(app::RunsPage));
}

} // namespace

class TestGuiRuns : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string db_;
    int64_t a_ = 0, b_ = 0;
    int64_t test_tracks_ = 0;

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QSettings().clear(); // a crashed earlier run may have left its curve options
        QVERIFY(dir_.isValid());
        db_ = test::make_demo_workspace(dir_.path(), 5, 4.0);
        store::RunStore s(db_);
        train::TrainOptions o;
        o.checkpoint_dir = (dir_.path() + "/runs").toStdString();
        for (int seed : {1, 2}) {
            const int64_t id = s.create_run(0, tiny_config(seed), seed);
            train::TrainControl control;
            const auto r = train::train_run(s, id, o, control);
            QCOMPARE(QString::fromLatin1(store::to_string(r.status)), QStringLiteral("finished"));
            (seed == 1 ? a_ : b_) = id;
        }
        test_tracks_ = s.load_dataset("tiny")->split.count(data::Subset::Test);
        QVERIFY(test_tracks_ > 0);
    }

    void runsPage() {
        app::MainWindow w(QString::fromStdString(db_));
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.tabs()->setCurrentIndex(app::RunsPage);
        auto* view = qobject_cast<widgets::RunsView*>(w.page(app::RunsPage));
        QVERIFY(view);
        QVERIFY(view->findChild<app::RunsController*>()); // the page's controller, owned by its view
        QTableView* table = view->table();
        QCOMPARE(table->model()->rowCount(), 2);

        // A run written by another connection (as `gafx train` in a terminal would) shows up
        // within the workspace's 1 s poll, without any click.
        int64_t other = 0;
        {
            store::RunStore s(db_);
            other = s.create_run(0, tiny_config(7, "gafx-r"), 7);
        }
        QTRY_COMPARE_WITH_TIMEOUT(table->model()->rowCount(), 3, 2500);
        QVERIFY(row_of(table, other).isValid());
        QCOMPARE(row_of(table, other).siblingAtColumn(widgets::RunsTableModel::Status).data().toString(),
                 QStringLiteral("queued"));

        // Sorting and filtering.
        table->sortByColumn(widgets::RunsTableModel::Id, Qt::AscendingOrder);
        QCOMPARE(table->model()->index(0, 0).data().toLongLong(), a_);
        auto* filter = view->findChild<QLineEdit*>(QStringLiteral("runFilter"));
        auto* filter_error = view->findChild<QLabel*>(QStringLiteral("runFilterError"));
        QVERIFY(filter && filter_error);
        QTest::keyClicks(filter, QStringLiteral("gafx-r queued"));
        QCOMPARE(table->model()->rowCount(), 1);
        filter->clear();
        QCOMPARE(table->model()->rowCount(), 3);
        // The filter language (gafx runs --where): fields, ranges, negation.
        QTest::keyClicks(filter, QStringLiteral("seed:1..2 -extractor:gafx-r status:finished"));
        QCOMPARE(table->model()->rowCount(), 2);
        QVERIFY(filter_error->isHidden());
        filter->clear();
        QTest::keyClicks(filter, QStringLiteral("seed:2"));
        QCOMPARE(table->model()->rowCount(), 1);
        QCOMPARE(table->model()->index(0, 0).data(widgets::RunsTableModel::IdRole).toLongLong(), b_);
        // A filter that does not parse says why and keeps the last one that did.
        filter->setText(QStringLiteral("seed:2 acuracy>"));
        QCOMPARE(table->model()->rowCount(), 1);
        QVERIFY(!filter_error->isHidden());
        QVERIFY2(filter_error->text().contains(QStringLiteral("no field 'acuracy'")), qPrintable(filter_error->text()));
        filter->clear();
        QCOMPARE(table->model()->rowCount(), 3);
        QVERIFY(filter_error->isHidden());

        // Two selected runs: two overlaid curves of 2 epochs each.
        view->tabs()->setCurrentIndex(widgets::RunsView::CurvesTab);
        click_row(table, a_);
        click_row(table, b_, Qt::ControlModifier);
        QCOMPARE(view->selected_runs().size(), 2);
        QTRY_COMPARE(view->accuracy_curves()->curve_count(), 2);
        QCOMPARE(view->loss_curves()->curve_count(), 2);
        QCOMPARE(view->accuracy_curves()->point_count(0), 2);
        QCOMPARE(view->loss_curves()->point_count(1), 2);
        // On steps: the accuracy at each epoch's last step, the loss at every step; smoothed, the
        // raw curves stay underneath, faint.
        const int64_t steps = store::RunStore(db_).run(a_)->step;
        view->set_curve_options(experiments::CurveAxis::Step, 0.0);
        QTRY_COMPARE(view->accuracy_curves()->curve_count(), 2);
        QCOMPARE(view->accuracy_curves()->xs(0).last(), double(steps));
        QCOMPARE(int64_t(view->loss_curves()->point_count(0)), steps);
        view->findChild<QDoubleSpinBox*>(QStringLiteral("curveSmoothing"))->setValue(0.6);
        QCOMPARE(view->loss_curves()->curve_count(), 4);
        QVERIFY(view->loss_curves()->is_faint(0) && !view->loss_curves()->is_faint(1));
        QCOMPARE(view->loss_curves()->point_count(1), view->loss_curves()->point_count(0));
        QVERIFY(view->loss_curves()->ys(1) != view->loss_curves()->ys(0));
        view->set_curve_options(experiments::CurveAxis::Seconds, 0.0);
        QCOMPARE(view->loss_curves()->curve_count(), 2);
        QVERIFY(view->accuracy_curves()->xs(0).last() > 0);
        QCOMPARE(view->accuracy_curves()->point_count(0), 2);
        view->set_curve_options(experiments::CurveAxis::Epoch, 0.0); // as the other tests expect it
        QCOMPARE(view->accuracy_curves()->xs(0), (QVector<double>{1, 2}));

        // Group by seed: one group per finished seed; by extractor: only mel has finished runs.
        view->tabs()->setCurrentIndex(widgets::RunsView::GroupsTab);
        auto* factor = view->findChild<QComboBox*>(QStringLiteral("groupFactor"));
        factor->setCurrentIndex(factor->findText(QStringLiteral("seed")));
        QTableWidget* groups = view->group_table()->table();
        QCOMPARE(groups->rowCount(), 2);
        QCOMPARE(column(groups, 0), (QStringList{QStringLiteral("seed=1"), QStringLiteral("seed=2")}));
        QTRY_COMPARE(view->group_curves()->curve_count(), 2);
        factor->setCurrentIndex(factor->findText(QStringLiteral("extractor")));
        QCOMPARE(groups->rowCount(), 1);
        QCOMPARE(column(groups, 0), QStringList{QStringLiteral("extractor=mel")});
        QCOMPARE(column(groups, 1), QStringList{QStringLiteral("2")});
        QVERIFY(column(groups, 2).first().contains(QStringLiteral("±"))); // two runs: mean ± std
        QTRY_COMPARE(view->group_curves()->curve_count(), 1);
        QVERIFY(view->group_curves()->has_band(0));
        QCOMPARE(view->group_curves()->point_count(0), 2);

        // The paper's table 3 beside ours.
        view->tabs()->setCurrentIndex(widgets::RunsView::PaperTab);
        auto* number = view->findChild<QComboBox*>(QStringLiteral("paperTableNumber"));
        number->setCurrentIndex(number->findData(4));
        number->setCurrentIndex(number->findData(3));
        QTableWidget* paper = view->paper_table()->table();
        QCOMPARE(paper->rowCount(), 2);
        const QStringList published = column(paper, paper->columnCount() - 1);
        QVERIFY2(published.contains(QStringLiteral("61.00")) && published.contains(QStringLiteral("64.50")),
                 qPrintable(published.join(QLatin1Char('|'))));
        // Our mel runs are on the demo-sized 'tiny' set at preset small: not the paper's protocol, so
        // the table counts none of them and says why.
        QCOMPARE(column(paper, 1).first(), QStringLiteral("0"));
        const QString notes = view->paper_table()->findChild<QLabel*>(QStringLiteral("reportNotes"))->text();
        QVERIFY2(notes.contains(QStringLiteral("dataset 'tiny'")), qPrintable(notes));

        // The confusion matrix of one run counts each test track once.
        view->tabs()->setCurrentIndex(widgets::RunsView::ConfusionTab);
        click_row(table, b_);
        QTRY_VERIFY_WITH_TIMEOUT(view->confusion()->classes() > 0, 10000);
        QCOMPARE(view->confusion()->classes(), 10);
        QCOMPARE(view->confusion()->total(), test_tracks_);
        // A click on a cell lists exactly its tracks; "Inspect track" (or a double click) opens one
        // in the Inspector with its run checked.
        auto* panel = view->confusion_panel();
        QTableWidget* cell_list = panel->tracks();
        QCOMPARE(cell_list->rowCount(), 0);
        int busy_t = 0, busy_p = 0;
        for (int t = 0; t < 10; ++t)
            for (int q = 0; q < 10; ++q)
                if (view->confusion()->count(t, q) > view->confusion()->count(busy_t, busy_p)) busy_t = t, busy_p = q;
        QTest::mouseClick(view->confusion(), Qt::LeftButton, {}, view->confusion()->cell_rect(busy_t, busy_p).center());
        QCOMPARE(view->confusion()->selected_cell(), QPoint(busy_t, busy_p));
        QCOMPARE(int64_t(cell_list->rowCount()), view->confusion()->count(busy_t, busy_p));
        const QStringList confidences = column(cell_list, widgets::ConfusionPanel::ConfidenceColumn);
        for (int r = 1; r < confidences.size(); ++r) QVERIFY(confidences[r - 1].toDouble() >= confidences[r].toDouble());
        QVERIFY(column(cell_list, widgets::ConfusionPanel::RunColumn).count(QString::number(b_)) == cell_list->rowCount());
        // Two clips per track: two probability pairs each.
        QCOMPARE(column(cell_list, widgets::ConfusionPanel::ClipsColumn).first().count(QLatin1Char('/')), 2);
        const qint64 track = cell_list->item(0, 0)->data(widgets::ConfusionPanel::TrackRole).toLongLong();
        auto* inspect_track = panel->findChild<QPushButton*>(QStringLiteral("inspectCellTrack"));
        QVERIFY(!inspect_track->isEnabled()); // nothing chosen in the list yet
        cell_list->selectRow(0);
        QVERIFY(inspect_track->isEnabled());
        QTest::mouseClick(inspect_track, Qt::LeftButton);
        QTRY_COMPARE(w.tabs()->currentIndex(), int(app::InspectorPage));
        auto* inspector = qobject_cast<widgets::InspectorView*>(w.page(app::InspectorPage));
        QVERIFY(inspector);
        QCOMPARE(inspector->current_track(), track);
        QCOMPARE(inspector->checked_runs(), QList<qint64>{b_});
        w.tabs()->setCurrentIndex(app::RunsPage);
        // Two runs selected: their matrices summed, each test track once per run; the cell's list
        // holds both runs' tracks.
        click_row(table, a_);
        click_row(table, b_, Qt::ControlModifier);
        QTRY_COMPARE_WITH_TIMEOUT(view->confusion()->total(), 2 * test_tracks_, 10000);
        QVERIFY2(panel->caption().contains(QStringLiteral("summed")), qPrintable(panel->caption()));
        QTest::mouseClick(view->confusion(), Qt::LeftButton, {}, view->confusion()->cell_rect(busy_t, busy_p).center());
        QCOMPARE(int64_t(cell_list->rowCount()), view->confusion()->count(busy_t, busy_p));

        // Export the two finished runs.
        click_row(table, a_);
        click_row(table, b_, Qt::ControlModifier);
        const QString csv = dir_.path() + "/export/runs.csv", json = dir_.path() + "/export/runs";
        QDir().mkpath(dir_.path() + "/export");
        answer_file_dialog(csv);
        QTest::mouseClick(view->findChild<QPushButton*>(QStringLiteral("exportCsvButton")), Qt::LeftButton);
        QFile c(csv);
        QVERIFY(c.open(QIODevice::ReadOnly));
        const QStringList lines = QString::fromUtf8(c.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 3);
        QVERIFY(lines[0].startsWith(QLatin1String("id,experiment,status,")));
        QVERIFY(lines[0].contains(QLatin1String("config.extractor")));
        QStringList ids = {lines[1].section(QLatin1Char(','), 0, 0), lines[2].section(QLatin1Char(','), 0, 0)};
        ids.sort();
        QCOMPARE(ids, (QStringList{QString::number(a_), QString::number(b_)}));

        answer_file_dialog(json); // no suffix given: .json is added
        QTest::mouseClick(view->findChild<QPushButton*>(QStringLiteral("exportJsonButton")), Qt::LeftButton);
        QFile j(json + ".json");
        QVERIFY(j.open(QIODevice::ReadOnly));
        const QJsonArray arr = QJsonDocument::fromJson(j.readAll()).array();
        QCOMPARE(arr.size(), 2);
        QSet<qint64> got;
        for (const auto& v : arr) {
            const QJsonObject o = v.toObject();
            got.insert(o.value(QStringLiteral("id")).toInteger());
            QCOMPARE(o.value(QStringLiteral("status")).toString(), QStringLiteral("finished"));
            QVERIFY(o.value(QStringLiteral("config")).isObject());
            QVERIFY(o.value(QStringLiteral("test_track_accuracy")).isDouble());
            QCOMPARE(o.value(QStringLiteral("epochs_done")).toInteger(), 2);
        }
        QCOMPARE(got, (QSet<qint64>{a_, b_}));
        QVERIFY(view->findChild<QLabel*>(QStringLiteral("runsMessage"))->text().contains(QLatin1String("Wrote 2")));
    }

    void aRunningRunSaysWhoTrainsIt() {
        app::MainWindow w(QString::fromStdString(db_));
        w.show();
        w.tabs()->setCurrentIndex(app::RunsPage);
        auto* view = qobject_cast<widgets::RunsView*>(w.page(app::RunsPage));
        int64_t live = 0;
        {   // claimed by "another trainer": this process, so it counts as alive
            store::RunStore s(db_);
            live = s.create_run(0, tiny_config(11), 11);
            QVERIFY(s.claim_run(live, "elsewhere:1:1:ab", ::getpid(), "trainer-host"));
        }
        QTRY_VERIFY_WITH_TIMEOUT(row_of(view->table(), live).isValid(), 2500);
        const QModelIndex status = row_of(view->table(), live).siblingAtColumn(widgets::RunsTableModel::Status);
        QCOMPARE(status.data().toString(), QStringLiteral("running"));
        const QString tip = status.data(Qt::ToolTipRole).toString();
        QVERIFY2(tip.startsWith(QStringLiteral("Trained by pid %1 on trainer-host").arg(::getpid())), qPrintable(tip));
        // Rank 0 of a data-parallel run records its ranks and backend; the Device column shows them.
        store::RunStore(db_).start_run(live, "cpu", "fp32", "{}", ::getpid(), "trainer-host", 2, "gloo");
        QTRY_COMPARE_WITH_TIMEOUT(
            row_of(view->table(), live).siblingAtColumn(widgets::RunsTableModel::Device).data().toString(),
            QStringLiteral("cpu/fp32 ×2 gloo"), 2500);
        store::RunStore(db_).set_run_status(live, store::RunStatus::Cancelled);
    }

    void aRunningRunsLossGrowsWithinAnEpoch() {
        // The trainer commits per-step rows every couple of seconds, long before an epoch ends;
        // the selected run's loss curve follows them (it used to wait for the epoch's end).
        app::MainWindow w(QString::fromStdString(db_));
        widgets::RunsView* view = show_runs_page(w);
        int64_t live = 0;
        const auto steps = [](int from, int to) {
            std::vector<store::MetricRow> rows;
            for (int step = from; step <= to; ++step) rows.push_back({step, 1, "train", "loss", 2.0 - 0.01 * step});
            return rows;
        };
        {
            store::RunStore s(db_);
            live = s.create_run(0, tiny_config(12), 12);
            QVERIFY(s.claim_run(live, "elsewhere:1:1:cd", ::getpid(), "trainer-host"));
            s.append_metrics(live, steps(1, 10));
        }
        QTRY_VERIFY_WITH_TIMEOUT(row_of(view->table(), live).isValid(), 2500);
        view->tabs()->setCurrentIndex(widgets::RunsView::CurvesTab);
        view->set_curve_options(experiments::CurveAxis::Step, 0.0);
        view->select_runs({live});
        QTRY_VERIFY(view->loss_curves()->curve_count() == 1 && view->loss_curves()->point_count(0) == 10);
        {
            store::RunStore s(db_);
            s.append_metrics(live, steps(11, 20));
            s.heartbeat(live);
        }
        QTRY_VERIFY_WITH_TIMEOUT(view->loss_curves()->curve_count() == 1 && view->loss_curves()->point_count(0) == 20, 5000);
        store::RunStore(db_).set_run_status(live, store::RunStatus::Cancelled);
        view->set_curve_options(experiments::CurveAxis::Epoch, 0.0); // as the other tests expect it
    }

    void theTableAnnouncesOnlyRowsThatChanged() {
        // At 10 000 runs, announcing every row made the sort proxy re-sort them all at each commit.
        widgets::RunsTableModel model;
        std::vector<widgets::RunRow> rows(3);
        for (int i = 0; i < 3; ++i) {
            rows[size_t(i)].run.id = i + 1;
            rows[size_t(i)].run.status = store::RunStatus::Running;
        }
        model.set_runs(rows);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        auto next = rows;
        next[1].run.status = store::RunStatus::Finished;
        std::vector<widgets::RunRow> replaced;
        model.set_runs(next, &replaced);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed[0][0].toModelIndex().row(), 1);
        QCOMPARE(changed[0][1].toModelIndex().row(), 1);
        QCOMPARE(model.find(2)->run.status, store::RunStatus::Finished);
        // What it held comes back to be freed elsewhere: the same runs, as they were.
        QCOMPARE(replaced.size(), size_t(3));
        QCOMPARE(replaced[1].run.id, int64_t(2));
        QCOMPARE(replaced[1].run.status, store::RunStatus::Running);
        // A new run is inserted, not announced as changed.
        next.push_back(next.back());
        next.back().run.id = 4;
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        model.set_runs(next);
        QCOMPARE(inserted.count(), 1);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(model.rowCount(), 4);
    }

    void cancelAQueuedRun() {
        app::MainWindow w(QString::fromStdString(db_));
        w.show();
        w.tabs()->setCurrentIndex(app::RunsPage);
        auto* view = qobject_cast<widgets::RunsView*>(w.page(app::RunsPage));
        int64_t queued = 0;
        {
            store::RunStore s(db_);
            queued = s.create_run(0, tiny_config(9), 9);
        }
        QTRY_VERIFY_WITH_TIMEOUT(row_of(view->table(), queued).isValid(), 2500);
        click_row(view->table(), queued);
        auto* cancel = view->findChild<QPushButton*>(QStringLiteral("cancelRunsButton"));
        QVERIFY(cancel->isEnabled());
        QTest::mouseClick(cancel, Qt::LeftButton);
        QCOMPARE(row_of(view->table(), queued).siblingAtColumn(widgets::RunsTableModel::Status).data().toString(),
                 QStringLiteral("cancelled"));
        QCOMPARE(QString::fromLatin1(store::to_string(store::RunStore(db_).run(queued)->status)), QStringLiteral("cancelled"));
    }

    void tagsAndNotes() {
        app::MainWindow w(QString::fromStdString(db_));
        widgets::RunsView* view = show_runs_page(w);
        QTableView* table = view->table();
        QTRY_VERIFY_WITH_TIMEOUT(row_of(table, a_).isValid(), 2500);
        auto* tags = view->findChild<QPushButton*>(QStringLiteral("tagsButton"));
        auto* note = view->findChild<QPushButton*>(QStringLiteral("noteButton"));
        // Both runs get "good" and "seeds"; then b loses "seeds" and a keeps it.
        click_row(table, a_);
        click_row(table, b_, Qt::ControlModifier);
        QVERIFY(tags->isEnabled() && !note->isEnabled()); // a note is one run's
        answer_input_dialog(QStringLiteral("Good, seeds"));
        QTest::mouseClick(tags, Qt::LeftButton);
        QCOMPARE(row_of(table, a_).siblingAtColumn(widgets::RunsTableModel::Tags).data().toString(), QStringLiteral("good seeds"));
        click_row(table, b_);
        answer_input_dialog(QStringLiteral("good"));
        QTest::mouseClick(tags, Qt::LeftButton);
        QCOMPARE(store::RunStore(db_).run(b_)->tags, std::vector<std::string>{"good"});
        QCOMPARE(store::RunStore(db_).run(a_)->tags, (std::vector<std::string>{"good", "seeds"}));
        // A tag the store refuses is shown, and nothing changes.
        answer_input_dialog(QStringLiteral("good bad!"));
        QTest::mouseClick(tags, Qt::LeftButton);
        QVERIFY2(view->message().contains(QStringLiteral("holds '!'")), qPrintable(view->message()));
        QCOMPARE(store::RunStore(db_).run(b_)->tags, std::vector<std::string>{"good"});
        // A note, shown by its first line, whole in the tooltip, and found by the filter.
        click_row(table, a_);
        QVERIFY(note->isEnabled());
        answer_input_dialog(QStringLiteral("warm-up too short\nretry with 30 steps"));
        QTest::mouseClick(note, Qt::LeftButton);
        const QModelIndex cell = row_of(table, a_).siblingAtColumn(widgets::RunsTableModel::Note);
        QCOMPARE(cell.data().toString(), QStringLiteral("warm-up too short …"));
        QCOMPARE(cell.data(Qt::ToolTipRole).toString(), QStringLiteral("warm-up too short\nretry with 30 steps"));
        auto* filter = view->findChild<QLineEdit*>(QStringLiteral("runFilter"));
        filter->setText(QStringLiteral("tag:good retry"));
        QCOMPARE(table->model()->rowCount(), 1);
        filter->setText(QStringLiteral("tag:good -tag:seeds"));
        QCOMPARE(table->model()->rowCount(), 1);
        QCOMPARE(table->model()->index(0, 0).data(widgets::RunsTableModel::IdRole).toLongLong(), b_);
        filter->clear();
        store::RunStore(db_).tag_runs({a_, b_}, {}, {"good", "seeds"});
        store::RunStore(db_).set_run_note(a_, "");
    }

    void compareTwoRuns() {
        app::MainWindow w(QString::fromStdString(db_));
        widgets::RunsView* view = show_runs_page(w);
        QTableView* table = view->table();
        QTRY_VERIFY_WITH_TIMEOUT(row_of(table, a_).isValid(), 2500);
        auto* compare = view->findChild<QPushButton*>(QStringLiteral("compareRunsButton"));
        click_row(table, a_);
        QVERIFY(!compare->isEnabled()); // two runs, no more, no fewer
        click_row(table, b_, Qt::ControlModifier);
        QVERIFY(compare->isEnabled());
        QTest::mouseClick(compare, Qt::LeftButton);
        auto* dialog = view->findChild<widgets::SettingsDiffDialog*>();
        QVERIFY(dialog && dialog->isVisible());
        // The two seeds of one config: the seed is all that differs.
        QTableWidget* t = dialog->table();
        QCOMPARE(t->rowCount(), 1);
        QCOMPARE(t->item(0, 0)->text(), QStringLiteral("seed"));
        // Columns in the table's order (newest first here): run b (seed 2), then run a (seed 1).
        QCOMPARE(t->horizontalHeaderItem(1)->text(), QStringLiteral("run %1").arg(b_));
        QCOMPARE(t->item(0, 1)->text(), QStringLiteral("2"));
        QCOMPARE(t->item(0, 2)->text(), QStringLiteral("1"));
        dialog->findChild<QCheckBox*>(QStringLiteral("onlyDifferences"))->setChecked(false);
        QVERIFY(t->rowCount() > 20);
        dialog->close();
    }

    // A grid written as runs (no training): extractor x lr x 3 seeds, test and val figures per
    // epoch, so the compare tab has levels, seeds to join and factors that vary.
    void compareAGrid() {
        const std::string db = (dir_.path() + "/grid.db").toStdString();
        std::map<int64_t, double> selected; // run -> val-selected test track accuracy
        int64_t last_seed2_mel = 0;
        {
            store::RunStore s(db);
            for (const char* extractor : {"mel", "gafx-r"})
                for (const char* lr : {"0.0005", "0.00005"})
                    for (int seed = 0; seed < 3; ++seed) {
                        std::string config = tiny_config(seed, extractor);
                        config.replace(config.find("0.0005"), 6, lr);
                        const int64_t id = s.create_run(0, config, seed);
                        const double base = std::string(extractor) == "mel" ? 0.5 : 0.7;
                        const double sel = base + 0.01 * seed + (std::string(lr) == "0.0005" ? 0.05 : 0.0);
                        // Epoch 1 is chosen on val; epoch 2's test is lower (the final figure).
                        s.append_metrics(id, {{10, 1, "val", "selection", 0.9},
                                              {10, 1, "val", "track_accuracy", 0.9},
                                              {10, 1, "test", "track_accuracy", sel},
                                              {20, 2, "val", "selection", 0.8},
                                              {20, 2, "test", "track_accuracy", sel - 0.1}});
                        s.set_run_status(id, store::RunStatus::Finished);
                        selected[id] = sel;
                        if (seed == 2 && std::string(extractor) == "mel") last_seed2_mel = id;
                    }
            s.set_run_status(last_seed2_mel, store::RunStatus::Failed, "test"); // left out, and said so
        }
        app::MainWindow w(QString::fromStdString(db));
        widgets::RunsView* view = show_runs_page(w);
        QTRY_COMPARE_WITH_TIMEOUT(view->table()->model()->rowCount(), 12, 2500);
        view->tabs()->setCurrentIndex(widgets::RunsView::CompareTab);
        auto* factor = view->findChild<QComboBox*>(QStringLiteral("compareFactor"));
        QVERIFY(factor);
        factor->setCurrentText(QStringLiteral("extractor"));
        widgets::FactorPlot* fp = view->factor_plot();
        QTRY_COMPARE(fp->level_count(), 2);
        QCOMPARE(fp->point_count(), 11);
        QCOMPARE(fp->joined_count(), 3); // seeds 0, 1, 2 ran on both levels (seed 2 of mel once)
        auto* caption = view->findChild<QLabel*>(QStringLiteral("compareCaption"));
        QVERIFY2(caption->text().contains(QStringLiteral("11 of the 12")) && caption->text().contains(QStringLiteral("unfinished")),
                 qPrintable(caption->text()));
        widgets::ParallelPlot* pp = view->parallel_plot();
        QCOMPARE(pp->line_count(), 11);
        QCOMPARE(pp->axis_count(), 3); // extractor, lr, the statistic (seed is a repetition, not a factor)
        QCOMPARE(pp->axis_name(0), QStringLiteral("extractor"));
        QCOMPARE(pp->axis_name(1), QStringLiteral("lr"));
        QCOMPARE(pp->axis_name(2), QStringLiteral("val-selected"));
        // A click on a dot or a line selects its run in the table.
        const int64_t some = selected.begin()->first;
        QTest::mouseClick(fp->canvas(), Qt::LeftButton, {}, fp->point_position(some));
        QCOMPARE(view->selected_runs(), QList<qint64>{some});
        const int64_t other = std::next(selected.begin(), 4)->first;
        // Near the statistic's axis, where the seeds' lines part.
        const QPointF a = pp->crossing(other, 1), b = pp->crossing(other, 2);
        QTest::mouseClick(pp->canvas(), Qt::LeftButton, {}, (a + 0.97 * (b - a)).toPoint());
        QCOMPARE(view->selected_runs(), QList<qint64>{other});
        // The statistic: final moves every point down by 10 points.
        auto* statistic = view->findChild<QComboBox*>(QStringLiteral("runStatistic"));
        statistic->setCurrentIndex(statistic->findText(QStringLiteral("final")));
        QCOMPARE(pp->axis_name(2), QStringLiteral("final"));
        QVERIFY2(caption->text().contains(QStringLiteral("last evaluated epoch")), qPrintable(caption->text()));
        statistic->setCurrentIndex(statistic->findText(QStringLiteral("val-selected")));
        // The filter narrows what is compared.
        view->findChild<QLineEdit*>(QStringLiteral("runFilter"))->setText(QStringLiteral("extractor:mel"));
        QCOMPARE(fp->level_count(), 1);
        QCOMPARE(pp->line_count(), 5);
        QCOMPARE(pp->axis_count(), 2); // only lr varies among them
    }

    // Last: it adds a run to the shared workspace.
    void importRunsFromAnotherWorkspace() {
        // Another machine's workspace: the same demo dataset at another path, one finished run
        // with its folder.
        const QString other_dir = dir_.path() + "/elsewhere";
        const std::string other = test::make_demo_workspace(other_dir, 5, 4.0);
        std::string uid;
        int64_t there = 0;
        {
            store::RunStore s(other);
            there = s.create_run(s.create_experiment("far", "{}"), tiny_config(7), 7);
            s.append_metrics(there, {{10, 1, "val", "selection", 0.5}, {10, 1, "test", "track_accuracy", 0.4}});
            s.set_run_status(there, store::RunStatus::Finished);
            uid = s.run(there)->uid;
        }
        const QString folder = other_dir + "/runs/" + QString::number(there) + "-" + QString::fromStdString(uid);
        test::write_bytes(folder + "/best.safetensors", "weights");

        app::MainWindow w(QString::fromStdString(db_));
        widgets::RunsView* view = show_runs_page(w);
        const size_t before = store::RunStore(db_).list_runs().size();
        test::answer_file_dialog(QString::fromStdString(other));
        QTest::mouseClick(view->findChild<QPushButton*>(QStringLiteral("importRunsButton")), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(view->message().contains(QStringLiteral("1 run(s) imported")), 10000);
        QVERIFY2(!view->message().contains(QStringLiteral("conflict: ")), qPrintable(view->message()));
        const auto runs = store::RunStore(db_).list_runs();
        QCOMPARE(runs.size(), before + 1);
        const store::RunRecord& here = runs.back();
        QCOMPARE(here.experiment, std::string("far"));
        QCOMPARE(here.val_score, 0.5);
        QVERIFY(QFile::exists(dir_.path() + "/runs/" + QString::number(here.id) + "-" + QString::fromStdString(uid) +
                              "/best.safetensors"));
        QTRY_VERIFY_WITH_TIMEOUT(row_of(view->table(), here.id).isValid(), 5000);
    }
};

QTEST_MAIN(TestGuiRuns)
#include "test_gui_runs.moc"
