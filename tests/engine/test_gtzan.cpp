// GTZAN catalogue: layout variants, probing, invalid files kept with their reason,
// skipped and empty folders reported.
#include "core/error.h"
#include "data/gtzan.h"
#include "test_support.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <map>

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

    void symlinksStayInsideTheDatasetFolder() {
        QTemporaryDir dir, elsewhere;
        const QString root = dir.path() + "/gtzan";
        for (int i = 0; i < 2; ++i) test::write_audio(track_path(root, "blues", i), test::sine(110, 1.0, 8000));
        test::write_audio(track_path(root, "jazz", 0), test::sine(220, 1.0, 8000));
        test::write_audio(elsewhere.path() + "/secret.wav", test::sine(330, 1.0, 8000));
        // A genre folder linked to / (once walked the whole filesystem and made ../.. keys).
        QVERIFY(QFile::link(QStringLiteral("/"), root + "/everything"));
        // A link looping to itself (once threw filesystem_error and aborted the import), a link
        // out of the dataset, one inside it, and a folder linked back to its parent.
        QVERIFY(QFile::link(root + "/jazz/loop.wav", root + "/jazz/loop.wav"));
        QVERIFY(QFile::link(elsewhere.path() + "/secret.wav", root + "/jazz/secret.wav"));
        QVERIFY(QFile::link(track_path(root, "blues", 0), root + "/jazz/borrowed.wav"));
        QVERIFY(QFile::link(root + "/jazz", root + "/jazz/again"));
        const data::Catalog c = data::import_gtzan(root.toStdString(), {}, nullptr);
        QStringList classes;
        for (const auto& k : c.classes) classes << QString::fromStdString(k.id);
        QCOMPARE(classes, (QStringList{QStringLiteral("blues"), QStringLiteral("jazz")}));
        std::map<std::string, const data::Track*> by_key;
        for (const auto& t : c.tracks) {
            QVERIFY2(t.key.find("..") == std::string::npos, t.key.c_str());
            by_key[t.key] = &t;
        }
        QCOMPARE(by_key.size(), size_t(5)); // 2 blues; jazz.00000, loop.wav, borrowed.wav
        QCOMPARE(by_key.at("jazz/borrowed.wav")->status, data::TrackStatus::Valid);
        QCOMPARE(by_key.at("jazz/loop.wav")->status, data::TrackStatus::Invalid);
        QVERIFY2(by_key.at("jazz/loop.wav")->error.find("broken or looping link") != std::string::npos,
                 by_key.at("jazz/loop.wav")->error.c_str());
        QString warnings;
        for (const auto& w : c.warnings) warnings += QString::fromStdString(w) + "\n";
        QVERIFY2(warnings.contains(root + "/everything: leads to /, outside the dataset folder"), qPrintable(warnings));
        QVERIFY2(warnings.contains(root + "/jazz/secret.wav: links to") && warnings.contains(QStringLiteral("outside the dataset folder: skipped")),
                 qPrintable(warnings));
        QVERIFY2(warnings.contains(root + "/jazz/again: a link loop"), qPrintable(warnings));
    }

    void tracksUnlikeTheRestAreWarnedAbout() {
        QTemporaryDir dir;
        const QString root = dir.path();
        for (int i = 0; i < 4; ++i) test::write_audio(track_path(root, "blues", i), test::sine(110, 3.0, 22050));
        test::write_audio(track_path(root, "jazz", 0), test::sine(220, 3.0, 22050));
        test::write_audio(track_path(root, "jazz", 1), test::sine(220, 3.0, 8000)); // another rate
        test::write_audio(track_path(root, "jazz", 2), test::sine(220, 8.0, 22050)); // another length
        const data::Catalog c = data::import_gtzan(root.toStdString(), {}, nullptr);
        QString all;
        for (const auto& w : c.warnings) all += QString::fromStdString(w) + "\n";
        QVERIFY2(all.contains(track_path(root, "jazz", 1) + ": 8000 Hz where 6 of 7 tracks are 22050 Hz"), qPrintable(all));
        QVERIFY2(all.contains(track_path(root, "jazz", 2) + ": 8.0 s where the median track is 3.0 s"), qPrintable(all));
        QCOMPARE(all.count(QStringLiteral("check it is the right file")), 2);
        QCOMPARE(c.count(data::TrackStatus::Valid), int64_t(7)); // warned about, still used
    }
};

QTEST_GUILESS_MAIN(TestGtzan)
#include "test_gtzan.moc"
