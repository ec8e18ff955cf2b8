// Audio in and out: every writable container round-trips, channel modes, soxr keeping pitch
// and level, and each probe/decode error produced by a real broken file.
#include "audio/audio_file.h"
#include "core/error.h"
#include "core/rng.h"
#include "test_support.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace gafx;
using namespace gafx::audio;

namespace {

// Frequency from the first and last upward zero crossings (linearly interpolated) in
// [from, to): exact to well under 1 Hz for a clean sine of a few hundred periods.
double zero_crossing_frequency(const float* x, int64_t from, int64_t to, int rate) {
    double first = -1, last = -1;
    int cycles = -1;
    for (int64_t i = from + 1; i < to; ++i) {
        if (x[i - 1] < 0 && x[i] >= 0) {
            const double t = double(i - 1) + x[i - 1] / double(x[i - 1] - x[i]);
            if (first < 0) first = t;
            last = t;
            ++cycles;
        }
    }
    return cycles > 0 ? cycles * rate / (last - first) : 0.0;
}

double rms_db(const float* x, int64_t from, int64_t to) {
    double sum = 0;
    for (int64_t i = from; i < to; ++i) sum += double(x[i]) * x[i];
    return 10.0 * std::log10(sum / double(to - from));
}

Waveform two_tone_stereo(int rate, double seconds) {
    Waveform w = test::sine(440.0, seconds, rate, 2, 0.5f);
    for (int64_t i = 0; i < w.frames; ++i)
        w.channel(1)[i] = 0.3f * float(std::sin(2.0 * M_PI * 1000.0 * double(i) / rate));
    return w;
}

float max_abs_diff(const float* a, const float* b, int64_t n) {
    float m = 0;
    for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
}

// Runs probe and decode on `path`; both must throw a gafx::Error naming the file and `reason`.
void expect_error(const QString& path, const char* reason) {
    const std::string p = path.toStdString();
    for (int use_decode = 0; use_decode < 2; ++use_decode) {
        try {
            if (use_decode) decode(p);
            else probe(p);
            QFAIL(qPrintable(QStringLiteral("no error for %1 (expected '%2')").arg(path, reason)));
        } catch (const gafx::Error& e) {
            QCOMPARE(QString::fromStdString(e.reason()), QString::fromLatin1(reason));
            QCOMPARE(QString::fromStdString(e.path()), path);
            const QString what = QString::fromStdString(e.what());
            QVERIFY2(what.contains(path) && what.contains(QLatin1String(reason)), qPrintable(what));
            QVERIFY2(!e.fix().empty(), "an error must say what to do");
        }
    }
}

QByteArray read_all(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

class TestAudio : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void roundTrip_data() {
        QTest::addColumn<QString>("ext");
        QTest::addColumn<int>("format");
        QTest::addColumn<bool>("lossy");
        for (const char* ext : {"wav", "au", "flac", "aiff"}) {
            QTest::newRow(qPrintable(QStringLiteral("%1-pcm16").arg(ext)))
                << ext << int(SampleFormat::Pcm16) << false;
            QTest::newRow(qPrintable(QStringLiteral("%1-float").arg(ext)))
                << ext << int(SampleFormat::Float32) << false;
        }
        QTest::newRow("ogg") << "ogg" << int(SampleFormat::Pcm16) << true;
        QTest::newRow("mp3") << "mp3" << int(SampleFormat::Pcm16) << true;
    }
    void roundTrip() {
        QFETCH(QString, ext);
        QFETCH(int, format);
        QFETCH(bool, lossy);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("tone.") + ext);
        const Waveform in = two_tone_stereo(22050, 1.0);
        write(path.toStdString(), in, SampleFormat(format));
        QCOMPARE(QDir(dir.path()).entryList(QDir::NoDotAndDotDot | QDir::AllEntries).size(), 1);

        const AudioInfo info = probe(path.toStdString());
        QCOMPARE(info.sample_rate, 22050);
        QCOMPARE(info.channels, 2);
        QVERIFY(!info.format.empty());
        const Waveform out = decode(path.toStdString());
        QCOMPARE(out.sample_rate, 22050);
        QCOMPARE(out.channels, 2);
        QCOMPARE(out.frames, info.frames);
        QCOMPARE(int64_t(out.samples.size()), out.frames * 2);

        if (!lossy) {
            QCOMPARE(out.frames, in.frames);
            const float tol = SampleFormat(format) == SampleFormat::Pcm16 ? 1.5f / 32768 : 1e-6f;
            for (int c = 0; c < 2; ++c)
                QVERIFY2(max_abs_diff(in.channel(c), out.channel(c), in.frames) <= tol,
                         qPrintable(QString::number(max_abs_diff(in.channel(c), out.channel(c), in.frames))));
        } else {
            // Codecs pad and shift by a few ms; pitch, level and channel identity must survive.
            QVERIFY(std::llabs(out.frames - in.frames) < 4096);
            const int64_t a = 2205, b = std::min(in.frames, out.frames) - 2205;
            QVERIFY(std::fabs(zero_crossing_frequency(out.channel(0), a, b, 22050) - 440.0) < 2.0);
            QVERIFY(std::fabs(zero_crossing_frequency(out.channel(1), a, b, 22050) - 1000.0) < 2.0);
            QVERIFY(std::fabs(rms_db(out.channel(0), a, b) - rms_db(in.channel(0), a, b)) < 0.5);
            QVERIFY(std::fabs(rms_db(out.channel(1), a, b) - rms_db(in.channel(1), a, b)) < 0.5);
        }
    }

    void monoMixdown() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("stereo.wav"));
        const Waveform in = two_tone_stereo(16000, 0.5);
        write(path.toStdString(), in, SampleFormat::Float32);
        const Waveform mono = decode(path.toStdString(), 0, ChannelMode::Mono);
        QCOMPARE(mono.channels, 1);
        QCOMPARE(mono.frames, in.frames);
        for (int64_t i = 0; i < in.frames; ++i)
            QVERIFY(std::fabs(mono.channel(0)[i] - 0.5f * (in.channel(0)[i] + in.channel(1)[i])) < 1e-6f);
    }

    void stereoDuplicatesMono() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("mono.flac"));
        const Waveform in = test::sine(300.0, 0.5, 16000, 1);
        write(path.toStdString(), in);
        const Waveform st = decode(path.toStdString(), 0, ChannelMode::Stereo);
        QCOMPARE(st.channels, 2);
        QCOMPARE(st.frames, in.frames);
        QCOMPARE(max_abs_diff(st.channel(0), st.channel(1), st.frames), 0.0f);
        QVERIFY(max_abs_diff(st.channel(0), in.channel(0), in.frames) <= 1.5f / 32768);
    }

    void stereoKept() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("stereo.aiff"));
        const Waveform in = two_tone_stereo(16000, 0.5);
        write(path.toStdString(), in);
        for (ChannelMode mode : {ChannelMode::Keep, ChannelMode::Stereo}) {
            const Waveform st = decode(path.toStdString(), 0, mode);
            QCOMPARE(st.channels, 2);
            for (int c = 0; c < 2; ++c)
                QVERIFY(max_abs_diff(st.channel(c), in.channel(c), in.frames) <= 1.5f / 32768);
        }
    }

    void manyChannelsToStereo() {
        Waveform w;
        w.sample_rate = 8000;
        w.channels = 4;
        w.frames = 3;
        w.samples = {1, 1, 1, 0, 0, 0, 0.5f, 0.5f, 0.5f, -1, 1, 0};
        const Waveform st = convert_channels(w, ChannelMode::Stereo);
        QCOMPARE(st.channels, 2);
        const std::vector<float> mean = {0.125f, 0.625f, 0.375f};
        for (int c = 0; c < 2; ++c)
            for (int i = 0; i < 3; ++i) QCOMPARE(st.channel(c)[i], mean[size_t(i)]);
        QCOMPARE(convert_channels(w, ChannelMode::Keep).samples, w.samples);
    }

    void resampleKeepsPitchAndLevel_data() {
        QTest::addColumn<int>("from");
        QTest::addColumn<int>("to");
        QTest::addColumn<bool>("viaDecode");
        QTest::newRow("22050->16000 decode") << 22050 << 16000 << true;
        QTest::newRow("44100->22050 resample") << 44100 << 22050 << false;
    }
    void resampleKeepsPitchAndLevel() {
        QFETCH(int, from);
        QFETCH(int, to);
        QFETCH(bool, viaDecode);
        const Waveform in = test::sine(1000.0, 2.0, from, 2, 0.5f);
        Waveform out;
        if (viaDecode) {
            QTemporaryDir dir;
            const QString path = dir.filePath(QStringLiteral("sine.wav"));
            write(path.toStdString(), in, SampleFormat::Float32);
            out = decode(path.toStdString(), to);
        } else {
            out = resample(in, to);
        }
        QCOMPARE(out.sample_rate, to);
        QCOMPARE(out.channels, 2);
        QCOMPARE(out.frames, std::llround(double(in.frames) * to / from));
        const int64_t edge = to / 10;
        for (int c = 0; c < 2; ++c) {
            const double f = zero_crossing_frequency(out.channel(c), edge, out.frames - edge, to);
            QVERIFY2(std::fabs(f - 1000.0) < 1.0, qPrintable(QString::number(f)));
            const double level = rms_db(out.channel(c), edge, out.frames - edge);
            const double expected = 20.0 * std::log10(0.5 / std::sqrt(2.0));
            QVERIFY2(std::fabs(level - expected) < 0.1, qPrintable(QString::number(level)));
        }
        const Waveform same = resample(in, from);
        QCOMPARE(same.samples, in.samples);
    }

    void probeReportsHeader() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("a.wav"));
        write(path.toStdString(), test::sine(440.0, 1.5, 8000, 1));
        const AudioInfo info = probe(path.toStdString());
        QCOMPARE(info.sample_rate, 8000);
        QCOMPARE(info.channels, 1);
        QCOMPARE(info.frames, int64_t(12000));
        QCOMPARE(info.duration_seconds(), 1.5);
        QVERIFY2(QString::fromStdString(info.format).contains(QLatin1String("WAV")), info.format.c_str());
    }

    void errorMissing() {
        QTemporaryDir dir;
        expect_error(dir.filePath(QStringLiteral("nowhere.wav")), "not a file");
    }

    void errorDirectory() {
        QTemporaryDir dir;
        QDir(dir.path()).mkdir(QStringLiteral("folder.wav"));
        expect_error(dir.filePath(QStringLiteral("folder.wav")), "not a file");
    }

    void errorEmpty() {
        QTemporaryDir dir;
        const QString zero = dir.filePath(QStringLiteral("zero.wav"));
        test::write_bytes(zero, QByteArray());
        expect_error(zero, "empty");

        const QString no_frames = dir.filePath(QStringLiteral("noframes.wav"));
        Waveform w;
        w.sample_rate = 22050;
        w.channels = 1;
        write(no_frames.toStdString(), w);
        expect_error(no_frames, "empty");
    }

    void errorUnsupported() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("noise.wav"));
        Rng rng(7);
        QByteArray bytes(4096, '\0');
        for (char& b : bytes) b = char(rng.below(256));
        test::write_bytes(path, bytes);
        expect_error(path, "unsupported format");
    }

    void randomBytesNamedAuAreNotAudio() {
        // libsndfile reads any bytes named .au/.snd as header-less 8 kHz u-law: a corrupt GTZAN
        // file became seconds of noise in the training set.
        QTemporaryDir dir;
        Rng rng(11);
        QByteArray bytes(20000, '\0');
        for (char& b : bytes) b = char(rng.below(256));
        for (const char* name : {"blues.00001.au", "x.snd"}) {
            const QString path = dir.filePath(QLatin1String(name));
            test::write_bytes(path, bytes);
            expect_error(path, "no audio header");
        }
    }

    // The header stays intact and declares the full length; half the audio is gone.
    void errorTruncated_data() {
        QTest::addColumn<QString>("ext");
        for (const char* ext : {"wav", "aiff", "au", "flac"}) QTest::newRow(ext) << ext;
    }
    void errorTruncated() {
        QFETCH(QString, ext);
        QTemporaryDir dir;
        const QString full = dir.filePath(QStringLiteral("full.") + ext);
        write(full.toStdString(), test::sine(440.0, 2.0, 22050, 2));
        const QByteArray bytes = read_all(full);
        QVERIFY(bytes.size() > 1000);
        const QString cut = dir.filePath(QStringLiteral("cut.") + ext);
        test::write_bytes(cut, bytes.left(bytes.size() / 2));
        expect_error(cut, "truncated");
        QCOMPARE(probe(full.toStdString()).frames, int64_t(44100));
    }

    void errorUnreadable() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("locked.wav"));
        write(path.toStdString(), test::sine(440.0, 0.1, 8000));
        QFile::setPermissions(path, QFileDevice::Permissions());
        QFile probe_open(path);
        if (probe_open.open(QIODevice::ReadOnly)) QSKIP("running with rights that read any file");
        expect_error(path, "unreadable");
    }

    void writeCreatesOnlyTheFile() {
        QTemporaryDir dir;
        const QString nested = dir.filePath(QStringLiteral("missing/sub/a.wav"));
        QVERIFY_THROWS_EXCEPTION(gafx::Error, write(nested.toStdString(), test::sine(440, 0.1, 8000)));
        QVERIFY(!QDir(dir.filePath(QStringLiteral("missing"))).exists());

        const QString txt = dir.filePath(QStringLiteral("a.txt"));
        try {
            write(txt.toStdString(), test::sine(440, 0.1, 8000));
            QFAIL("a .txt file was written");
        } catch (const gafx::Error& e) {
            QCOMPARE(QString::fromStdString(e.reason()), QStringLiteral("unsupported format"));
            QCOMPARE(QString::fromStdString(e.path()), txt);
        }
        QVERIFY(!QFile::exists(txt));
    }

    void audioExtensions() {
        for (const char* yes : {"a.au", "b.WAV", "c.flac", "d.Ogg", "e.mp3", "f.aiff", "g.AIF", "/x.y/z.wav"})
            QVERIFY2(has_audio_extension(yes), yes);
        for (const char* no : {"a.txt", "wav", "b.wav.bak", "c.m4a", "", "/x.wav/readme"})
            QVERIFY2(!has_audio_extension(no), no);
    }
};

QTEST_GUILESS_MAIN(TestAudio)
#include "test_audio.moc"
