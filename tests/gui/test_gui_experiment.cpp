// The Experiment page (widgets::ExperimentView wired by app::ExperimentController), driven as a
// user would: errors at the field the engine's error key names as one types, a grid and its run
// count, save and load, and Train queueing runs that the trainer finishes.
#include "experiment_controller.h"
#include "experiment_view.h"
#include "main_window.h"
#include "training_worker.h"

#include "core/error.h"
#include "experiments/experiment.h"
#include "store/run_store.h"
#include "test_support.h"

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace gafx;

namespace {

template <class W> W* child(QWidget* page, const QString& name) {
    W* w = page->findChild<W*>(name);
    if (!w) qFatal("no child named %s", qPrintable(name));
    return w;
}

void type_into(QWidget* page, const QString& field, const QString& text) {
    auto* e = child<QLineEdit>(page, field);
    e->selectAll();
    if (text.isEmpty()) QTest::keyClick(e, Qt::Key_Delete);
    else QTest::keyClicks(e, text);
}

void tick_only(QWidget* page, const QString& factor, const QStringList& values) {
    for (QCheckBox* b : page->findChildren<QCheckBox*>()) {
        if (!b->objectName().startsWith(factor + "_")) continue;
        const bool want = values.contains(b->objectName().mid(factor.size() + 1));
        if (b->isChecked() != want) QTest::mouseClick(b, Qt::LeftButton, {}, QPoint(5, b->height() / 2));
    }
}

QString field_error(QWidget* page, const QString& key) {
    auto* label = child<QLabel>(page, "error_" + key);
    return label->isVisibleTo(page) ? label->text() : QString();
}

} // namespace

class TestGuiExperiment : public QObject {
    Q_OBJECT
private:
    QTemporaryDir tmp_;
    QString db_;

    // A window on the tiny workspace with the Experiment page showing.
    std::unique_ptr<app::MainWindow> open_window() {
        auto w = std::make_unique<app::MainWindow>(db_);
        w->show();
        w->tabs()->setCurrentIndex(app::ExperimentPage);
        return w;
    }

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        qputenv("XDG_CACHE_HOME", (tmp_.path() + "/cache").toUtf8());
        qputenv("XDG_CONFIG_HOME", (tmp_.path() + "/config").toUtf8());
        db_ = QString::fromStdString(test::make_demo_workspace(tmp_.path(), 3, 4.0));
    }

    void defaults_are_the_papers() {
        auto w = open_window();
        QWidget* page = w->page(app::ExperimentPage);
        const experiments::RunConfig paper;
        QCOMPARE(child<QLineEdit>(page, "lr")->text().toDouble(), paper.lr);
        QCOMPARE(child<QLineEdit>(page, "epochs")->text().toInt(), paper.epochs);
        QCOMPARE(child<QLineEdit>(page, "lr_halving_epochs")->text(), QStringLiteral("12, 24, 50, 65"));
        QVERIFY(child<QCheckBox>(page, "extractor_" + QString::fromStdString(paper.extractor))->isChecked());
        QCOMPARE(child<QComboBox>(page, "dataset")->currentText(), QStringLiteral("tiny"));
        QCOMPARE(child<QLabel>(page, "runCount")->text(), QStringLiteral("1 run"));
        QVERIFY(child<QPushButton>(page, "trainButton")->isEnabled());
    }

    void invalid_input_is_shown_at_its_field() {
        auto w = open_window();
        QWidget* page = w->page(app::ExperimentPage);
        auto* train = child<QPushButton>(page, "trainButton");
        auto* lr = child<QLineEdit>(page, "lr");

        type_into(page, "lr", "abc");
        QVERIFY2(field_error(page, "lr").contains("expected a number"), qPrintable(field_error(page, "lr")));
        QVERIFY(!lr->property("fieldError").toString().isEmpty());
        QVERIFY(!lr->styleSheet().isEmpty()); // the red border
        QVERIFY(!train->isEnabled());

        type_into(page, "lr", "-1");
        QVERIFY2(field_error(page, "lr").startsWith("must be greater than 0"), qPrintable(field_error(page, "lr")));
        QVERIFY(!train->isEnabled());

        type_into(page, "lr", "5e-4");
        QCOMPARE(field_error(page, "lr"), QString());
        QVERIFY(lr->styleSheet().isEmpty());
        QVERIFY(train->isEnabled());

        // Other fields, other paths: an integer field, an empty field, no factor ticked, the clip plan.
        type_into(page, "batch_size", "2.5");
        QVERIFY2(field_error(page, "batch_size").contains("integer"), qPrintable(field_error(page, "batch_size")));
        type_into(page, "batch_size", "4");
        type_into(page, "epochs", "");
        QCOMPARE(field_error(page, "epochs"), QStringLiteral("the field is empty"));
        type_into(page, "epochs", "3");
        tick_only(page, "classifier", {});
        QCOMPARE(field_error(page, "classifier"), QStringLiteral("choose at least one value"));
        QCOMPARE(child<QLabel>(page, "runCount")->text(), QStringLiteral("0 runs"));
        tick_only(page, "classifier", {"ast-small"});
        type_into(page, "seed", "");
        QCOMPARE(field_error(page, "seed"), QStringLiteral("choose at least one value"));
        type_into(page, "seed", "0");
        type_into(page, "track_seconds", "20");
        QVERIFY2(field_error(page, "track_seconds").contains("do not fit"), qPrintable(field_error(page, "track_seconds")));
        type_into(page, "track_seconds", "30");
        tick_only(page, "pretraining", {"weights"});
        QVERIFY2(field_error(page, "pretrained_weights").contains("needs a file"),
                 qPrintable(field_error(page, "pretrained_weights")));
        tick_only(page, "pretraining", {"none"});
        child<QComboBox>(page, "dataset")->setCurrentText("nope");
        QVERIFY2(field_error(page, "dataset").contains("no imported dataset named 'nope'"),
                 qPrintable(field_error(page, "dataset")));
        QVERIFY(!train->isEnabled());
        child<QComboBox>(page, "dataset")->setCurrentText("tiny");
        QVERIFY(train->isEnabled());
    }

    // Off for a new experiment (the parser's default); one tick turns it on for every run, both
    // make it a grid axis.
    void activation_checkpointing_is_a_choice() {
        auto w = open_window();
        QWidget* page = w->page(app::ExperimentPage);
        auto* view = qobject_cast<widgets::ExperimentView*>(page);
        QVERIFY(child<QCheckBox>(page, "activation_checkpointing_false")->isChecked());
        QVERIFY(!child<QCheckBox>(page, "activation_checkpointing_true")->isChecked());
        tick_only(page, "activation_checkpointing", {"true"});
        auto ex = experiments::parse_experiment(view->to_json(), {});
        QVERIFY(ex.runs.at(0).activation_checkpointing);
        tick_only(page, "activation_checkpointing", {"false", "true"});
        ex = experiments::parse_experiment(view->to_json(), {});
        QCOMPARE(ex.runs.size(), size_t(2));
        QVERIFY(!ex.runs[0].activation_checkpointing && ex.runs[1].activation_checkpointing);
    }

    void the_clip_rule_marks_the_field_its_error_key_names() {
        auto w = open_window();
        QWidget* page = w->page(app::ExperimentPage);
        auto* view = qobject_cast<widgets::ExperimentView*>(page);
        QVERIFY(view);
        QVERIFY(view->findChild<app::ExperimentController*>());
        auto* track = child<QLineEdit>(page, "track_seconds");
        auto* clips = child<QLineEdit>(page, "clips_per_track");
        auto* train = child<QPushButton>(page, "trainButton");

        // Whatever broke the rule (more clips, longer clips), the engine keys it to the track
        // length, and the page shows its reason there as it is.
        for (const auto& [field, value] : {std::pair{"clips_per_track", "4"}, std::pair{"clip_seconds", "11"}}) {
            type_into(page, field, value);
            std::string key, reason;
            try {
                experiments::parse_experiment(view->to_json(), {});
            } catch (const Error& e) {
                key = e.field().key;
                reason = e.reason();
            }
            QCOMPARE(QString::fromStdString(key), QStringLiteral("track_seconds"));
            QVERIFY2(QString::fromStdString(reason).contains("do not fit"), reason.c_str());
            QCOMPARE(field_error(page, "track_seconds"), QString::fromStdString(reason));
            QCOMPARE(track->property("fieldError").toString(), QString::fromStdString(reason));
            QVERIFY(!track->styleSheet().isEmpty());
            QCOMPARE(field_error(page, field), QString()); // the field typed into is not the one marked
            QCOMPARE(field_error(page, "clips_per_track"), QString());
            QVERIFY(clips->styleSheet().isEmpty());
            QCOMPARE(child<QLabel>(page, "message")->text(), "track_seconds: " + QString::fromStdString(reason));
            QVERIFY(!train->isEnabled());
            type_into(page, field, field == std::string("clips_per_track") ? "3" : "10");
            QCOMPARE(field_error(page, "track_seconds"), QString());
            QVERIFY(track->styleSheet().isEmpty());
            QVERIFY(train->isEnabled());
        }
        // Turning augmentation off lifts the rule.
        type_into(page, "clips_per_track", "4");
        QVERIFY(!train->isEnabled());
        tick_only(page, "augmentation", {"false"});
        QCOMPARE(field_error(page, "track_seconds"), QString());
        QVERIFY(train->isEnabled());
    }

    void a_grid_counts_its_runs_and_saves_as_gafx_train_reads_it() {
        auto w = open_window();
        QWidget* page = w->page(app::ExperimentPage);
        type_into(page, "name", "grid-test");
        tick_only(page, "extractor", {"mel", "gafx-r"});
        QCOMPARE(child<QLabel>(page, "runCount")->text(), QStringLiteral("2 runs"));
        type_into(page, "seed", "1, 2");
        QCOMPARE(child<QLabel>(page, "runCount")->text(), QStringLiteral("4 runs"));

        const QString file = tmp_.path() + "/grid.json";
        type_into(page, "filePath", file);
        QTest::mouseClick(child<QPushButton>(page, "saveButton"), Qt::LeftButton);
        QVERIFY2(child<QLabel>(page, "message")->text().startsWith("Saved"), qPrintable(child<QLabel>(page, "message")->text()));
        const auto ex = experiments::read_experiment(file.toStdString());
        QCOMPARE(ex.name, std::string("grid-test"));
        QCOMPARE(int(ex.runs.size()), 4);
        QCOMPARE(ex.axes, (std::vector<std::string>{"extractor", "seed"}));
        QCOMPARE(ex.runs[0].extractor, std::string("mel"));
        QCOMPARE(ex.runs[0].seed, uint64_t(1));
        QCOMPARE(ex.runs[1].seed, uint64_t(2)); // seeds vary fastest
        QCOMPARE(ex.runs[3].extractor, std::string("gafx-r"));
        QCOMPARE(ex.runs[0].dataset, std::string("tiny"));
        QCOMPARE(ex.runs[0].lr, experiments::RunConfig{}.lr);

        // Opening it again in a fresh window gives back the same experiment.
        auto w2 = open_window();
        QWidget* page2 = w2->page(app::ExperimentPage);
        QVERIFY(QMetaObject::invokeMethod(page2, "openRequested", Q_ARG(QString, file)));
        QCOMPARE(child<QLineEdit>(page2, "name")->text(), QStringLiteral("grid-test"));
        QCOMPARE(child<QLineEdit>(page2, "seed")->text(), QStringLiteral("1, 2"));
        QVERIFY(child<QCheckBox>(page2, "extractor_gafx-r")->isChecked());
        QVERIFY(!child<QCheckBox>(page2, "extractor_gafx-u")->isChecked());
        QCOMPARE(child<QLabel>(page2, "runCount")->text(), QStringLiteral("4 runs"));
        QCOMPARE(child<QLineEdit>(page2, "filePath")->text(), file);
    }

    void grid_axes_without_a_control_are_kept() {
        const QString in = tmp_.path() + "/epochs.json", out = tmp_.path() + "/epochs-saved.json";
        test::write_bytes(in, R"({"name": "ep", "base": {"dataset": "tiny", "extractor": "mel"},
                                  "grid": {"epochs": [1, 2], "classifier": ["ast-tiny", "ast-small"], "seed": [0, 1]}})");
        auto w = open_window();
        QWidget* page = w->page(app::ExperimentPage);
        QVERIFY(QMetaObject::invokeMethod(page, "openRequested", Q_ARG(QString, in)));
        QVERIFY(child<QLabel>(page, "extraAxes")->isVisibleTo(page));
        QVERIFY(child<QLabel>(page, "extraAxes")->text().contains("epochs = [1,2]"));
        QCOMPARE(child<QLabel>(page, "runCount")->text(), QStringLiteral("8 runs"));
        type_into(page, "filePath", out);
        QTest::mouseClick(child<QPushButton>(page, "saveButton"), Qt::LeftButton);
        const auto ex = experiments::read_experiment(out.toStdString());
        QCOMPARE(int(ex.runs.size()), 8);
        QCOMPARE(ex.axes, (std::vector<std::string>{"classifier", "epochs", "seed"}));
    }

    void a_preset_fills_the_form() {
        auto w = open_window();
        QWidget* page = w->page(app::ExperimentPage);
        auto* presets = child<QComboBox>(page, "presetCombo");
        const int demo = presets->findText("demo.json");
        QVERIFY2(demo > 0, "experiments/demo.json is listed");
        QVERIFY(presets->findText("paper/table3.json") > 0);
        presets->setCurrentIndex(demo);
        QCOMPARE(child<QLineEdit>(page, "name")->text(), QStringLiteral("demo"));
        QCOMPARE(child<QLineEdit>(page, "epochs")->text(), QStringLiteral("6"));
        QCOMPARE(child<QLineEdit>(page, "batch_size")->text(), QStringLiteral("8"));
        QCOMPARE(child<QLineEdit>(page, "lr")->text().toDouble(), 5e-4);
        QCOMPARE(child<QLineEdit>(page, "warmup_steps")->text(), QStringLiteral("30"));
        QCOMPARE(child<QLineEdit>(page, "lr_halving_epochs")->text(), QStringLiteral("4"));
        QCOMPARE(child<QComboBox>(page, "preset")->currentText(), QStringLiteral("small"));
        QVERIFY(child<QCheckBox>(page, "extractor_mel")->isChecked());
        QVERIFY(!child<QCheckBox>(page, "extractor_gafx-u")->isChecked());
        QCOMPARE(child<QComboBox>(page, "dataset")->currentText(), QStringLiteral("demo"));
        // This workspace has no "demo" dataset: said at the field, and no training.
        QVERIFY2(field_error(page, "dataset").contains("no imported dataset named 'demo'"), qPrintable(field_error(page, "dataset")));
        QVERIFY(!child<QPushButton>(page, "trainButton")->isEnabled());
        QCOMPARE(child<QLineEdit>(page, "filePath")->text(), QString()); // saving never overwrites a preset
        QCOMPARE(presets->currentIndex(), 0);

        // A paper table: its classifier axis ticks both boxes, its seeds become a list.
        presets->setCurrentIndex(presets->findText("paper/table3.json"));
        QVERIFY(child<QCheckBox>(page, "classifier_ast-tiny")->isChecked());
        QVERIFY(child<QCheckBox>(page, "classifier_ast-small")->isChecked());
        QCOMPARE(child<QLineEdit>(page, "seed")->text(), QStringLiteral("0, 1, 2"));
        QCOMPARE(child<QLabel>(page, "runCount")->text(), QStringLiteral("6 runs"));
        // Its weights have fields; settings with none here (the 3308-frame input) are kept and shown.
        QCOMPARE(child<QLineEdit>(page, "classifier_weights")->text(), QStringLiteral("deit"));
        const auto table3 = experiments::parse_experiment(qobject_cast<widgets::ExperimentView*>(page)->to_json(), {});
        QCOMPARE(table3.runs.at(0).frames, int64_t(3308));
        QCOMPARE(table3.runs.at(0).classifier_weights, std::string("deit"));
        QVERIFY2(child<QLabel>(page, "extraAxes")->text().contains("frames = 3308"),
                 qPrintable(child<QLabel>(page, "extraAxes")->text()));
    }

    void train_creates_the_runs_and_the_trainer_finishes_them() {
        auto w = open_window();
        QWidget* page = w->page(app::ExperimentPage);
        type_into(page, "name", "tiny-train");
        child<QComboBox>(page, "dataset")->setCurrentText("tiny");
        tick_only(page, "extractor", {"mel"});
        tick_only(page, "classifier", {"ast-tiny"});
        tick_only(page, "augmentation", {"true"});
        tick_only(page, "pretraining", {"none"});
        child<QComboBox>(page, "preset")->setCurrentText("small");
        child<QComboBox>(page, "precision")->setCurrentText("fp32");
        type_into(page, "track_seconds", "4");
        type_into(page, "clips_per_track", "2");
        type_into(page, "clip_seconds", "1.5");
        type_into(page, "epochs", "1");
        type_into(page, "batch_size", "8");
        type_into(page, "lr", "0.0005");
        type_into(page, "warmup_steps", "5");
        type_into(page, "lr_halving_epochs", "2");
        type_into(page, "seed", "3");
        QCOMPARE(child<QLabel>(page, "runCount")->text(), QStringLiteral("1 run"));
        auto* train = child<QPushButton>(page, "trainButton");
        QVERIFY2(train->isEnabled(), qPrintable(child<QLabel>(page, "message")->text()));

        QSignalSpy finished(w->trainer(), &app::TrainingWorker::runFinished);
        QTest::mouseClick(train, Qt::LeftButton);
        QCOMPARE(w->tabs()->currentIndex(), int(app::TrainingPage));

        store::RunStore s(db_.toStdString());
        const auto runs = s.list_runs();
        QCOMPARE(int(runs.size()), 1);
        QCOMPARE(runs[0].experiment, std::string("tiny-train"));
        const auto c = experiments::parse_run_config(runs[0].config);
        QCOMPARE(c.dataset, std::string("tiny"));
        QCOMPARE(c.epochs, 1);
        QCOMPARE(c.seed, uint64_t(3));
        QCOMPARE(c.clip_seconds, 1.5);

        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 300000);
        QCOMPARE(finished.at(0).at(0).toLongLong(), qint64(runs[0].id));
        QVERIFY2(finished.at(0).at(1).value<store::RunStatus>() == store::RunStatus::Finished, qPrintable(finished.at(0).at(2).toString()));
        QCOMPARE(QString::fromLatin1(store::to_string(s.run(runs[0].id)->status)), QStringLiteral("finished"));

        // A finished run is now offered for pretraining "run".
        w->tabs()->setCurrentIndex(app::DatasetsPage);
        w->tabs()->setCurrentIndex(app::ExperimentPage);
        QTRY_VERIFY(child<QComboBox>(page, "pretrained_run")->findData(qint64(runs[0].id)) >= 0);
        // Named with what val says: a run to start from is never chosen by its test figure.
        auto* offered = child<QComboBox>(page, "pretrained_run");
        const QString label = offered->itemText(offered->findData(qint64(runs[0].id)));
        QVERIFY2(label.contains(QStringLiteral("(val ")) && !label.contains(QStringLiteral("test")), qPrintable(label));
    }
};

QTEST_MAIN(TestGuiExperiment)
#include "test_gui_experiment.moc"
