// The Inspector page on a tiny workspace with runs trained here: a track chosen through
// ctx.inspect and through the search box, the waveform, log-mel and run feature maps arriving
// from the worker with the sizes the tiny config implies, probabilities and true label, linked
// time zoom, the shared colour scale, .npy and PNG export, the disk cache reused by a fresh
// page, and a run without weights shown as a message.
#include "inspector_controller.h"
#include "inspector_view.h"
#include "pages.h"
#include "workspace.h"

#include "core/npy.h"
#include "store/run_paths.h"
#include "store/run_store.h"
#include "test_support.h"
#include "train/trainer.h"

#include <QApplication>
#include <QCheckBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QListWidget>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimer>
#include <QWheelEvent>
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <memory>

using namespace gafx;
using widgets::InspectorView;

namespace {

std::string config(const std::string& clips, int epochs, int seed) {
    return R"({"dataset": "tiny", "extractor": "mel", "classifier": "ast-tiny", "preset": "small",
               "track_seconds": 4, )" + clips + R"(, "epochs": )" + std::to_string(epochs) +
           R"(, "batch_size": 8, "lr": 0.0005, "warmup_steps": 5, "lr_halving_epochs": [2],
               "precision": "fp32", "seed": )" + std::to_string(seed) + "}";
}

// Kaldi fbank frames at 22050 Hz: a 25 ms window is 551 samples, a 10 ms shift 220.
int mel_frames(double seconds) { return 1 + (int(std::lround(seconds * 22050)) - 551) / 220; }

// Answers the next modal QFileDialog with `dir` (the widget dialog: offscreen has no native one),
// trying again until it closes.
void answer_file_dialog(const QString& dir) {
    auto* timer = new QTimer;
    auto seen = std::make_shared<bool>(false);
    QObject::connect(timer, &QTimer::timeout, timer, [timer, dir, seen] {
        auto* dialog = qobject_cast<QFileDialog*>(QApplication::activeModalWidget());
        if (!dialog) {
            if (*seen) timer->deleteLater();
            return;
        }
        *seen = true;
        // Typed as an absolute path: what the user types wins over the view, which loads lazily.
        auto* name = dialog->findChild<QLineEdit*>(QStringLiteral("fileNameEdit"));
        if (!name) return;
        name->setText(dir);
        static_cast<QDialog*>(dialog)->accept(); // QFileDialog::accept, public through QDialog
    });
    timer->start(50);
}

double probability_sum(QListWidget* list) {
    double sum = 0;
    for (int i = 0; i < list->count(); ++i) sum += list->item(i)->data(Qt::UserRole).toDouble();
    return sum;
}

} // namespace

class TestGuiInspector : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string db_;
    qint64 run_ = 0, other_run_ = 0, bare_run_ = 0;
    qint64 track_ = 0, second_track_ = 0, third_track_ = 0;
    QString genre_, stem_, second_stem_, second_genre_; // the tracks' file names without extension
    std::unique_ptr<app::Workspace> workspace_;
    app::AppContext ctx_;
    std::unique_ptr<QWidget> page_;
    InspectorView* view_ = nullptr;

    // The run's own folder (runs/<id>-<uid> beside the database), as every caller asks for it.
    std::string run_dir() const { return store::run_paths(db_, *store::RunStore(db_).run(run_)).dir; }
    int shown_page_ = -1;

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QSettings().clear(); // test-mode settings outlive the run; start from none
        QVERIFY(dir_.isValid());
        db_ = test::make_demo_workspace(dir_.path(), 5, 4.0);
        store::RunStore s(db_);
        train::TrainOptions o;
        o.threads = 1;
        train::TrainControl control;
        auto train = [&](int64_t run) {
            const auto r = train::train_run(s, run, o, control);
            QVERIFY2(r.status == store::RunStatus::Finished, r.message.c_str());
        };
        run_ = s.create_run(0, config(R"("clips_per_track": 2, "clip_seconds": 1.5)", 2, 3), 3);
        train(run_);
        if (QTest::currentTestFailed()) return;
        // Other clips give other normalisation statistics: a colour range of its own.
        other_run_ = s.create_run(0, config(R"("clips_per_track": 3, "clip_seconds": 1.0)", 1, 5), 5);
        train(other_run_);
        if (QTest::currentTestFailed()) return;
        bare_run_ = s.create_run(0, config(R"("clips_per_track": 2, "clip_seconds": 1.5)", 2, 7), 7);
        const auto ds = s.load_dataset("tiny");
        QVERIFY(ds);
        track_ = ds->catalog.tracks[0].id;
        genre_ = QString::fromStdString(ds->catalog.tracks[0].labels[0]);
        stem_ = QFileInfo(QString::fromStdString(ds->catalog.tracks[0].key)).completeBaseName();
        second_track_ = ds->catalog.tracks[1].id;
        second_stem_ = QFileInfo(QString::fromStdString(ds->catalog.tracks[1].key)).completeBaseName();
        second_genre_ = QString::fromStdString(ds->catalog.tracks[1].labels[0]);
        third_track_ = ds->catalog.tracks[2].id;

        workspace_ = std::make_unique<app::Workspace>(QString::fromStdString(db_));
        ctx_.workspace = workspace_.get();
        ctx_.show_page = [this](app::Page p) { shown_page_ = int(p); };
        page_.reset(app::create_inspector_page(ctx_, nullptr));
        view_ = qobject_cast<InspectorView*>(page_.get());
        QVERIFY(view_);
        QVERIFY(view_->findChild<app::InspectorController*>()); // the page's controller, owned by its view
        QVERIFY(ctx_.inspect);
        page_->resize(1300, 1000);
        page_->show();
    }

    void inspectShowsMapsAndPrediction() {
        ctx_.inspect({run_}, track_);
        QCOMPARE(shown_page_, int(app::InspectorPage));
        QCOMPARE(view_->current_track(), track_);
        QCOMPARE(view_->checked_runs(), QList<qint64>{run_});
        // Results only arrive through the event loop: until then every plot says so.
        QCOMPARE(view_->run_view(run_)->message(), QStringLiteral("computing…"));
        QCOMPARE(view_->mel()->message(), QStringLiteral("computing…"));
        QVERIFY(view_->findChild<QLabel*>(QStringLiteral("busyLabel"))->text().startsWith(QStringLiteral("computing…")));
        QTRY_VERIFY_WITH_TIMEOUT(view_->run_view(run_) && view_->run_view(run_)->has_map(), 120000);
        // The whole 4 s track as the run sees it: 2 clips of 1.5 s, concatenated in time.
        QCOMPARE(view_->run_view(run_)->frames(), 2 * mel_frames(1.5));
        QCOMPARE(view_->run_view(run_)->bins(), 128);
        QTRY_VERIFY_WITH_TIMEOUT(view_->mel()->has_map(), 60000);
        QCOMPARE(view_->mel()->frames(), mel_frames(4.0));
        QCOMPARE(view_->mel()->bins(), 128);
        QVERIFY(view_->waveform()->buckets() > 0);
        QVERIFY(view_->waveform()->message().isEmpty());

        QListWidget* probs = view_->run_probabilities(run_);
        QCOMPARE(probs->count(), 10); // the demo's ten genres
        QVERIFY(std::fabs(probability_sum(probs) - 1.0) < 1e-4);
        for (int i = 1; i < probs->count(); ++i) // sorted, most likely first
            QVERIFY(probs->item(i - 1)->data(Qt::UserRole).toDouble() >= probs->item(i)->data(Qt::UserRole).toDouble());
        QVERIFY(!probs->findItems(genre_ + QStringLiteral("  "), Qt::MatchStartsWith).isEmpty());
        QVERIFY(!probs->findItems(QStringLiteral("← true"), Qt::MatchContains).isEmpty());
        auto* prediction = view_->findChild<QLabel*>(QStringLiteral("prediction%1").arg(run_));
        QVERIFY(prediction->text().contains(QStringLiteral("True: <b>%1</b>").arg(genre_)));
        QVERIFY(view_->findChild<QLabel*>(QStringLiteral("trackHeader"))->text().contains(genre_));

        // Cached on disk beside the run's weights.
        const QString cache = QString::fromStdString(run_dir()) + QStringLiteral("/features/%1.npy").arg(track_);
        QTRY_VERIFY(QFileInfo::exists(cache));
        const NpyArray cached = read_npy_f32(cache.toStdString());
        QCOMPARE(cached.shape, (std::vector<int64_t>{2 * mel_frames(1.5), 128}));
    }

    void zoomingOnePlotMovesTheOthers() {
        auto* run_plot = view_->run_view(run_)->findChild<QWidget*>(QStringLiteral("plot"));
        QVERIFY(run_plot);
        QTest::qWait(100); // let the queued replot lay the axis rect out
        const QPoint at = run_plot->rect().center();
        QWheelEvent wheel(at, run_plot->mapToGlobal(at), QPoint(), QPoint(0, 240), Qt::NoButton, Qt::NoModifier,
                          Qt::NoScrollPhase, false);
        QApplication::sendEvent(run_plot, &wheel);
        const auto range = view_->run_view(run_)->time_range();
        QVERIFY2(range.second - range.first < 3.9, "the wheel did not zoom the run's map");
        QCOMPARE(view_->mel()->time_range(), range);
        QCOMPARE(view_->waveform()->time_range(), range);
        view_->mel()->set_time_range(0, 4); // a silent set: nothing follows
        QCOMPARE(view_->run_view(run_)->time_range(), range);
    }

    void sharedColourScaleSpansTheRuns() {
        ctx_.inspect({run_, other_run_}, track_);
        QTRY_VERIFY_WITH_TIMEOUT(view_->run_view(other_run_) && view_->run_view(other_run_)->has_map(), 120000);
        QCOMPARE(view_->run_view(other_run_)->frames(), 3 * mel_frames(1.0));
        auto* a = view_->run_view(run_);
        auto* b = view_->run_view(other_run_);
        QVERIFY(a->has_map());
        QCOMPARE(a->colour_range(), a->data_range());
        QCOMPARE(b->colour_range(), b->data_range());
        QVERIFY(a->data_range() != b->data_range());
        auto* shared = view_->findChild<QCheckBox*>(QStringLiteral("sharedScale"));
        QTest::mouseClick(shared, Qt::LeftButton);
        QVERIFY(shared->isChecked());
        const QPair<double, double> both{std::min(a->data_range().first, b->data_range().first),
                                         std::max(a->data_range().second, b->data_range().second)};
        QCOMPARE(a->colour_range(), both);
        QCOMPARE(b->colour_range(), both);
        QTest::mouseClick(shared, Qt::LeftButton);
        QCOMPARE(a->colour_range(), a->data_range());
        QCOMPARE(b->colour_range(), b->data_range());
    }

    void exportWritesNpyAndPng() {
        const QString out = dir_.path() + QStringLiteral("/export");
        QVERIFY(QDir().mkpath(out));
        answer_file_dialog(out);
        QTest::mouseClick(view_->findChild<QPushButton*>(QStringLiteral("exportNpy")), Qt::LeftButton);
        QTRY_VERIFY(view_->note().startsWith(QStringLiteral("Exported 3")));
        const QString stem = out + QStringLiteral("/") + stem_;
        QCOMPARE(read_npy_f32((stem + QStringLiteral("_run%1.npy").arg(run_)).toStdString()).shape,
                 (std::vector<int64_t>{2 * mel_frames(1.5), 128}));
        QCOMPARE(read_npy_f32((stem + QStringLiteral("_run%1.npy").arg(other_run_)).toStdString()).shape,
                 (std::vector<int64_t>{3 * mel_frames(1.0), 128}));
        QCOMPARE(read_npy_f32((stem + QStringLiteral("_mel.npy")).toStdString()).shape,
                 (std::vector<int64_t>{mel_frames(4.0), 128}));

        answer_file_dialog(out);
        QTest::mouseClick(view_->findChild<QPushButton*>(QStringLiteral("exportPng")), Qt::LeftButton);
        QTRY_VERIFY(view_->note().startsWith(QStringLiteral("Exported 4")));
        for (const QString& name : {QStringLiteral("_waveform"), QStringLiteral("_mel"), QStringLiteral("_run%1").arg(run_)})
            QVERIFY2(!QImage(stem + name + QStringLiteral(".png")).isNull(), qPrintable(name));
    }

    void searchAndClickPicksATrack() {
        auto* search = view_->findChild<QLineEdit*>(QStringLiteral("trackSearch"));
        auto* list = view_->findChild<QListView*>(QStringLiteral("trackList"));
        search->clear();
        // Two words in any order: the number part of the name, then the genre.
        QTest::keyClicks(search, second_stem_.section(QLatin1Char('.'), 1) + QLatin1Char(' ') + second_genre_);
        QTRY_COMPARE(list->model()->rowCount(), 1);
        const QModelIndex row = list->model()->index(0, 0);
        QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, list->visualRect(row).center());
        QCOMPARE(view_->current_track(), second_track_);
        QTRY_VERIFY_WITH_TIMEOUT(view_->run_view(run_)->has_map() && view_->mel()->has_map(), 120000);
        QVERIFY(view_->findChild<QLabel*>(QStringLiteral("trackHeader"))->text().contains(second_stem_));
        QVERIFY(std::fabs(probability_sum(view_->run_probabilities(run_)) - 1.0) < 1e-4);
    }

    void aFreshPageReusesTheDiskCache() {
        const std::string cache = run_dir() + "/features/" + std::to_string(track_) + ".npy";
        const auto before = std::filesystem::last_write_time(cache);
        app::AppContext ctx;
        ctx.workspace = workspace_.get();
        std::unique_ptr<QWidget> page(app::create_inspector_page(ctx, nullptr));
        auto* view = qobject_cast<InspectorView*>(page.get());
        ctx.inspect({run_}, track_);
        QTRY_VERIFY_WITH_TIMEOUT(view->run_view(run_) && view->run_view(run_)->has_map(), 60000);
        QCOMPARE(view->run_view(run_)->frames(), 2 * mel_frames(1.5));
        QVERIFY(std::filesystem::last_write_time(cache) == before);
    }

    void cancelStopsTheWorkUntilTheNextPick() {
        // Run maps are computed one at a time: the second is still queued when Cancel lands.
        ctx_.inspect({run_, other_run_}, third_track_);
        auto* cancel = view_->findChild<QPushButton*>(QStringLiteral("cancelMaps"));
        QVERIFY(cancel->isVisible());
        QTest::mouseClick(cancel, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(view_->run_view(other_run_)->message().contains(QStringLiteral("Cancelled")), 30000);
        QTRY_VERIFY(!cancel->isVisible()); // nothing left running
        ctx_.inspect({other_run_}, third_track_);
        QTRY_VERIFY_WITH_TIMEOUT(view_->run_view(other_run_)->has_map(), 60000);
        QCOMPARE(view_->run_view(other_run_)->frames(), 3 * mel_frames(1.0));
    }

    void aRunWithoutWeightsShowsAMessage() {
        ctx_.inspect({bare_run_}, track_);
        const QString why = QStringLiteral("never finished an epoch");
        QTRY_VERIFY_WITH_TIMEOUT(view_->run_view(bare_run_) && view_->run_view(bare_run_)->message().contains(why), 30000);
        QVERIFY(!view_->run_view(bare_run_)->has_map());
        QCOMPARE(view_->run_probabilities(bare_run_)->count(), 0);
        QVERIFY(view_->mel()->has_map()); // the track's own plots are unaffected
    }

    void cleanupTestCase() {
        page_.reset();
        workspace_.reset();
    }
};

QTEST_MAIN(TestGuiInspector)
#include "test_gui_inspector.moc"
