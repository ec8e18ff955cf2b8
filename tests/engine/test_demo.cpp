// The synthetic GTZAN demo: layout, determinism, exact durations, no loudness cue, and genres
// that simple spectral features can already tell apart (so a model has something to learn).
#include "audio/audio_file.h"
#include "core/error.h"
#include "core/feedback.h"
#include "data/demo.h"
#include "test_support.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <complex>
#include <map>

using namespace gafx;

namespace {

const QStringList kGenres = {"blues", "classical", "country", "disco", "hiphop",
                             "jazz",  "metal",     "pop",     "reggae", "rock"};

QByteArray read_all(const std::string& path) {
    QFile f(QString::fromStdString(path));
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

double rms_db(const audio::Waveform& w) {
    double s = 0;
    for (float v : w.samples) s += double(v) * v;
    return 10.0 * std::log10(s / double(w.samples.size()));
}

void fft(std::vector<std::complex<double>>& a) {
    const size_t n = a.size();
    for (size_t i = 1, j = 0; i < n; ++i) {
        size_t bit = n >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) std::swap(a[i], a[j]);
    }
    for (size_t len = 2; len <= n; len <<= 1) {
        const std::complex<double> wl = std::polar(1.0, -2.0 * M_PI / double(len));
        for (size_t i = 0; i < n; i += len) {
            std::complex<double> w = 1;
            for (size_t k = 0; k < len / 2; ++k, w *= wl) {
                const auto u = a[i + k], v = a[i + k + len / 2] * w;
                a[i + k] = u + v;
                a[i + k + len / 2] = u - v;
            }
        }
    }
}

// 16 log-spaced band energies (dB: mean over frames with the level removed, and how much each
// band moves over time) plus onsets per second from positive spectral flux: about what a first
// look at a spectrogram shows.
std::vector<double> features(const audio::Waveform& w) {
    constexpr int kN = 1024, kHop = 512, kBands = 16;
    std::vector<double> edges(kBands + 1);
    for (int b = 0; b <= kBands; ++b) edges[size_t(b)] = 40.0 * std::pow(10000.0 / 40.0, double(b) / kBands);
    std::vector<double> band_sum(kBands, 0.0), band_sq(kBands, 0.0), flux;
    std::vector<double> prev(kN / 2, 0.0);
    int frames = 0;
    for (int64_t start = 0; start + kN <= w.frames; start += kHop, ++frames) {
        std::vector<std::complex<double>> x(kN);
        for (int i = 0; i < kN; ++i)
            x[size_t(i)] = w.channel(0)[start + i] * (0.5 - 0.5 * std::cos(2 * M_PI * i / kN));
        fft(x);
        std::vector<double> band(kBands, 1e-10), mag(kN / 2);
        double f = 0;
        for (int k = 1; k < kN / 2; ++k) {
            const double hz = double(k) * w.sample_rate / kN, p = std::norm(x[size_t(k)]);
            mag[size_t(k)] = std::log1p(std::sqrt(p));
            f += std::max(0.0, mag[size_t(k)] - prev[size_t(k)]);
            for (int b = 0; b < kBands; ++b)
                if (hz >= edges[size_t(b)] && hz < edges[size_t(b) + 1]) band[size_t(b)] += p;
        }
        for (int b = 0; b < kBands; ++b) {
            const double db = 10.0 * std::log10(band[size_t(b)]);
            band_sum[size_t(b)] += db;
            band_sq[size_t(b)] += db * db;
        }
        if (frames > 0) flux.push_back(f);
        prev = mag;
    }
    std::vector<double> feat;
    double mean_level = 0;
    for (double s : band_sum) mean_level += s / frames / kBands;
    for (double s : band_sum) feat.push_back(s / frames - mean_level);
    for (int b = 0; b < kBands; ++b) {
        const double m = band_sum[size_t(b)] / frames;
        feat.push_back(std::sqrt(std::max(0.0, band_sq[size_t(b)] / frames - m * m)));
    }

    double mu = 0, sd = 0;
    for (double f : flux) mu += f / double(flux.size());
    for (double f : flux) sd += (f - mu) * (f - mu) / double(flux.size());
    sd = std::sqrt(sd);
    int onsets = 0;
    for (size_t i = 1; i + 1 < flux.size(); ++i)
        if (flux[i] > mu + 0.5 * sd && flux[i] >= flux[i - 1] && flux[i] > flux[i + 1]) ++onsets;
    feat.push_back(onsets * double(w.sample_rate) / double(w.frames));
    return feat;
}

} // namespace

class TestDemo : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void layoutAndDurations() {
        QTemporaryDir dir;
        data::DemoOptions o;
        o.tracks_per_genre = 2;
        o.seconds = 1.3;
        o.sample_rate = 16000;
        int calls = 0;
        Feedback fb([&](int64_t done, int64_t total, const std::string& item) {
            ++calls;
            QCOMPARE(done, int64_t(calls));
            QCOMPARE(total, int64_t(20));
            QVERIFY(QFileInfo::exists(QString::fromStdString(item)));
        });
        const auto result = data::write_gtzan_demo(dir.path().toStdString(), o, &fb);
        QCOMPARE(calls, 20);
        QCOMPARE(int(result.files.size()), 20);
        QCOMPARE(QDir(dir.path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot), kGenres);
        QCOMPARE(QString::fromStdString(data::gtzan_genres()[3]), QStringLiteral("disco"));
        for (const QString& g : kGenres) {
            const QStringList files = QDir(dir.filePath(g)).entryList(QDir::Files);
            QCOMPARE(files, QStringList({g + ".00000.wav", g + ".00001.wav"}));
            for (const QString& f : files) {
                const audio::AudioInfo info = audio::probe(dir.filePath(g + "/" + f).toStdString());
                QCOMPARE(info.sample_rate, 16000);
                QCOMPARE(info.channels, 1);
                QCOMPARE(info.frames, int64_t(20800));
                QVERIFY2(QString::fromStdString(info.format).contains(QLatin1String("16 bit")),
                         info.format.c_str());
            }
        }
    }

    void deterministic() {
        QTemporaryDir a, b, c, more;
        data::DemoOptions o;
        o.tracks_per_genre = 1;
        o.seconds = 2.0;
        o.seed = 42;
        const auto ra = data::write_gtzan_demo(a.path().toStdString(), o);
        const auto rb = data::write_gtzan_demo(b.path().toStdString(), o);
        o.tracks_per_genre = 2;
        const auto rm = data::write_gtzan_demo(more.path().toStdString(), o);
        o.tracks_per_genre = 1;
        o.seed = 43;
        const auto rc = data::write_gtzan_demo(c.path().toStdString(), o);
        for (size_t i = 0; i < ra.files.size(); ++i) {
            const QByteArray bytes = read_all(ra.files[i]);
            QVERIFY(bytes.size() > 44);
            QVERIFY2(bytes == read_all(rb.files[i]), ra.files[i].c_str());
            QVERIFY2(bytes != read_all(rc.files[i]), "another seed must give another track");
            // Track i of a genre is the same whether 1 or 2 tracks per genre were asked for.
            QVERIFY2(bytes == read_all(rm.files[2 * i]), rm.files[2 * i].c_str());
        }
        QVERIFY(read_all(rm.files[0]) != read_all(rm.files[1]));
    }

    void loudnessIsNoCue() {
        QTemporaryDir dir;
        data::DemoOptions o;
        o.tracks_per_genre = 8;
        o.seconds = 2.0;
        o.seed = 3;
        const auto r = data::write_gtzan_demo(dir.path().toStdString(), o);
        std::map<std::string, double> genre_db;
        double all = 0;
        for (const std::string& f : r.files) {
            const audio::Waveform w = audio::decode(f);
            float peak = 0;
            for (float v : w.samples) peak = std::max(peak, std::fabs(v));
            QVERIFY2(peak < 0.999f, "normalisation must leave headroom, not clip");
            const double db = rms_db(w);
            genre_db[QFileInfo(QString::fromStdString(f)).dir().dirName().toStdString()] += db / 8;
            all += db / double(r.files.size());
        }
        QCOMPARE(int(genre_db.size()), 10);
        for (const auto& [genre, db] : genre_db)
            QVERIFY2(std::fabs(db - all) <= 1.0,
                     qPrintable(QStringLiteral("%1: %2 dB vs %3 dB overall")
                                    .arg(QString::fromStdString(genre)).arg(db).arg(all)));
    }

    void genresAreLearnable() {
        QTemporaryDir dir;
        data::DemoOptions o;
        o.tracks_per_genre = 4;
        o.seconds = 5.0;
        o.seed = 11;
        const auto r = data::write_gtzan_demo(dir.path().toStdString(), o);
        std::vector<std::vector<double>> x;
        std::vector<int> y;
        for (size_t i = 0; i < r.files.size(); ++i) {
            x.push_back(features(audio::decode(r.files[i])));
            y.push_back(int(i) / o.tracks_per_genre);
        }
        // z-score every feature so the onset rate weighs like a band.
        const size_t d = x[0].size();
        for (size_t j = 0; j < d; ++j) {
            double mu = 0, sd = 0;
            for (const auto& v : x) mu += v[j] / double(x.size());
            for (const auto& v : x) sd += (v[j] - mu) * (v[j] - mu) / double(x.size());
            sd = std::sqrt(sd) + 1e-9;
            for (auto& v : x) v[j] = (v[j] - mu) / sd;
        }
        int correct = 0;
        for (size_t held = 0; held < x.size(); ++held) {
            int best = -1;
            double best_dist = 1e300;
            for (int g = 0; g < 10; ++g) {
                std::vector<double> centroid(d, 0.0);
                int n = 0;
                for (size_t i = 0; i < x.size(); ++i)
                    if (i != held && y[i] == g) {
                        for (size_t j = 0; j < d; ++j) centroid[j] += x[i][j];
                        ++n;
                    }
                double dist = 0;
                for (size_t j = 0; j < d; ++j) dist += std::pow(x[held][j] - centroid[j] / n, 2);
                if (dist < best_dist) best_dist = dist, best = g;
            }
            correct += best == y[held];
        }
        const double accuracy = double(correct) / double(x.size());
        qInfo("leave-one-out nearest-centroid accuracy: %.2f", accuracy);
        QVERIFY2(accuracy >= 0.8, qPrintable(QString::number(accuracy)));
    }

    void cancelStopsEarly() {
        QTemporaryDir dir;
        Feedback fb([&](int64_t done, int64_t, const std::string&) {
            if (done == 3) fb.cancel();
        });
        data::DemoOptions o;
        o.seconds = 0.5;
        QVERIFY_THROWS_EXCEPTION(Cancelled, data::write_gtzan_demo(dir.path().toStdString(), o, &fb));
        QCOMPARE(QDir(dir.filePath("blues")).entryList(QDir::Files).size(), 3);
    }

    void unwritableFolderNamesThePath() {
        QTemporaryDir dir;
        const QString blocker = dir.filePath(QStringLiteral("a_file"));
        test::write_bytes(blocker, "x");
        try {
            data::write_gtzan_demo(blocker.toStdString(), data::DemoOptions{});
            QFAIL("writing under a file must fail");
        } catch (const gafx::Error& e) {
            QCOMPARE(QString::fromStdString(e.reason()), QStringLiteral("cannot create folder"));
            QVERIFY2(QString::fromStdString(e.path()).startsWith(blocker), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestDemo)
#include "test_demo.moc"
