// The one import workflow (engine/workflows): counts, the "no valid audio" refusal, groups,
// cancellation before anything is stored, re-splits, and the demo on first start.
#include "core/error.h"
#include "core/feedback.h"
#include "store/run_store.h"
#include "store/sqlite_db.h"
#include "test_support.h"
#include "workflows/demo_dataset.h"
#include "workflows/import_dataset.h"

#include <QDir>
#include <QFileInfo>
#include <QSet>
#include <QTemporaryDir>
#include <QtTest>

using namespace gafx;

namespace {

QString track_path(const QString& root, const QString& genre, int i) {
    return QStringLiteral("%1/%2/%2.%3.wav").arg(root, genre).arg(i, 5, 10, QLatin1Char('0'));
}

// `per_genre` short valid tracks in each of blues and rock.
void write_tracks(const QString& root, int per_genre) {
    for (const char* g : {"blues", "rock"})
        for (int i = 0; i < per_genre; ++i)
            test::write_audio(track_path(root, QString::fromLatin1(g), i), test::sine(220 + 50 * i, 0.05, 22050));
}

// A file of plausible size that no decoder recognises.
QByteArray corrupt_bytes() {
    QByteArray b(4096, '\0');
    for (int i = 0; i < b.size(); ++i) b[i] = char((i * 7919) % 251);
    return b;
}

workflows::ImportRequest gtzan(const QString& source, const std::string& name = "gt") {
    workflows::ImportRequest r;
    r.kind = "gtzan";
    r.source = source.toStdString();
    r.name = name;
    return r;
}

} // namespace

class TestImportDataset : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void gtzanFolderImportsWithCounts() {
        QTemporaryDir dir;
        const QString root = dir.path() + QStringLiteral("/music");
        write_tracks(root, 3);
        test::write_bytes(track_path(root, QStringLiteral("rock"), 9), corrupt_bytes());
        test::write_bytes(root + QStringLiteral("/rock/notes.txt"), "liner notes");
        store::RunStore s((dir.path() + QStringLiteral("/ws.db")).toStdString());
        int progress = 0;
        Feedback fb([&](int64_t, int64_t, const std::string&) { ++progress; });

        workflows::ImportRequest req = gtzan(root, "");
        req.split.seed = 7;
        const workflows::ImportReport r = workflows::import_dataset(s, req, &fb);
        QCOMPARE(progress, 7);
        QCOMPARE(QString::fromStdString(r.dataset), QStringLiteral("music")); // the folder's name
        QCOMPARE(QString::fromStdString(r.kind), QStringLiteral("gtzan"));
        QCOMPARE(r.tracks, int64_t(7));
        QCOMPARE(r.valid, int64_t(6));
        QCOMPARE(r.invalid, int64_t(1));
        QCOMPARE(r.missing, int64_t(0));
        QCOMPARE(r.classes, int64_t(2));
        QCOMPARE(r.counts.test, int64_t(2)); // round(0.2 * 3) per genre
        QCOMPARE(r.counts.val, int64_t(2));  // round(0.1 * 3) is 0, but a class of 3 gives val one
        QCOMPARE(r.counts.train, int64_t(2));
        QCOMPARE(QString::fromStdString(r.split_method), QStringLiteral("seeded, stratified by class"));
        QCOMPARE(r.split.seed, uint64_t(7));
        QCOMPARE(r.skipped_non_audio, int64_t(1));
        QCOMPARE(r.invalid_tracks.size(), size_t(1));
        QVERIFY(QString::fromStdString(r.invalid_tracks[0].path).endsWith(QStringLiteral("rock.00009.wav")));
        QVERIFY(!r.invalid_tracks[0].error.empty());
        QVERIFY(r.warnings.empty());
        QCOMPARE(r.database, s.path());

        const auto d = s.load_dataset("music");
        QVERIFY(d);
        QCOMPARE(d->catalog.tracks.size(), size_t(7));
        QCOMPARE(d->split.count(data::Subset::Test), int64_t(2));
        QCOMPARE(d->split.options.seed, uint64_t(7));
    }

    void onlyCorruptFilesAreRefusedAndNothingIsStored() {
        QTemporaryDir dir;
        const QString root = dir.path() + QStringLiteral("/broken");
        test::write_bytes(track_path(root, QStringLiteral("rock"), 0), corrupt_bytes());
        test::write_bytes(track_path(root, QStringLiteral("jazz"), 1), QByteArray(100, 'x'));
        store::RunStore s((dir.path() + QStringLiteral("/ws.db")).toStdString());
        try {
            workflows::import_dataset(s, gtzan(root), nullptr);
            QFAIL("a folder without valid audio was imported");
        } catch (const workflows::NoValidAudio& e) {
            QCOMPARE(QString::fromStdString(e.path()), root);
            QVERIFY2(QString::fromStdString(e.reason()).contains(QStringLiteral("no valid audio among 2 tracks")), e.what());
            QCOMPARE(e.tracks().size(), size_t(2));
            QStringList paths;
            for (const auto& t : e.tracks()) {
                paths << QFileInfo(QString::fromStdString(t.path)).fileName();
                QCOMPARE(t.status, data::TrackStatus::Invalid);
                QVERIFY(!t.error.empty());
            }
            paths.sort();
            QCOMPARE(paths, QStringList({QStringLiteral("jazz.00001.wav"), QStringLiteral("rock.00000.wav")}));
        }
        QVERIFY(s.list_datasets().empty());
    }

    void groupsStayOnOneSideAndUnmatchedRowsWarn() {
        QTemporaryDir dir;
        const QString root = dir.path() + QStringLiteral("/music");
        write_tracks(root, 5);
        const QString groups = dir.path() + QStringLiteral("/groups.csv");
        test::write_bytes(groups, "track,group\nblues.00000.wav,g\nblues.00001,g\nblues/blues.00002.wav,g\n"
                                  "blues.00003.wav,g\nrock.00000.wav,r\nrock.00001.wav,r\nnope.wav,h\n");
        store::RunStore s((dir.path() + QStringLiteral("/ws.db")).toStdString());
        for (uint64_t seed : {0, 1, 2, 3}) {
            workflows::ImportRequest req = gtzan(root);
            req.split.seed = seed;
            req.split.groups_file = groups.toStdString();
            const auto r = workflows::import_dataset(s, req, nullptr);
            QCOMPARE(QString::fromStdString(r.split_method), QStringLiteral("seeded, stratified by class, by group"));
            QCOMPARE(QString::fromStdString(r.split.groups_file), groups);
            QCOMPARE(r.unmatched_group_rows, std::vector<std::string>{"nope.wav"});
            QCOMPARE(r.warnings.size(), size_t(1));
            QVERIFY2(QString::fromStdString(r.warnings[0]).contains(QStringLiteral("1 row(s) name no track")),
                     r.warnings[0].c_str());
            const auto d = s.load_dataset("gt");
            QVERIFY(d);
            QCOMPARE(QString::fromStdString(d->split.options.groups_file), groups);
            QSet<int> g, rr;
            for (size_t i = 0; i < d->catalog.tracks.size(); ++i) {
                const std::string& k = d->catalog.tracks[i].key;
                if (k.rfind("blues/", 0) == 0 && k != "blues/blues.00004.wav") g.insert(int(d->split.subset[i]));
                if (k == "rock/rock.00000.wav" || k == "rock/rock.00001.wav") rr.insert(int(d->split.subset[i]));
            }
            QCOMPARE(g.size(), 1);
            QCOMPARE(rr.size(), 1);
        }
        QCOMPARE(s.list_datasets().size(), size_t(1)); // re-imports update the one dataset
    }

    void cancelBeforeStoringStoresNothing() {
        QTemporaryDir dir;
        const QString root = dir.path() + QStringLiteral("/music");
        write_tracks(root, 2);
        store::RunStore s((dir.path() + QStringLiteral("/ws.db")).toStdString());
        // Cancelled as the last file is probed: the catalogue is complete, the import must still stop.
        Feedback fb([&](int64_t done, int64_t total, const std::string&) {
            if (done == total) fb.cancel();
        });
        QVERIFY_THROWS_EXCEPTION(Cancelled, workflows::import_dataset(s, gtzan(root), &fb));
        QVERIFY(s.list_datasets().empty());

        // And a re-split cancelled before it starts keeps the stored split.
        const auto r = workflows::import_dataset(s, gtzan(root), nullptr);
        Feedback stop;
        stop.cancel();
        data::SplitOptions other;
        other.seed = 99;
        QVERIFY_THROWS_EXCEPTION(Cancelled, workflows::resplit_dataset(s, "gt", other, &stop));
        QCOMPARE(s.load_dataset("gt")->split.options.seed, uint64_t(0));
        QCOMPARE(r.split.seed, uint64_t(0));
    }

    void badRequestsNameTheField() {
        QTemporaryDir dir;
        store::RunStore s((dir.path() + QStringLiteral("/ws.db")).toStdString());
        workflows::ImportRequest req = gtzan(dir.path());
        req.kind = "mp3s";
        try {
            workflows::import_dataset(s, req, nullptr);
            QFAIL("kind accepted");
        } catch (const Error& e) {
            QCOMPARE(QString::fromStdString(e.field().key), QStringLiteral("kind"));
        }
        req = gtzan(dir.path());
        req.split.test_fraction = 1.0;
        try {
            workflows::import_dataset(s, req, nullptr);
            QFAIL("test fraction 1 accepted");
        } catch (const Error& e) {
            QCOMPARE(QString::fromStdString(e.field().key), QStringLiteral("test_fraction"));
        }
        QVERIFY(s.list_datasets().empty());
    }

    void resplitAppliesGroups() {
        QTemporaryDir dir;
        const QString root = dir.path() + QStringLiteral("/music");
        write_tracks(root, 5);
        store::RunStore s((dir.path() + QStringLiteral("/ws.db")).toStdString());
        workflows::import_dataset(s, gtzan(root), nullptr);
        const QString groups = dir.path() + QStringLiteral("/groups.csv");
        test::write_bytes(groups, "track,group\nblues.00000,a\nblues.00001,a\nblues.00002,a\nblues.00003,a\nzzz,b\n");
        data::SplitOptions o;
        o.seed = 4;
        o.test_fraction = 0.4;
        o.groups_file = groups.toStdString();
        const auto r = workflows::resplit_dataset(s, "gt", o, nullptr);
        QCOMPARE(QString::fromStdString(r.dataset), QStringLiteral("gt"));
        QCOMPARE(r.split.seed, uint64_t(4));
        QCOMPARE(r.unmatched_group_rows, std::vector<std::string>{"zzz"});
        QCOMPARE(r.warnings.size(), size_t(1));
        const auto d = s.load_dataset("gt");
        QCOMPARE(QString::fromStdString(d->split.options.groups_file), groups);
        QCOMPARE(d->split.options.seed, uint64_t(4));
        QCOMPARE(r.counts.train + r.counts.val + r.counts.test, int64_t(10));
        QCOMPARE(d->split.count(data::Subset::Test), r.counts.test);
        QCOMPARE(d->split.count(data::Subset::Val), r.counts.val);
        QVERIFY(r.counts.val > 0);
        QSet<int> sides;
        for (size_t i = 0; i < d->catalog.tracks.size(); ++i)
            if (d->catalog.tracks[i].key < "blues/blues.00004") sides.insert(int(d->split.subset[i]));
        QCOMPARE(sides.size(), 1);
        QVERIFY_THROWS_EXCEPTION(Error, workflows::resplit_dataset(s, "absent", o, nullptr));
    }

    void firstStartDemoIsRefusedLikeImport() {
        QTemporaryDir dir;
        const QString demo = dir.path() + QStringLiteral("/demo");
        test::write_bytes(track_path(demo, QStringLiteral("blues"), 0), corrupt_bytes());
        test::write_bytes(track_path(demo, QStringLiteral("rock"), 0), corrupt_bytes());
        store::RunStore s((dir.path() + QStringLiteral("/ws.db")).toStdString());
        try {
            workflows::ensure_demo_dataset(s, demo.toStdString());
            QFAIL("a demo folder without valid audio was imported");
        } catch (const workflows::NoValidAudio& e) {
            QCOMPARE(QString::fromStdString(e.path()), demo);
            QCOMPARE(e.tracks().size(), size_t(2));
        }
        QVERIFY(s.list_datasets().empty());
        // The genre folders were taken as a demo written before: nothing was written over them.
        QCOMPARE(QDir(demo + QStringLiteral("/blues")).entryList(QDir::Files).size(), 1);
        QVERIFY(!QFileInfo::exists(demo + QStringLiteral("/jazz")));
    }

    void firstStartImportsOnceAsDemo() {
        QTemporaryDir dir;
        const QString demo = dir.path() + QStringLiteral("/demo");
        write_tracks(demo, 2); // a demo written before (small, to keep this fast)
        store::RunStore s((dir.path() + QStringLiteral("/ws.db")).toStdString());
        const auto r = workflows::ensure_demo_dataset(s, demo.toStdString());
        QVERIFY(r);
        QCOMPARE(QString::fromStdString(r->dataset), QStringLiteral("demo"));
        QCOMPARE(r->valid, int64_t(4));
        // Present now: left alone, even when the folder changed meanwhile.
        test::write_bytes(track_path(demo, QStringLiteral("rock"), 7), corrupt_bytes());
        QVERIFY(!workflows::ensure_demo_dataset(s, demo.toStdString()));
        QCOMPARE(s.load_dataset("demo")->catalog.tracks.size(), size_t(4));
    }

    void demoIsWrittenOnlyIntoAnEmptyFolderWhenAsked() {
        QTemporaryDir dir;
        const QString mine = dir.path() + QStringLiteral("/mine");
        test::write_bytes(mine + QStringLiteral("/notes.txt"), "keep me");
        workflows::DemoRequest r;
        r.dir = mine.toStdString();
        r.tracks = 1;
        r.seconds = 0.2;
        r.must_be_empty = true;
        const QString error = test::error_of([&] { workflows::write_demo(r, nullptr); });
        QVERIFY2(error.contains(QStringLiteral("not empty")), qPrintable(error));
        QVERIFY(!QFileInfo::exists(mine + QStringLiteral("/blues")));

        r.dir = (dir.path() + QStringLiteral("/new")).toStdString();
        QCOMPARE(workflows::write_demo(r, nullptr).size(), size_t(10)); // one track per genre
        r.kind = "flac";
        try {
            workflows::write_demo(r, nullptr);
            QFAIL("kind accepted");
        } catch (const Error& e) {
            QCOMPARE(QString::fromStdString(e.field().key), QStringLiteral("kind"));
        }
    }

    void anImportOnAFullDiskKeepsWhatWasStored() {
        // The workspace cannot grow (a file size limit after its WAL is emptied, as a full disk
        // would): the import fails naming the database and the fix, and the dataset imported
        // before is whole; once the limit is lifted the same import goes through.
        QTemporaryDir dir;
        const QString first = dir.path() + QStringLiteral("/first"), second = dir.path() + QStringLiteral("/second");
        write_tracks(first, 3);
        write_tracks(second, 4);
        const std::string db = (dir.path() + QStringLiteral("/ws.db")).toStdString();
        store::RunStore s(db);
        workflows::import_dataset(s, gtzan(first, "first"));
        store::Db(db).exec("PRAGMA wal_checkpoint(TRUNCATE)");
        QString error;
        {
            test::FileSizeLimit full(1);
            error = test::error_of([&] { workflows::import_dataset(s, gtzan(second, "second")); });
        }
        QVERIFY2(error.contains(QString::fromStdString(db)) && error.contains(QStringLiteral("disk is full")), qPrintable(error));
        QCOMPARE(QString::fromStdString(s.integrity_check()), QStringLiteral("ok"));
        QVERIFY(!s.has_dataset("second"));
        QCOMPARE(s.load_dataset("first")->catalog.tracks.size(), size_t(6));
        workflows::import_dataset(s, gtzan(second, "second"));
        QCOMPARE(s.load_dataset("second")->catalog.tracks.size(), size_t(8));
    }
};

QTEST_GUILESS_MAIN(TestImportDataset)
#include "test_import_dataset.moc"
