// WaveformCache: hits equal a direct decode bit for bit, content edits invalidate, damaged
// entries heal, concurrent users agree, and a broken cache never breaks loading.
#include "core/error.h"
#include "data/waveform_cache.h"
#include "test_support.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace gafx;
using audio::ChannelMode;
using data::WaveformCache;
namespace fs = std::filesystem;

namespace {

bool same(const audio::Waveform& a, const audio::Waveform& b) {
    return a.sample_rate == b.sample_rate && a.channels == b.channels && a.frames == b.frames &&
           a.samples.size() == b.samples.size() &&
           std::memcmp(a.samples.data(), b.samples.data(), a.samples.size() * sizeof(float)) == 0;
}

std::vector<fs::path> files_in(const std::string& dir, const std::string& suffix) {
    std::vector<fs::path> out;
    if (!fs::exists(dir)) return out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename().string().size() >= suffix.size() &&
            e.path().filename().string().rfind(suffix) == e.path().filename().string().size() - suffix.size())
            out.push_back(e.path());
    return out;
}

} // namespace

class TestWaveformCache : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;
    std::string path(const char* name) const { return tmp_.filePath(name).toStdString(); }
    std::string make_track(const char* name, double freq, double seconds = 1.5, int channels = 1) {
        test::write_audio(tmp_.filePath(name), test::sine(freq, seconds, 22050, channels));
        return path(name);
    }

private Q_SLOTS:
    void missThenHitEqualsDecode() {
        const auto wav = make_track("a.wav", 440);
        WaveformCache cache(path("c1"));
        const auto direct = audio::decode(wav, 16000, ChannelMode::Mono);
        QVERIFY(same(cache.load(wav, 16000, ChannelMode::Mono), direct));
        QCOMPARE(cache.stats().misses, int64_t(1));
        QCOMPARE(cache.stats().hits, int64_t(0));
        QCOMPARE(int(files_in(cache.dir(), ".wf").size()), 1);
        const auto hit = cache.load(wav, 16000, ChannelMode::Mono);
        QCOMPARE(cache.stats().hits, int64_t(1));
        QVERIFY(same(hit, direct));
        QCOMPARE(hit.sample_rate, 16000);
        QCOMPARE(hit.frames, int64_t(24000));

        // Rate and channel mode are part of the key.
        QVERIFY(same(cache.load(wav, 22050, ChannelMode::Mono), audio::decode(wav, 22050, ChannelMode::Mono)));
        QVERIFY(same(cache.load(wav, 16000, ChannelMode::Stereo), audio::decode(wav, 16000, ChannelMode::Stereo)));
        QCOMPARE(cache.stats().misses, int64_t(3));

        // A second cache on the same folder (another process) finds the entries.
        WaveformCache other(cache.dir());
        QVERIFY(same(other.load(wav, 16000, ChannelMode::Stereo), audio::decode(wav, 16000, ChannelMode::Stereo)));
        QCOMPARE(other.stats().hits, int64_t(1));
    }

    void identicalCopiesShareAnEntry() {
        const auto a = make_track("b1.wav", 300);
        const auto b = path("copy/b2.wav");
        fs::create_directories(fs::path(b).parent_path());
        fs::copy_file(a, b);
        WaveformCache cache(path("c2"));
        cache.load(a, 16000, ChannelMode::Mono);
        QVERIFY(same(cache.load(b, 16000, ChannelMode::Mono), audio::decode(b, 16000, ChannelMode::Mono)));
        QCOMPARE(cache.stats().hits, int64_t(1));
        QCOMPARE(int(files_in(cache.dir(), ".wf").size()), 1);
    }

    void editedFileMissesWithNewData() {
        const auto wav = make_track("e.wav", 440);
        WaveformCache cache(path("c3"));
        const auto before = cache.load(wav, 16000, ChannelMode::Mono);
        make_track("e.wav", 880); // same name, same length, new content
        const auto after = cache.load(wav, 16000, ChannelMode::Mono);
        QCOMPARE(cache.stats().misses, int64_t(2));
        QCOMPARE(cache.stats().hits, int64_t(0));
        QVERIFY(!same(before, after));
        QVERIFY(same(after, audio::decode(wav, 16000, ChannelMode::Mono)));
    }

    void corruptEntryIsAMissAndRewritten_data() {
        QTest::addColumn<QString>("damage");
        QTest::newRow("truncated") << "truncated";
        QTest::newRow("flipped byte") << "flipped";
        QTest::newRow("garbage") << "garbage";
        QTest::newRow("empty") << "empty";
    }
    void corruptEntryIsAMissAndRewritten() {
        QFETCH(QString, damage);
        const auto wav = make_track("d.wav", 523);
        const std::string dir = path(("c4-" + damage).toUtf8().constData());
        WaveformCache cache(dir);
        const auto direct = audio::decode(wav, 16000, ChannelMode::Mono);
        cache.load(wav, 16000, ChannelMode::Mono);
        const auto entries = files_in(dir, ".wf");
        QCOMPARE(int(entries.size()), 1);
        const auto entry = entries[0];
        const auto size = fs::file_size(entry);
        if (damage == "truncated") {
            fs::resize_file(entry, size / 2);
        } else if (damage == "flipped") {
            std::fstream f(entry, std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(std::streamoff(size - 1000));
            f.put(char(0x5a));
        } else if (damage == "garbage") {
            std::ofstream(entry, std::ios::binary | std::ios::trunc) << std::string(size, 'x');
        } else {
            std::ofstream(entry, std::ios::binary | std::ios::trunc);
        }
        QVERIFY(same(cache.load(wav, 16000, ChannelMode::Mono), direct));
        QCOMPARE(cache.stats().misses, int64_t(2));
        QCOMPARE(fs::file_size(entry), size); // rewritten whole
        QVERIFY(same(cache.load(wav, 16000, ChannelMode::Mono), direct));
        QCOMPARE(cache.stats().hits, int64_t(1));
    }

    void concurrentLoadsAgree() {
        const auto wav = make_track("t.wav", 660, 4.0, 2);
        const auto direct = audio::decode(wav, 16000, ChannelMode::Mono);
        const std::string dir = path("c5");
        WaveformCache cache(dir), second(dir); // two "processes" on one folder
        std::vector<audio::Waveform> got(8);
        std::vector<std::thread> threads;
        for (int i = 0; i < 8; ++i)
            threads.emplace_back([&, i] {
                got[size_t(i)] = (i % 2 ? second : cache).load(wav, 16000, ChannelMode::Mono);
            });
        for (auto& t : threads) t.join();
        for (const auto& g : got) QVERIFY(same(g, direct));
        // Threads of one cache wait for the first decode instead of repeating it. When the other
        // cache has already written the entry, all four of this cache's loads are hits.
        QVERIFY(cache.stats().misses <= 1);
        QCOMPARE(cache.stats().misses + cache.stats().hits, int64_t(4));
        QCOMPARE(int(files_in(dir, ".wf").size()), 1);
        QCOMPARE(int(std::distance(fs::directory_iterator(dir), fs::directory_iterator())), 1);
    }

    void unwritableCacheStillLoads() {
        const auto wav = make_track("u.wav", 440);
        test::write_bytes(tmp_.filePath("not-a-dir"), "x");
        WaveformCache cache(path("not-a-dir/cache")); // its parent is a file: nothing can be made
        const auto direct = audio::decode(wav, 16000, ChannelMode::Mono);
        QVERIFY(same(cache.load(wav, 16000, ChannelMode::Mono), direct));
        QVERIFY(same(cache.load(wav, 16000, ChannelMode::Mono), direct));
        QCOMPARE(cache.stats().misses, int64_t(2));
    }

    void aFullDiskCostsOnlySpeed() {
        // An entry that cannot be written (a file size limit, as a full disk would) leaves
        // neither an entry nor a temp file behind, and the load still returns the decoded audio:
        // a cache is never a reason for a run to fail.
        const auto wav = make_track("full.wav", 330);
        const QString dir = QString::fromStdString(path("full-cache"));
        WaveformCache cache(dir.toStdString());
        const auto direct = audio::decode(wav, 16000, ChannelMode::Mono);
        test::FileSizeLimit full(100); // the header fits, the samples do not
        const auto loaded = cache.load(wav, 16000, ChannelMode::Mono);
        full.lift();
        QVERIFY(same(loaded, direct));
        QVERIFY(QDir(dir).entryList(QDir::Files | QDir::Hidden).isEmpty());
        QVERIFY(same(cache.load(wav, 16000, ChannelMode::Mono), direct)); // written now
        QCOMPARE(QDir(dir).entryList(QDir::Files | QDir::Hidden).size(), 1);
    }

    void decodeErrorsNameTheFile() {
        WaveformCache cache(path("c6"));
        const auto missing = path("nope.wav");
        try {
            cache.load(missing, 16000, ChannelMode::Mono);
            QFAIL("a missing file loaded");
        } catch (const Error& e) {
            QCOMPARE(QString::fromStdString(e.path()), QString::fromStdString(missing));
        }
        test::write_bytes(tmp_.filePath("bad.wav"), QByteArray(5000, 'z'));
        try {
            cache.load(path("bad.wav"), 16000, ChannelMode::Mono);
            QFAIL("a corrupt file loaded");
        } catch (const Error& e) {
            QCOMPARE(QString::fromStdString(e.path()), QString::fromStdString(path("bad.wav")));
        }
        QCOMPARE(int(files_in(cache.dir(), ".wf").size()), 0);
    }

    void pruneRemovesOldestFirst() {
        const auto a = make_track("p1.wav", 200), b = make_track("p2.wav", 250);
        WaveformCache cache(path("c7"));
        cache.load(a, 16000, ChannelMode::Mono);
        auto entries = files_in(cache.dir(), ".wf");
        const auto old_entry = entries.at(0);
        cache.load(b, 16000, ChannelMode::Mono);
        fs::last_write_time(old_entry, fs::file_time_type::clock::now() - std::chrono::hours(2));
        // A writer killed long ago left a temp file; a young one may still be in use.
        std::ofstream(cache.dir() + "/.tmp-dead-abc123") << "partial";
        fs::last_write_time(cache.dir() + "/.tmp-dead-abc123",
                            fs::file_time_type::clock::now() - std::chrono::hours(3));
        std::ofstream(cache.dir() + "/.tmp-live-abc123") << "partial";
        const auto one = int64_t(fs::file_size(old_entry));

        QCOMPARE(cache.prune(10 * one), int64_t(7)); // only the dead temp file
        QCOMPARE(int(files_in(cache.dir(), ".wf").size()), 2);
        QVERIFY(cache.prune(one + 10) >= one);
        entries = files_in(cache.dir(), ".wf");
        QCOMPARE(int(entries.size()), 1);
        QVERIFY(entries[0] != old_entry);
        QVERIFY(fs::exists(cache.dir() + "/.tmp-live-abc123"));
        cache.prune(0);
        QCOMPARE(int(files_in(cache.dir(), ".wf").size()), 0);
    }

    void defaultDirFollowsXdg() {
        const QByteArray old_xdg = qgetenv("XDG_CACHE_HOME");
        qputenv("XDG_CACHE_HOME", "/x/cache");
        QCOMPARE(QString::fromStdString(WaveformCache::default_dir()), QString("/x/cache/gafx/waveforms"));
        qunsetenv("XDG_CACHE_HOME");
        QCOMPARE(QString::fromStdString(WaveformCache::default_dir()),
                 QString::fromLocal8Bit(qgetenv("HOME")) + "/.cache/gafx/waveforms");
        // Neither: no cache at all, never a folder in /tmp that another user could fill.
        const QByteArray old_home = qgetenv("HOME");
        qunsetenv("HOME");
        QCOMPARE(QString::fromStdString(WaveformCache::default_dir()), QString());
        qputenv("HOME", old_home);
        if (!old_xdg.isEmpty()) qputenv("XDG_CACHE_HOME", old_xdg);
    }
};

QTEST_GUILESS_MAIN(TestWaveformCache)
#include "test_waveform_cache.moc"
