// AudioSet import: the release folder with partial downloads, the AST JSON list, every
// input error, and the synthetic demo set round-tripping through the importer.
#include "core/error.h"
#include "core/feedback.h"
#include "core/rng.h"
#include "data/audioset.h"
#include "data/audioset_demo.h"
#include "test_support.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <functional>

using namespace gafx;
using namespace gafx::data;

namespace {
using Strings = std::vector<std::string>;

const char* kClassCsv = "index,mid,display_name\n"
                        "0,/m/09x0r,\"Speech\"\n"
                        "2,/m/04rlf,\"Music\"\n"
                        "1,/m/05zppz,\"Male speech, man speaking\"\n"
                        "3,/m/0bt9lr,\"Dog\"\n"
                        "4,/m/068hy,\"Domestic animals, pets\"\n";

const char* kHeader = "# Segments csv created Sun Mar  5 10:54:31 2017\n"
                      "# num_ytids=7, num_segs=7, num_unique_labels=5, num_positive_labels=9\n"
                      "# YTID, start_seconds, end_seconds, positive_labels\n";

void wav(const QString& path) { test::write_audio(path, test::sine(440, 1.0, 8000)); }

void corrupt(const QString& path) {
    Rng r(99);
    QByteArray bytes(4096, '\0');
    for (auto& b : bytes) b = char(r.below(256));
    test::write_bytes(path, bytes);
}

std::string s(const QString& q) { return q.toStdString(); }

const Track* find(const Catalog& c, const std::string& key) {
    for (const auto& t : c.tracks)
        if (t.key == key) return &t;
    return nullptr;
}

bool any_contains(const Strings& list, const std::vector<std::string>& needles) {
    for (const auto& w : list) {
        bool all = true;
        for (const auto& n : needles) all = all && w.find(n) != std::string::npos;
        if (all) return true;
    }
    return false;
}


#define EXPECT_ERROR(expr, ...)                                                                    \
    do {                                                                                           \
        const QString msg_ = test::error_of([&] { (void)(expr); });                                      \
        QVERIFY2(!msg_.isEmpty(), "no gafx::Error thrown");                                         \
        for (const QString& n_ : QStringList{__VA_ARGS__})                                          \
            QVERIFY2(msg_.contains(n_), qPrintable("'" + n_ + "' not in: " + msg_));                \
    } while (0)

QByteArray read_all(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Every file below `dir`, relative path -> contents.
QMap<QString, QByteArray> snapshot(const QString& dir) {
    QMap<QString, QByteArray> out;
    QDirIterator it(dir, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString p = it.next();
        out.insert(QDir(dir).relativeFilePath(p), read_all(p));
    }
    return out;
}

double zero_crossing_rate(const std::string& path) {
    const audio::Waveform w = audio::decode(path);
    int64_t crossings = 0;
    for (int64_t i = 1; i < w.frames; ++i) crossings += (w.samples[size_t(i - 1)] < 0) != (w.samples[size_t(i)] < 0);
    return double(crossings) / double(w.frames);
}
} // namespace

class TestAudioSet : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void releaseFolderWithPartialDownload() {
        QTemporaryDir tmp;
        const QString d = tmp.path();
        test::write_bytes(d + "/class_labels_indices.csv", kClassCsv);
        test::write_bytes(d + "/balanced_train_segments.csv",
                          QByteArray(kHeader) + "plainYTID01, 30.000, 40.000, \"/m/09x0r,/m/05zppz\"\n"
                                                "prefixYTID2, 0.000, 10.000, \"/m/04rlf\"\n"
                                                "msStyleYT03, 15.500, 25.500, \"/m/0bt9lr,/m/zzzzz\"\n"
                                                "missingYT04, 20.000, 30.000, \"/m/09x0r\"\n"
                                                "corruptYT05, 5.000, 15.000, \"/m/04rlf\"\n"
                                                "dupYTID0006, 30.000, 40.000, \"/m/068hy\"\n"
                                                "-und_er_123, 0.000, 10.000, \"/m/09x0r\"\n");
        test::write_bytes(d + "/eval_segments.csv",
                          QByteArray(kHeader) + "dupYTID0006, 60.000, 70.000, \"/m/068hy,/m/0bt9lr\"\n"
                                                "evalYTID007, 10.000, 20.000, \"/m/05zppz\"\n");
        wav(d + "/audio/plainYTID01.wav");
        wav(d + "/balanced_train/YprefixYTID2.wav");
        wav(d + "/msStyleYT03_15500.wav");
        corrupt(d + "/audio/corruptYT05_5.000.wav");
        wav(d + "/audio/dupYTID0006_30.wav");
        wav(d + "/eval/dupYTID0006_60000.wav");
        wav(d + "/audio/Y-und_er_123_0_10000.wav");
        wav(d + "/eval/evalYTID007.wav");
        wav(d + "/audio/.missingYT04.wav");   // hidden: must not stand in for the missing clip
        wav(d + "/.cache/missingYT04.wav");   // inside a hidden folder: never visited
        wav(d + "/audio/orphanYTID8.wav");
        test::write_bytes(d + "/audio/notes.txt", "downloaded with yt-dlp\n");

        std::vector<std::pair<int64_t, int64_t>> progress;
        Feedback fb([&](int64_t done, int64_t total, const std::string&) { progress.emplace_back(done, total); });
        const Catalog c = import_audioset(s(d + "/"), {}, &fb);

        QCOMPARE(c.kind, std::string("audioset"));
        QVERIFY(c.multi_label);
        QCOMPARE(c.root, s(QDir::cleanPath(d)));
        QCOMPARE(c.name, s(QFileInfo(d).fileName()));

        QCOMPARE(c.classes.size(), size_t(5));
        Strings ids, names;
        for (const auto& k : c.classes) ids.push_back(k.id), names.push_back(k.display_name);
        QCOMPARE(ids, (Strings{"/m/09x0r", "/m/05zppz", "/m/04rlf", "/m/0bt9lr", "/m/068hy"}));
        QCOMPARE(names[1], std::string("Male speech, man speaking"));
        QCOMPARE(names[4], std::string("Domestic animals, pets"));

        Strings keys;
        for (const auto& t : c.tracks) keys.push_back(t.key);
        QCOMPARE(keys, (Strings{"plainYTID01", "prefixYTID2", "msStyleYT03", "missingYT04", "corruptYT05",
                                "dupYTID0006_30", "-und_er_123", "dupYTID0006_60", "evalYTID007"}));
        QCOMPARE(c.count(TrackStatus::Valid), int64_t(7));
        QCOMPARE(c.count(TrackStatus::Invalid), int64_t(1));
        QCOMPARE(c.count(TrackStatus::Missing), int64_t(1));

        const Track* plain = find(c, "plainYTID01");
        QCOMPARE(plain->path, s(d + "/audio/plainYTID01.wav"));
        QCOMPARE(plain->labels, (Strings{"/m/09x0r", "/m/05zppz"}));
        QCOMPARE(plain->origin, std::string("balanced_train_segments"));
        QCOMPARE(plain->sample_rate, 8000);
        QCOMPARE(plain->channels, 1);
        QCOMPARE(plain->frames, int64_t(8000));
        QCOMPARE(plain->duration, 1.0);
        QCOMPARE(plain->start_seconds, 30.0);
        QCOMPARE(plain->end_seconds, 40.0);
        QCOMPARE(plain->size_bytes, int64_t(QFileInfo(d + "/audio/plainYTID01.wav").size()));
        QVERIFY(plain->mtime_ns != 0);

        QCOMPARE(find(c, "prefixYTID2")->path, s(d + "/balanced_train/YprefixYTID2.wav"));
        const Track* ms = find(c, "msStyleYT03");
        QCOMPARE(ms->path, s(d + "/msStyleYT03_15500.wav"));
        QCOMPARE(ms->labels, Strings{"/m/0bt9lr"});
        QCOMPARE(ms->start_seconds, 15.5);
        QCOMPARE(ms->end_seconds, 25.5);
        QCOMPARE(find(c, "-und_er_123")->path, s(d + "/audio/Y-und_er_123_0_10000.wav"));

        const Track* dup30 = find(c, "dupYTID0006_30");
        const Track* dup60 = find(c, "dupYTID0006_60");
        QCOMPARE(dup30->path, s(d + "/audio/dupYTID0006_30.wav"));
        QCOMPARE(dup60->path, s(d + "/eval/dupYTID0006_60000.wav"));
        QCOMPARE(dup60->origin, std::string("eval_segments"));
        QCOMPARE(dup60->labels, (Strings{"/m/068hy", "/m/0bt9lr"}));

        const Track* missing = find(c, "missingYT04");
        QCOMPARE(missing->status, TrackStatus::Missing);
        QVERIFY(missing->path.empty());
        QVERIFY2(missing->error.find("missingYT04") != std::string::npos &&
                     missing->error.find(s(QDir::cleanPath(d))) != std::string::npos,
                 missing->error.c_str());

        const Track* bad = find(c, "corruptYT05");
        QCOMPARE(bad->status, TrackStatus::Invalid);
        QCOMPARE(bad->path, s(d + "/audio/corruptYT05_5.000.wav"));
        QVERIFY(!bad->error.empty());
        QCOMPARE(bad->size_bytes, int64_t(4096));

        QCOMPARE(c.skipped_hidden, int64_t(2));
        QCOMPARE(c.skipped_non_audio, Strings{s(d + "/audio/notes.txt")});
        QVERIFY2(any_contains(c.warnings, {"/m/zzzzz", "balanced_train_segments.csv line 6"}),
                 c.warnings.empty() ? "" : c.warnings[0].c_str());
        QVERIFY(any_contains(c.warnings, {"1 audio file", "audio/orphanYTID8.wav"}));
        QCOMPARE(c.warnings.size(), size_t(2));

        QCOMPARE(progress.size(), size_t(9));
        QCOMPARE(progress.back(), (std::pair<int64_t, int64_t>(9, 9)));
    }

    void nameOptionAndRepeatedSegment() {
        QTemporaryDir tmp;
        const QString d = tmp.path();
        test::write_bytes(d + "/class_labels_indices.csv", kClassCsv);
        // An uncommented header is tolerated; the same segment twice is kept once.
        test::write_bytes(d + "/unbalanced_train_segments.csv", "YTID,start_seconds,end_seconds,positive_labels\n"
                                                                "aaaaaaaaaaa,0,10,/m/09x0r\n"
                                                                "aaaaaaaaaaa, 0.0, 10.0, \"/m/09x0r\"\n");
        wav(d + "/aaaaaaaaaaa.flac");
        AudioSetOptions o;
        o.name = "my set";
        const Catalog c = import_audioset(s(d), o);
        QCOMPARE(c.name, std::string("my set"));
        QCOMPARE(c.tracks.size(), size_t(1));
        QCOMPARE(c.tracks[0].key, std::string("aaaaaaaaaaa"));
        QCOMPARE(c.tracks[0].status, TrackStatus::Valid);
        QVERIFY(any_contains(c.warnings, {"aaaaaaaaaaa", "line 3", "line 2"}));
    }

    void nothingDownloadedStillImports() {
        QTemporaryDir tmp;
        const QString d = tmp.path();
        test::write_bytes(d + "/class_labels_indices.csv", kClassCsv);
        test::write_bytes(d + "/eval_segments.csv", QByteArray(kHeader) + "aaaaaaaaaaa, 0.000, 10.000, \"/m/09x0r\"\n");
        const Catalog c = import_audioset(s(d), {});
        QCOMPARE(c.tracks.size(), size_t(1));
        QCOMPARE(c.count(TrackStatus::Missing), int64_t(1));
        QCOMPARE(c.count(TrackStatus::Valid), int64_t(0));
    }

    void cancelStopsTheImport() {
        QTemporaryDir tmp;
        const QString d = tmp.path();
        test::write_bytes(d + "/class_labels_indices.csv", kClassCsv);
        test::write_bytes(d + "/eval_segments.csv", QByteArray(kHeader) + "aaaaaaaaaaa, 0.000, 10.000, \"/m/09x0r\"\n");
        Feedback fb;
        fb.cancel();
        QVERIFY_THROWS_EXCEPTION(Cancelled, import_audioset(s(d), {}, &fb));
    }

    void jsonListWithClassFileInParent() {
        QTemporaryDir tmp;
        const QString d = tmp.path();
        test::write_bytes(d + "/class_labels_indices.csv", kClassCsv);
        wav(d + "/lists/clips/a.wav");
        wav(d + "/other/b.wav");
        wav(d + "/elsewhere/c.wav");
        corrupt(d + "/lists/clips/bad.wav");
        const QString abs_c = d + "/elsewhere/c.wav";
        test::write_bytes(d + "/lists/train.json",
                          ("{\"data\": [\n"
                           " {\"wav\": \"clips/a.wav\", \"labels\": \"/m/09x0r,/m/04rlf\"},\n"
                           " {\"wav\": \"../other/b.wav\", \"labels\": \"/m/04rlf\"},\n"
                           " {\"wav\": \"" + abs_c + "\", \"labels\": \"/m/zzz,/m/09x0r\"},\n"
                           " {\"wav\": \"clips/gone.wav\", \"labels\": \"/m/09x0r\"},\n"
                           " {\"wav\": \"clips/bad.wav\", \"labels\": \"/m/04rlf\"}\n"
                           "]}\n").toUtf8());
        const Catalog c = import_audioset(s(d + "/lists/train.json"), {});
        QCOMPARE(c.kind, std::string("audioset"));
        QVERIFY(c.multi_label);
        QCOMPARE(c.name, std::string("train"));
        QCOMPARE(c.root, s(d + "/lists/train.json"));
        QCOMPARE(c.classes.size(), size_t(5));
        QCOMPARE(c.classes[1].display_name, std::string("Male speech, man speaking"));

        Strings keys;
        for (const auto& t : c.tracks) keys.push_back(t.key);
        QCOMPARE(keys, (Strings{"clips/a.wav", "../other/b.wav", s(abs_c), "clips/gone.wav", "clips/bad.wav"}));
        QCOMPARE(c.count(TrackStatus::Valid), int64_t(3));
        QCOMPARE(c.count(TrackStatus::Missing), int64_t(1));
        QCOMPARE(c.count(TrackStatus::Invalid), int64_t(1));
        QCOMPARE(c.tracks[0].path, s(d + "/lists/clips/a.wav"));
        QCOMPARE(c.tracks[0].labels, (Strings{"/m/09x0r", "/m/04rlf"}));
        QCOMPARE(c.tracks[0].duration, 1.0);
        QCOMPARE(c.tracks[0].origin, std::string("train"));
        QCOMPARE(c.tracks[1].path, s(d + "/other/b.wav"));
        QCOMPARE(c.tracks[2].path, s(abs_c));
        QCOMPARE(c.tracks[2].labels, Strings{"/m/09x0r"});
        QVERIFY(c.tracks[3].path.empty());
        QVERIFY(c.tracks[3].error.find("gone.wav") != std::string::npos);
        QCOMPARE(c.tracks[4].status, TrackStatus::Invalid);
        QVERIFY(any_contains(c.warnings, {"/m/zzz", "data[2]"}));
    }

    void jsonPathsOutsideTheListsFolderAreRefused() {
        QTemporaryDir tmp;
        const QString d = tmp.path();
        wav(d + "/x/a.wav");
        wav(d + "/outside.wav");
        test::write_bytes(d + "/x/list.json", "{\"data\": [{\"wav\": \"a.wav\", \"labels\": \"/m/a\"},"
                                              " {\"wav\": \"../outside.wav\", \"labels\": \"/m/a\"},"
                                              " {\"wav\": \"/etc/passwd\", \"labels\": \"/m/a\"}]}");
        const Catalog c = import_audioset(s(d + "/x/list.json"), {});
        QCOMPARE(c.tracks.size(), size_t(3));
        QCOMPARE(c.tracks[0].status, TrackStatus::Valid);
        for (size_t i : {size_t(1), size_t(2)}) {
            QCOMPARE(c.tracks[i].status, TrackStatus::Invalid);
            QVERIFY2(c.tracks[i].error.find("outside the dataset's folder") != std::string::npos, c.tracks[i].error.c_str());
        }
    }

    void jsonListWithoutClassFile() {
        QTemporaryDir tmp;
        const QString d = tmp.path();
        wav(d + "/x/a.wav");
        wav(d + "/x/b.wav");
        test::write_bytes(d + "/x/list.json", "{\"data\": [{\"wav\": \"a.wav\", \"labels\": \"/m/b, /m/a\"},"
                                              " {\"wav\": \"b.wav\", \"labels\": [\"/m/c\", \"/m/a\"]}]}");
        const Catalog c = import_audioset(s(d + "/x/list.json"), {});
        Strings ids;
        for (const auto& k : c.classes) {
            ids.push_back(k.id);
            QCOMPARE(k.display_name, k.id);
        }
        QCOMPARE(ids, (Strings{"/m/b", "/m/a", "/m/c"}));
        QCOMPARE(c.tracks[1].labels, (Strings{"/m/c", "/m/a"}));
        QCOMPARE(c.count(TrackStatus::Valid), int64_t(2));
        QVERIFY(c.warnings.empty());
    }

    void folderErrorsNameTheFile() {
        QTemporaryDir tmp;
        const QString d = tmp.path();
        EXPECT_ERROR(import_audioset(s(d + "/nope"), {}), d + "/nope", "no such folder");

        const QString empty = d + "/empty";
        QDir().mkpath(empty);
        EXPECT_ERROR(import_audioset(s(empty), {}), empty, "class_labels_indices.csv");

        const QString only_classes = d + "/only_classes";
        test::write_bytes(only_classes + "/class_labels_indices.csv", kClassCsv);
        EXPECT_ERROR(import_audioset(s(only_classes), {}), only_classes, "no segment CSV", "eval_segments.csv");

        const QString bad_header = d + "/bad_header";
        test::write_bytes(bad_header + "/class_labels_indices.csv", "0,/m/09x0r,Speech\n");
        test::write_bytes(bad_header + "/eval_segments.csv", kHeader);
        EXPECT_ERROR(import_audioset(s(bad_header), {}), bad_header + "/class_labels_indices.csv", "line 1",
                     "index,mid,display_name");

        const QString unquoted = d + "/unquoted";
        test::write_bytes(unquoted + "/class_labels_indices.csv",
                          "index,mid,display_name\n0,/m/09x0r,Speech\n1,/m/05zppz,Male speech, man speaking\n");
        test::write_bytes(unquoted + "/eval_segments.csv", kHeader);
        EXPECT_ERROR(import_audioset(s(unquoted), {}), unquoted + "/class_labels_indices.csv", "line 3",
                     "found 4");

        const QString columns = d + "/columns";
        test::write_bytes(columns + "/class_labels_indices.csv", kClassCsv);
        test::write_bytes(columns + "/eval_segments.csv",
                          QByteArray(kHeader) + "aaaaaaaaaaa, 0.000, 10.000, \"/m/09x0r\"\n"
                                                "bbbbbbbbbbb, 0.000, 10.000, /m/09x0r,/m/04rlf\n");
        EXPECT_ERROR(import_audioset(s(columns), {}), columns + "/eval_segments.csv", "line 5",
                     "expected 4 columns, found 5");

        const QString start = d + "/start";
        test::write_bytes(start + "/class_labels_indices.csv", kClassCsv);
        test::write_bytes(start + "/eval_segments.csv",
                          QByteArray(kHeader) + "aaaaaaaaaaa, thirty, 40.000, \"/m/09x0r\"\n");
        EXPECT_ERROR(import_audioset(s(start), {}), start + "/eval_segments.csv", "line 4", "start_seconds",
                     "thirty");

        const QString quote = d + "/quote";
        test::write_bytes(quote + "/class_labels_indices.csv", kClassCsv);
        test::write_bytes(quote + "/eval_segments.csv", QByteArray(kHeader) + "aaaaaaaaaaa, 0, 10, \"/m/09x0r\n");
        EXPECT_ERROR(import_audioset(s(quote), {}), quote + "/eval_segments.csv", "line 4", "unterminated");

        const QString text = d + "/list.txt";
        test::write_bytes(text, "hello");
        EXPECT_ERROR(import_audioset(s(text), {}), text, "not a folder or a .json list");
    }

    void jsonErrorsNameFileAndPath() {
        QTemporaryDir tmp;
        const QString d = tmp.path();
        const auto check = [&](const char* name, const QByteArray& json, const QStringList& needles) {
            const QString path = d + "/" + name;
            test::write_bytes(path, json);
            const QString msg = test::error_of([&] { import_audioset(s(path), {}); });
            QVERIFY2(msg.contains(path), qPrintable(msg));
            for (const QString& n : needles) QVERIFY2(msg.contains(n), qPrintable("'" + n + "' not in: " + msg));
        };
        check("broken.json", "{\"data\": [", {"malformed JSON"});
        check("huge-number.json", "{\"data\": [{\"wav\": \"a.wav\", \"labels\": \"/m/x\", \"n\": 1e310}]}",
              {"malformed JSON", "number overflow"});
        check("nodata.json", "{\"items\": []}", {"no \"data\" list"});
        check("notlist.json", "{\"data\": {}}", {"data: expected a list"});
        check("labels.json",
              "{\"data\": [{\"wav\": \"a.wav\", \"labels\": \"/m/x\"}, {\"wav\": \"b.wav\", \"labels\": \"/m/x\"},"
              " {\"wav\": \"c.wav\", \"labels\": \"/m/x\"}, {\"wav\": \"d.wav\", \"labels\": 7}]}",
              {"data[3].labels"});
        check("wav.json", "{\"data\": [{\"wav\": \"a.wav\", \"labels\": \"/m/x\"}, {\"labels\": \"/m/x\"}]}",
              {"data[1].wav"});
        check("entry.json", "{\"data\": [42]}", {"data[0]"});
    }

    void demoImportsWithExpectedCounts() {
        QTemporaryDir tmp;
        AudioSetDemoOptions o;
        o.clips = 20;
        o.seconds = 1.0;
        o.seed = 7;
        int64_t last_done = 0;
        Feedback fb([&](int64_t done, int64_t, const std::string&) { last_done = done; });
        const auto written = write_audioset_demo(s(tmp.path()), o, &fb);
        QCOMPARE(last_done, int64_t(20));
        QCOMPARE(written.size(), size_t(3 + 18));
        for (const auto& f : written) QVERIFY2(QFileInfo::exists(QString::fromStdString(f)), f.c_str());

        const Catalog c = import_audioset(s(tmp.path()), {});
        QCOMPARE(c.tracks.size(), size_t(20));
        QCOMPARE(c.count(TrackStatus::Missing), int64_t(2));
        QCOMPARE(c.count(TrackStatus::Valid), int64_t(18));
        QCOMPARE(c.count(TrackStatus::Invalid), int64_t(0));
        QVERIFY2(c.warnings.empty(), c.warnings.empty() ? "" : c.warnings[0].c_str());
        Strings ids;
        for (const auto& k : c.classes) ids.push_back(k.id);
        QCOMPARE(ids, (Strings{"/m/09x0r", "/m/04rlf", "/m/0bt9lr", "/m/03m9d0z", "/m/06mb1", "/m/07yv9"}));
        int eval = 0;
        std::vector<int> per_class(6, 0);
        for (const auto& t : c.tracks) {
            QVERIFY(t.labels.size() >= 1 && t.labels.size() <= 3);
            for (const auto& l : t.labels) ++per_class[size_t(c.class_index(l))];
            eval += t.origin == "eval_segments";
            QCOMPARE(t.end_seconds - t.start_seconds, 1.0);
            if (t.status != TrackStatus::Valid) continue;
            QCOMPARE(t.sample_rate, 16000);
            QCOMPARE(t.channels, 1);
            QCOMPARE(t.frames, int64_t(16000));
            QVERIFY(QFileInfo(QString::fromStdString(t.path)).fileName() == QString::fromStdString("Y" + t.key + ".wav"));
        }
        QCOMPARE(eval, 6);
        for (int n : per_class) QVERIFY(n > 0);

        const QStringList lines = QString::fromUtf8(read_all(tmp.filePath("eval_segments.csv"))).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 3 + 6);
        QVERIFY(lines[0].startsWith("# Segments csv created"));
        QVERIFY(lines[1].startsWith("# num_ytids=6, num_segs=6, num_unique_labels="));
        QCOMPARE(lines[2], QString("# YTID, start_seconds, end_seconds, positive_labels"));
        const QRegularExpression row(R"(^[A-Za-z0-9_-]{11}, \d+\.000, \d+\.000, "/m/[0-9a-z_]+(,/m/[0-9a-z_]+){0,2}"$)");
        for (int i = 3; i < lines.size(); ++i) QVERIFY2(row.match(lines[i]).hasMatch(), qPrintable(lines[i]));
        QCOMPARE(QString::fromUtf8(read_all(tmp.filePath("class_labels_indices.csv"))).split('\n')[1],
                 QString("0,/m/09x0r,\"Speech\""));
    }

    void demoDefaults() {
        QTemporaryDir tmp;
        write_audioset_demo(s(tmp.path()), {});
        const Catalog c = import_audioset(s(tmp.path()), {});
        QCOMPARE(c.tracks.size(), size_t(60));
        QCOMPARE(c.count(TrackStatus::Valid), int64_t(54));
        QCOMPARE(c.count(TrackStatus::Missing), int64_t(6));
        for (const auto& t : c.tracks)
            if (t.status == TrackStatus::Valid) QCOMPARE(t.duration, 10.0);
    }

    void demoIsDeterministicPerSeed() {
        QTemporaryDir a, b, other;
        AudioSetDemoOptions o;
        o.clips = 12;
        o.seconds = 0.5;
        o.seed = 3;
        write_audioset_demo(s(a.path()), o);
        write_audioset_demo(s(b.path()), o);
        const auto sa = snapshot(a.path());
        QCOMPARE(sa.size(), 3 + 11);
        QVERIFY(sa == snapshot(b.path()));
        o.seed = 4;
        write_audioset_demo(s(other.path()), o);
        const auto so = snapshot(other.path());
        QVERIFY(sa.value("eval_segments.csv") != so.value("eval_segments.csv"));
        QCOMPARE(sa.value("class_labels_indices.csv"), so.value("class_labels_indices.csv"));
    }

    // Rain is bright hiss, the others mostly low and pitched: a crude feature must already see
    // the label, or nothing could learn it.
    void demoLabelsAreAudible() {
        QTemporaryDir tmp;
        AudioSetDemoOptions o;
        o.clips = 36;
        o.seconds = 2.0;
        o.seed = 11;
        o.missing_fraction = 0;
        write_audioset_demo(s(tmp.path()), o);
        const Catalog c = import_audioset(s(tmp.path()), {});
        double with = 0, without = 0;
        int n_with = 0, n_without = 0;
        for (const auto& t : c.tracks) {
            const bool rain = std::find(t.labels.begin(), t.labels.end(), "/m/06mb1") != t.labels.end();
            (rain ? with : without) += zero_crossing_rate(t.path);
            ++(rain ? n_with : n_without);
        }
        QVERIFY(n_with > 0 && n_without > 0);
        with /= n_with;
        without /= n_without;
        QVERIFY2(with > 3 * without, qPrintable(QString("ZCR with rain %1, without %2").arg(with).arg(without)));
    }

    void demoRejectsBadOptions() {
        QTemporaryDir tmp;
        AudioSetDemoOptions o;
        o.clips = 0;
        EXPECT_ERROR(write_audioset_demo(s(tmp.path()), o), "clips");
        o = {};
        o.missing_fraction = 1.5;
        EXPECT_ERROR(write_audioset_demo(s(tmp.path()), o), "missing fraction");
        o = {};
        o.sample_rate = 100;
        EXPECT_ERROR(write_audioset_demo(s(tmp.path()), o), "sample rate");
    }
};

QTEST_GUILESS_MAIN(TestAudioSet)
#include "test_audioset.moc"
