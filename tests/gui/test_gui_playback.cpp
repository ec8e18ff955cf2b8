// Listening on the real main window: the Inspector's play bar says why nothing can be heard on a
// machine without an audio device (CI) and everything else works; the track loads, a click on a
// plot seeks and moves the playhead on every plot, shift + drag loops a span, the space bar
// toggles; the Datasets page plays its current track through the same player.
#include "main_window.h"

#include "audio_player.h"
#include "datasets_view.h"
#include "feature_map_view.h"
#include "inspector_view.h"
#include "playback_bar.h"
#include "qcustomplot_include.h"
#include "waveform_view.h"

#include "test_support.h"

#include <QLabel>
#include <QPushButton>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace gafx;

class TestGuiPlayback : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string db_;

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(dir_.isValid());
        db_ = test::make_demo_workspace(dir_.path(), 2, 4.0);
    }

    void inspectorPlayheadSeekAndLoop() {
        app::MainWindow w(QString::fromStdString(db_));
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.tabs()->setCurrentIndex(app::InspectorPage);
        auto* view = qobject_cast<widgets::InspectorView*>(w.page(app::InspectorPage));
        app::AudioPlayer* player = w.player();
        QVERIFY(view && player);
        widgets::PlaybackBar* bar = view->playback();
        // Without an audio device the bar says so and the button stays off; with one it plays.
        QCOMPARE(bar->unavailable(), player->unavailable());
        auto* play = bar->findChild<QPushButton*>(QStringLiteral("playButton"));

        w.context().inspect({}, 1); // ids count from 1 in a new workspace
        const qint64 track = view->current_track();
        QCOMPARE(track, qint64(1));
        QTRY_VERIFY_WITH_TIMEOUT(view->waveform()->buckets() > 0, 20000);
        QCOMPARE(play->isEnabled(), player->unavailable().isEmpty());

        // The space bar asks to play: the track is decoded (and heard, where a device is).
        view->setFocus();
        QTest::keyClick(view, Qt::Key_Space);
        QTRY_VERIFY_WITH_TIMEOUT(player->loaded() && player->track() == track, 20000);
        QVERIFY(std::fabs(player->duration() - 4.0) < 0.05);
        QCOMPARE(player->playing(), player->unavailable().isEmpty());
        if (player->playing()) player->pause();

        // A click at 1 s on the waveform seeks there; every plot draws the playhead.
        QWidget* wave = view->waveform()->plot();
        QTest::mouseClick(wave, Qt::LeftButton, {}, QPoint(view->waveform()->x_of(1.0), wave->height() / 2));
        QVERIFY2(std::fabs(player->position() - 1.0) < 0.05, qPrintable(QString::number(player->position())));
        QVERIFY(std::fabs(view->waveform()->playhead() - player->position()) < 1e-9);
        QVERIFY(std::fabs(view->mel()->playhead() - player->position()) < 1e-9);
        QVERIFY2(bar->text().contains(QStringLiteral(" / 0:04.0")), qPrintable(bar->text())); // position / length

        // Shift + drag on the mel from 0.5 s to 2 s loops that span; the position moves into it.
        QWidget* mel = view->mel()->plot();
        const int y = mel->height() / 2;
        QTest::mousePress(mel, Qt::LeftButton, Qt::ShiftModifier, QPoint(view->mel()->x_of(0.5), y));
        QTest::mouseRelease(mel, Qt::LeftButton, Qt::ShiftModifier, QPoint(view->mel()->x_of(2.0), y));
        const auto loop = player->loop();
        QVERIFY2(std::fabs(loop.first - 0.5) < 0.05 && std::fabs(loop.second - 2.0) < 0.05,
                 qPrintable(QStringLiteral("%1..%2").arg(loop.first).arg(loop.second)));
        QVERIFY(std::fabs(player->position() - loop.first) < 1e-6);
        QVERIFY2(bar->text().contains(QStringLiteral("looping")), qPrintable(bar->text()));
        // A seek outside the loop lands at its start; "No loop" ends it.
        player->seek(3.0);
        QVERIFY(std::fabs(player->position() - loop.first) < 1e-6);
        QTest::mouseClick(bar->findChild<QPushButton*>(QStringLiteral("clearLoopButton")), Qt::LeftButton);
        QCOMPARE(player->loop().second, 0.0);
        player->seek(3.0);
        QVERIFY(std::fabs(player->position() - 3.0) < 0.05);
        // Another track: the playhead leaves this one's plots until it is played.
        w.context().inspect({}, track + 1);
        QCOMPARE(view->current_track(), track + 1);
        QVERIFY(std::isnan(view->waveform()->playhead()));
    }

    void datasetsPagePlaysItsCurrentTrack() {
        app::MainWindow w(QString::fromStdString(db_));
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.tabs()->setCurrentIndex(app::DatasetsPage);
        auto* view = qobject_cast<widgets::DatasetsView*>(w.page(app::DatasetsPage));
        QVERIFY(view);
        QTableView* table = view->track_table();
        QTRY_VERIFY(table->model()->rowCount() > 0);
        table->setFocus();
        table->setCurrentIndex(table->model()->index(2, 0));
        QTest::keyClick(table, Qt::Key_Space);
        app::AudioPlayer* player = w.player();
        QTRY_VERIFY_WITH_TIMEOUT(player->loaded(), 20000);
        QCOMPARE(view->playback()->unavailable(), player->unavailable());
        QVERIFY(player->track() != 0);
        QVERIFY(player->error().isEmpty());
    }
};

QTEST_MAIN(TestGuiPlayback)
#include "test_gui_playback.moc"
