// The Datasets page, driven as a user would: import a folder with a broken file, find it with
// the filters, re-split, import with groups, create the demo set, cancel a long job.
#include "datasets_controller.h"
#include "main_window.h"
#include "workspace.h"

#include "datasets_view.h"
#include "track_table_model.h"

#include "data/demo.h"
#include "store/run_store.h"
#include "test_support.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QProgressBar>
#include <QSet>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace gafx;

namespace {

template <class W> W* child(QWidget* page, const char* name) {
    W* w = page->findChild<W*>(QString::fromLatin1(name));
    if (!w) qFatal("no child named %s", name);
    return w;
}

void type_into(QLineEdit* e, const QString& text) {
    e->selectAll();
    QTest::keyClicks(e, text);
}

void type_into(QAbstractSpinBox* s, const QString& text) {
    s->selectAll();
    QTest::keyClicks(s, text);
}

// Train / test totals from the class-count table's last row ("all tracks").
QPair<int, int> count_totals(QTableWidget* t) {
    const int last = t->rowCount() - 1;
    return {t->item(last, 1)->text().toInt(), t->item(last, 3)->text().toInt()}; // train, test (val between)
}

} // namespace

class TestGuiDatasets : public QObject {
    Q_OBJECT
private:
    QTemporaryDir tmp_;

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QLocale::setDefault(QLocale::c()); // "0.5" in the spin boxes
        qputenv("XDG_CACHE_HOME", (tmp_.path() + "/cache").toUtf8());
        qputenv("XDG_CONFIG_HOME", (tmp_.path() + "/config").toUtf8());
    }

    void import_shows_the_broken_file_and_resplits() {
        QTemporaryDir dir;
        const QString audio = dir.path() + "/audio";
        data::DemoOptions demo;
        demo.tracks_per_genre = 3;
        demo.seconds = 2;
        data::write_gtzan_demo(audio.toStdString(), demo);
        test::write_bytes(audio + "/jazz/jazz.00001.wav", QByteArray("RIFF this is not a wave file at all", 35));
        const QString db = dir.path() + "/ws.db";

        app::MainWindow w(db);
        w.show();
        w.tabs()->setCurrentIndex(app::DatasetsPage);
        QWidget* page = w.page(app::DatasetsPage);
        QSignalSpy changed(w.workspace(), &app::Workspace::changed);

        type_into(child<QLineEdit>(page, "importPath"), audio);
        type_into(child<QLineEdit>(page, "importName"), QStringLiteral("gt"));
        QTest::mouseClick(child<QPushButton>(page, "importButton"), Qt::LeftButton);
        auto* datasets = child<QComboBox>(page, "datasetCombo");
        QTRY_COMPARE_WITH_TIMEOUT(datasets->currentText(), QStringLiteral("gt"), 120000);
        QVERIFY(!child<QProgressBar>(page, "progress")->isVisible());
        QVERIFY2(child<QLabel>(page, "message")->text().contains("Imported 'gt'"),
                 qPrintable(child<QLabel>(page, "message")->text()));
        QVERIFY(changed.count() >= 1); // the other pages hear of it

        auto* table = child<QTableView>(page, "trackTable");
        auto* proxy = qobject_cast<widgets::TrackFilterProxy*>(table->model());
        QVERIFY(proxy);
        auto* model = qobject_cast<widgets::TrackTableModel*>(proxy->sourceModel());
        QCOMPARE(model->rowCount(), 30);
        QCOMPARE(proxy->rowCount(), 30);

        // The invalid filter shows exactly the broken file, with its reason.
        child<QComboBox>(page, "statusFilter")->setCurrentIndex(widgets::TrackFilterProxy::InvalidOnly);
        QCOMPARE(proxy->rowCount(), 1);
        QCOMPARE(proxy->index(0, widgets::TrackTableModel::Key).data().toString(), QStringLiteral("jazz/jazz.00001.wav"));
        QCOMPARE(proxy->index(0, widgets::TrackTableModel::Status).data().toString(), QStringLiteral("invalid"));
        QVERIFY(!proxy->index(0, widgets::TrackTableModel::Error).data().toString().isEmpty());
        QCOMPARE(proxy->index(0, widgets::TrackTableModel::Side).data().toString(), QString());
        child<QComboBox>(page, "statusFilter")->setCurrentIndex(widgets::TrackFilterProxy::ValidOnly);
        QCOMPARE(proxy->rowCount(), 29);
        child<QComboBox>(page, "statusFilter")->setCurrentIndex(widgets::TrackFilterProxy::AllTracks);
        QTest::keyClicks(child<QLineEdit>(page, "textFilter"), QStringLiteral("jazz"));
        QCOMPARE(proxy->rowCount(), 3);
        child<QLineEdit>(page, "textFilter")->clear();
        QCOMPARE(proxy->rowCount(), 30);

        // Class counts agree with the table's split column and with the database.
        auto* counts = child<QTableWidget>(page, "classCounts");
        const auto check_consistent = [&](uint64_t seed) {
            QCOMPARE(counts->rowCount(), 11); // ten genres and the total
            int train = 0, test = 0;
            for (int r = 0; r < model->rowCount(); ++r) {
                train += model->side(r) == data::Subset::Train;
                test += model->side(r) == data::Subset::Test;
            }
            int class_train = 0, class_test = 0;
            for (int r = 0; r + 1 < counts->rowCount(); ++r) {
                const int valid = counts->item(r, 0)->text() == "jazz" ? 2 : 3;
                QCOMPARE(counts->item(r, 1)->text().toInt() + counts->item(r, 2)->text().toInt() +
                             counts->item(r, 3)->text().toInt(),
                         valid);
                class_train += counts->item(r, 1)->text().toInt();
                class_test += counts->item(r, 3)->text().toInt();
            }
            QCOMPARE(count_totals(counts), qMakePair(train, test));
            QCOMPARE(qMakePair(class_train, class_test), qMakePair(train, test));
            store::RunStore s(db.toStdString());
            const auto d = s.load_dataset("gt");
            QVERIFY(d);
            QCOMPARE(d->split.options.seed, seed);
            QCOMPARE(int(d->split.count(data::Subset::Train)), train);
            QCOMPARE(int(d->split.count(data::Subset::Test)), test);
        };
        check_consistent(0);
        QCOMPARE(counts->item(counts->rowCount() - 1, 2)->text().toInt(), 9); // val: one per genre (jazz has 2 valid)
        const auto before = count_totals(counts);

        // Another seed and fraction: a new split, and every view of it agrees.
        type_into(child<QSpinBox>(page, "splitSeed"), QStringLiteral("5"));
        type_into(child<QDoubleSpinBox>(page, "testFraction"), QStringLiteral("0.5"));
        QCOMPARE(child<QDoubleSpinBox>(page, "testFraction")->value(), 0.5);
        QTest::mouseClick(child<QPushButton>(page, "resplitButton"), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(count_totals(counts) != before, 60000);
        QTRY_VERIFY(!child<QProgressBar>(page, "progress")->isVisible());
        check_consistent(5);
        QVERIFY(count_totals(counts).second > before.second); // half the tracks now test
        QVERIFY(child<QLabel>(page, "summary")->text().contains("seed 5"));

        // A groups CSV keeps a group on one side; rows naming no track are reported.
        const QString groups = dir.path() + "/groups.csv";
        test::write_bytes(groups, "track,group\nblues.00000.wav,g\nblues.00001,g\nblues/blues.00002.wav,g\nnope.wav,h\n");
        type_into(child<QLineEdit>(page, "groupsPath"), groups);
        QTest::mouseClick(child<QPushButton>(page, "resplitButton"), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(child<QLabel>(page, "summary")->text().contains("groups"), 60000);
        QVERIFY2(child<QLabel>(page, "message")->text().contains("name no track"),
                 qPrintable(child<QLabel>(page, "message")->text()));
        QSet<int> blues_sides;
        for (int r = 0; r < model->rowCount(); ++r)
            if (model->track(r).key.rfind("blues/", 0) == 0) blues_sides.insert(int(model->side(r)));
        QCOMPARE(blues_sides.size(), 1);
        check_consistent(5);
    }

    // The controller on its own view: the groups CSV typed before Import applies to that import.
    void import_applies_the_groups_csv() {
        QTemporaryDir dir;
        const QString audio = dir.path() + "/audio";
        data::DemoOptions demo;
        demo.tracks_per_genre = 3;
        demo.seconds = 1;
        data::write_gtzan_demo(audio.toStdString(), demo);
        const QString groups = dir.path() + "/groups.csv";
        test::write_bytes(groups, "track,group\nblues.00000.wav,g\nblues.00001.wav,g\nblues.00002.wav,g\n");
        app::Workspace workspace(dir.path() + "/ws.db");
        app::AppContext ctx;
        ctx.workspace = &workspace;
        widgets::DatasetsView view;
        new app::DatasetsController(ctx, &view);
        view.show();

        type_into(child<QLineEdit>(&view, "importPath"), audio);
        type_into(child<QLineEdit>(&view, "importName"), QStringLiteral("grouped"));
        type_into(child<QLineEdit>(&view, "groupsPath"), groups);
        QTest::mouseClick(child<QPushButton>(&view, "importButton"), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(child<QComboBox>(&view, "datasetCombo")->currentText(), QStringLiteral("grouped"), 120000);
        QVERIFY2(child<QLabel>(&view, "message")->text().contains("Imported 'grouped'"),
                 qPrintable(child<QLabel>(&view, "message")->text()));

        store::RunStore s((dir.path() + "/ws.db").toStdString());
        const auto d = s.load_dataset("grouped");
        QVERIFY(d);
        QCOMPARE(QString::fromStdString(d->split.options.groups_file), groups);
        QCOMPARE(QString::fromStdString(d->split.method), QStringLiteral("seeded, stratified by class, by group"));
        QSet<int> blues_sides;
        for (size_t i = 0; i < d->catalog.tracks.size(); ++i)
            if (d->catalog.tracks[i].key.rfind("blues/", 0) == 0) blues_sides.insert(int(d->split.subset[i]));
        QCOMPARE(blues_sides.size(), 1);
        QVERIFY(child<QLabel>(&view, "summary")->text().contains("groups"));
    }

    void demo_button_creates_and_imports_the_demo_set() {
        QTemporaryDir dir;
        app::MainWindow w(dir.path() + "/ws.db");
        w.show();
        QWidget* page = w.page(app::DatasetsPage);
        type_into(child<QSpinBox>(page, "demoTracks"), QStringLiteral("1"));
        type_into(child<QDoubleSpinBox>(page, "demoSeconds"), QStringLiteral("1"));
        QTest::mouseClick(child<QPushButton>(page, "demoButton"), Qt::LeftButton);
        // Written beside the workspace and named after that folder.
        QTRY_COMPARE_WITH_TIMEOUT(child<QComboBox>(page, "datasetCombo")->currentText(), QStringLiteral("demo"), 120000);
        QCOMPARE(child<QLineEdit>(page, "importPath")->text(), dir.path() + "/demo");
        auto* table = child<QTableView>(page, "trackTable");
        QCOMPARE(table->model()->rowCount(), 10);
    }

    void an_import_from_another_process_shows_up() {
        QTemporaryDir dir;
        app::MainWindow w(dir.path() + "/ws.db");
        w.show();
        QWidget* page = w.page(app::DatasetsPage);
        QCOMPARE(child<QComboBox>(page, "datasetCombo")->count(), 0);
        test::make_demo_workspace(dir.path(), 1, 1.0, "outside"); // as `gafx dataset import` would
        QTRY_COMPARE_WITH_TIMEOUT(child<QComboBox>(page, "datasetCombo")->currentText(), QStringLiteral("outside"), 10000);
        QCOMPARE(child<QTableView>(page, "trackTable")->model()->rowCount(), 10);
    }

    void cancel_stops_the_job_and_stores_nothing() {
        QTemporaryDir dir;
        app::MainWindow w(dir.path() + "/ws.db");
        w.show();
        QWidget* page = w.page(app::DatasetsPage);
        type_into(child<QLineEdit>(page, "importPath"), dir.path() + "/big");
        type_into(child<QSpinBox>(page, "demoTracks"), QStringLiteral("100"));
        QTest::mouseClick(child<QPushButton>(page, "demoButton"), Qt::LeftButton);
        auto* cancel = child<QPushButton>(page, "cancelButton");
        QVERIFY(cancel->isVisible());
        QVERIFY(!child<QPushButton>(page, "importButton")->isEnabled());
        QTest::mouseClick(cancel, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!cancel->isVisible(), 60000);
        QVERIFY2(child<QLabel>(page, "message")->text().contains("cancelled"),
                 qPrintable(child<QLabel>(page, "message")->text()));
        QVERIFY(child<QPushButton>(page, "importButton")->isEnabled());
        QCOMPARE(child<QComboBox>(page, "datasetCombo")->count(), 0);
        store::RunStore s((dir.path() + "/ws.db").toStdString());
        QVERIFY(s.list_datasets().empty());
    }

    void bad_folders_are_readable_errors() {
        QTemporaryDir dir;
        app::MainWindow w(dir.path() + "/ws.db");
        w.show();
        QWidget* page = w.page(app::DatasetsPage);
        type_into(child<QLineEdit>(page, "importPath"), dir.path() + "/nothing-here");
        QTest::mouseClick(child<QPushButton>(page, "importButton"), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(child<QPushButton>(page, "importButton")->isEnabled(), 60000);
        QVERIFY2(child<QLabel>(page, "message")->text().contains("nothing-here"),
                 qPrintable(child<QLabel>(page, "message")->text()));

        // The demo is never written into a folder that holds something (a real dataset, say).
        test::write_bytes(dir.path() + "/mine/notes.txt", "keep me");
        type_into(child<QLineEdit>(page, "importPath"), dir.path() + "/mine");
        QTest::mouseClick(child<QPushButton>(page, "demoButton"), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(child<QPushButton>(page, "demoButton")->isEnabled(), 60000);
        QVERIFY2(child<QLabel>(page, "message")->text().contains("not empty"),
                 qPrintable(child<QLabel>(page, "message")->text()));
        QVERIFY(!QFileInfo::exists(dir.path() + "/mine/blues"));
    }
};

QTEST_MAIN(TestGuiDatasets)
#include "test_gui_datasets.moc"
