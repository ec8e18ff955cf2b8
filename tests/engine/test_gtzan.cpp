// GTZAN catalogue: layout variants, probing, invalid files kept with their reason,
// skipped and empty folders reported.
#include "core/error.h"
#include "data/gtzan.h"
#include "test_support.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

using namespace gafx;

namespace {

const char* kGenres[] = {"blues", "classical", "country", "disco", "hiphop",
                         "jazz",  "metal",     "pop",     "reggae", "rock"};

QString track_path(const QString& root, const QString& genre, int i) {
    return QStringLiteral("%1/%2/%2.%3.wav").arg(root, genre).arg(i, 5, 10, QLatin1Char('0'));
}

// Like the real jazz.00054.wav: a file of plausible size that no decoder recognises.
QByteArray corrupt_bytes() {
    QByteArray b(8192, '\0');
    for (int i = 0; i < b.size(); ++i) b[i] = char((i * 7919) % 251);
    return b;
}

} // namespace

class TestGtzan : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void realGtzanShapeImportsAs999Plus1() {
        QTemporaryDir dir;
        const QString root = dir.path() + QStringLiteral("/gtzan");
        const audio::Waveform shortTrack = test::sine(440, 0.05, 22050);
        for (const char* g : kGenres)
            for (int i = 0; i < 100; ++i) {
                const QString p = track_path(root, QString::fromLatin1(g), i);
                if (QLatin1String(g) == QLatin1String("jazz") && i == 54)
                    test::write_bytes(p, corrupt_bytes());
                else
                    test::write_audio(p, shortTrack);
            }
        int progress_calls = 0;
        Feedback fb([&](int64_t, int64_t total, const std::string&) {
            ++progress_calls;
            QCOMPARE(total, int64_t(1000));
        });
        const data::Catalog c = data::import_gtzan(root.toStdString(), {}, &fb);
        QCOMPARE(c.tracks.size(), size_t(1000));
        QCOMPARE(c.count(data::TrackStatus::Valid), int64_t(999));
        QCOMPARE(c.count(data::TrackStatus::Invalid), int64_t(1));
        QCOMPARE(progress_calls, 1000);
        QCOMPARE(c.classes.size(), size_t(10));
        QCOMPARE(QString::fromStdString(c.name), QStringLiteral("gtzan"));
        for (const auto& t : c.tracks) {
            if (t.status != data::TrackStatus::Invalid) continue;
            QCOMPARE(QString::fromStdString(t.key), QStringLiteral("jazz/jazz.00054.wav"));
            QVERIFY(!t.error.empty());
        }
        const auto& first = c.tracks.front();
        QCOMPARE(first.sample_rate, 22050);
        QCOMPARE(first.channels, 1);
        QCOMPARE(first.frames, int64_t(1103));
        QCOMPARE(first.labels.front(), std::string("blues"));
    }

    void kaggleLevelHiddenNonAudioAndEmptyGenres() {
        QTemporaryDir dir;
        const QString top = dir.path() + QStringLiteral("/Data");
        const QString root = top + QStringLiteral("/genres_original");
        const audio::Waveform w = test::sine(220, 0.1, 22050);
        test::write_audio(track_path(root, QStringLiteral("blues"), 0), w);
        test::write_audio(track_path(root, QStringLiteral("blues"), 1), w);
        test::write_audio(track_path(root, QStringLiteral("rock"), 0), w);
        test::write_bytes(root + QStringLiteral("/rock/notes.txt"), "liner notes");
        test::write_bytes(root + QStringLiteral("/rock/.DS_Store"), "x");
        test::write_bytes(root + QStringLiteral("/.hidden/x.wav"), "x");
        QVERIFY(QDir().mkpath(root + QStringLiteral("/jazz")));
        test::write_bytes(top + QStringLiteral("/features_30_sec.csv"), "a,b\n");

        const data::Catalog c = data::import_gtzan(top.toStdString(), {"mine"}, nullptr);
        QCOMPARE(QString::fromStdString(c.name), QStringLiteral("mine"));
        QVERIFY(QString::fromStdString(c.root).endsWith(QStringLiteral("genres_original")));
        QCOMPARE(c.tracks.size(), size_t(3));
        QCOMPARE(c.classes.size(), size_t(2));
        QCOMPARE(c.empty_classes, std::vector<std::string>{"jazz"});
        QCOMPARE(c.skipped_non_audio.size(), size_t(1));
        QCOMPARE(c.skipped_hidden, int64_t(2));
        QVERIFY(!c.warnings.empty());
    }

    void stereoAndOtherFormatsAreProbed() {
        QTemporaryDir dir;
        const QString root = dir.path();
        test::write_audio(root + QStringLiteral("/pop/a.flac"), test::sine(440, 0.5, 44100, 2));
        test::write_audio(root + QStringLiteral("/pop/b.au"), test::sine(440, 0.25, 22050));
        const data::Catalog c = data::import_gtzan(root.toStdString(), {}, nullptr);
        QCOMPARE(c.count(data::TrackStatus::Valid), int64_t(2));
        QCOMPARE(c.tracks[0].channels, 2);
        QCOMPARE(c.tracks[0].sample_rate, 44100);
        QVERIFY(qAbs(c.tracks[1].duration - 0.25) < 1e-3);
    }

    void missingFolderNamesIt() {
        try {
            data::import_gtzan("/nonexistent/gtzan", {}, nullptr);
            QFAIL("a missing folder was accepted");
        } catch (const Error& e) {
            QCOMPARE(QString::fromStdString(e.path()), QStringLiteral("/nonexistent/gtzan"));
        }
    }

    void folderWithoutGenresIsAnError() {
        QTemporaryDir dir;
        test::write_bytes(dir.path() + QStringLiteral("/readme.txt"), "x");
        QVERIFY_THROWS_EXCEPTION(Error, data::import_gtzan(dir.path().toStdString(), {}, nullptr));
    }

    void cancelStopsTheImport() {
        QTemporaryDir dir;
        for (int i = 0; i < 5; ++i)
            test::write_audio(track_path(dir.path(), QStringLiteral("rock"), i), test::sine(220, 0.05, 22050));
        Feedback fb([&](int64_t done, int64_t, const std::string&) { if (done == 2) fb.cancel(); });
        QVERIFY_THROWS_EXCEPTION(Cancelled, data::import_gtzan(dir.path().toStdString(), {}, &fb));
    }
};

QTEST_GUILESS_MAIN(TestGtzan)
#include "test_gtzan.moc"
