// The mel baseline's features against torchaudio.compliance.kaldi.fbank (AST's settings), frame
// counts, and MelExtractor's fixed-length crop/pad. Fixture: tests/data/make_fbank_fixture.py.
#include "audio/audio_file.h"
#include "audio/fbank.h"
#include "core/error.h"
#include "models/mel_extractor.h"
#include "test_support.h"

#include <ATen/ATen.h>

#include <QElapsedTimer>
#include <QFile>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <set>
#include <limits>

using namespace gafx;

namespace {

QString data_path(const QString& name) { return QStringLiteral(GAFX_TEST_DATA_DIR "/") + name; }

torch::Tensor load_wave(int rate) {
    const auto w = audio::decode(data_path(QStringLiteral("fbank_%1.wav").arg(rate)).toStdString());
    if (w.sample_rate != rate || w.channels != 1)
        throw Error("fbank fixture", "unexpected rate or channels");
    return torch::from_blob(const_cast<float*>(w.samples.data()), {w.frames}, torch::kFloat).clone();
}

// Header: "GFBK", version 1, sample rate, frames, bins (int32 LE); then float32 LE rows.
torch::Tensor load_reference(int rate) {
    QFile f(data_path(QStringLiteral("fbank_%1.bin").arg(rate)));
    if (!f.open(QIODevice::ReadOnly))
        throw Error(f.fileName().toStdString(), "cannot open fixture");
    const QByteArray bytes = f.readAll();
    int32_t head[5] = {};
    if (bytes.size() < int(sizeof head) || !bytes.startsWith("GFBK"))
        throw Error(f.fileName().toStdString(), "not an fbank fixture");
    std::memcpy(head, bytes.constData(), sizeof head);
    const int64_t frames = head[3], bins = head[4];
    if (head[1] != 1 || head[2] != rate || bytes.size() != qsizetype(sizeof head + frames * bins * 4))
        throw Error(f.fileName().toStdString(), "fixture header does not match its size");
    return torch::from_blob(const_cast<char*>(bytes.constData()) + sizeof head, {frames, bins}, torch::kFloat).clone();
}

audio::FbankOptions at_rate(int rate) {
    audio::FbankOptions o;
    o.sample_rate = rate;
    return o;
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a - b).abs().max().item<double>();
}

} // namespace

class TestFbank : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void matchesTorchaudio_data() {
        QTest::addColumn<int>("rate");
        QTest::newRow("22050") << 22050;
        QTest::newRow("16000") << 16000;
    }
    void matchesTorchaudio() {
        QFETCH(int, rate);
        const auto wave = load_wave(rate);
        const auto ref = load_reference(rate);
        const auto got = audio::kaldi_fbank(wave, at_rate(rate));
        QCOMPARE(got.sizes().vec(), ref.sizes().vec());
        QCOMPARE(got.size(0), audio::fbank_frames(wave.size(0), at_rate(rate)));
        const double diff = max_abs_diff(got, ref);
        qInfo("%d Hz: %lld frames, max |C++ - torchaudio| = %.3g", rate, (long long)got.size(0), diff);
        QVERIFY2(diff <= 1e-3, qPrintable(QString::number(diff)));
    }

    // The tolerance above separates right from nearly right: dropping preemphasis or using
    // Kaldi's default povey window misses it by far.
    void nearMissesFailTheTolerance() {
        const auto wave = load_wave(22050);
        const auto ref = load_reference(22050);
        auto no_preemphasis = at_rate(22050);
        no_preemphasis.preemphasis = 0.0;
        QVERIFY(max_abs_diff(audio::kaldi_fbank(wave, no_preemphasis), ref) > 0.1);
        auto no_dc = at_rate(22050);
        no_dc.remove_dc_offset = false;
        QVERIFY(max_abs_diff(audio::kaldi_fbank(wave, no_dc), ref) > 1e-2);
        QVERIFY(max_abs_diff(audio::kaldi_fbank(wave * 1.01, at_rate(22050)), ref) > 1e-2);
    }

    void knownValues() {
        const auto o = at_rate(22050);
        // Digital silence sits on torchaudio's floor, log(float epsilon).
        const auto silent = audio::kaldi_fbank(torch::zeros({2000}), o);
        const float floor = std::log(std::numeric_limits<float>::epsilon());
        QVERIFY(torch::equal(silent, torch::full_like(silent, floor)));
        QCOMPARE(floor, -15.942385f);
        // A 1 kHz tone peaks in the band whose centre on the Kaldi mel scale is nearest 1 kHz.
        const auto t = torch::arange(22050, torch::kDouble) / 22050.0;
        const auto tone = (0.5 * torch::sin(2 * M_PI * 1000.0 * t)).to(torch::kFloat);
        const auto mean = audio::kaldi_fbank(tone, o).mean(0);
        const double mel = [](double hz) { return 1127.0 * std::log(1 + hz / 700.0); }(20.0);
        const double delta = (1127.0 * std::log(1 + 11025.0 / 700.0) - mel) / 129;
        const int64_t expected = std::lround((1127.0 * std::log(1 + 1000.0 / 700.0) - mel) / delta) - 1;
        QCOMPARE(mean.argmax().item<int64_t>(), expected);
        // Banks: triangles with peaks of (nearly) one, nothing at Nyquist.
        const auto banks = audio::kaldi_mel_banks(o);
        QCOMPARE(banks.sizes().vec(), (std::vector<int64_t>{128, 513}));
        QVERIFY(banks.select(1, 512).abs().max().item<float>() == 0.0f);
        QVERIFY(banks.min().item<float>() >= 0.0f && banks.max().item<float>() <= 1.0f);
    }

    void frameCounts() {
        const auto o22 = at_rate(22050), o16 = at_rate(16000);
        QCOMPARE(audio::fbank_window_size(o22), int64_t(551));
        QCOMPARE(audio::fbank_window_shift(o22), int64_t(220));
        QCOMPARE(audio::fbank_window_size(o16), int64_t(400));
        QCOMPARE(audio::fbank_window_shift(o16), int64_t(160));
        QCOMPARE(audio::fbank_frames(661500, o22), int64_t(3005));
        QCOMPARE(audio::fbank_frames(661600, o22), int64_t(3005));
        QCOMPARE(audio::fbank_frames(480000, o16), int64_t(2998));
        QCOMPARE(audio::fbank_frames(550, o22), int64_t(0));
        QCOMPARE(audio::fbank_frames(551, o22), int64_t(1));
        QCOMPARE(audio::fbank_frames(771, o22), int64_t(2));
        QCOMPARE(audio::kaldi_fbank(torch::zeros({771}), o22).size(0), int64_t(2));
    }

    void batchMatchesSingles() {
        const auto wave = load_wave(22050);
        const int64_t n = 22050;
        const auto batch = torch::stack({wave.narrow(0, 0, n), wave.narrow(0, 17000, n), wave.narrow(0, 40000, n)});
        const auto together = audio::kaldi_fbank(batch, at_rate(22050));
        QCOMPARE(together.dim(), int64_t(3));
        for (int64_t i = 0; i < 3; ++i)
            QVERIFY(torch::equal(together[i], audio::kaldi_fbank(batch[i], at_rate(22050))));
    }

    void extractorCropsAndPads() {
        const auto wave = load_wave(22050).narrow(0, 0, 22050);
        const auto batch = torch::stack({wave, wave.flip(0)}).unsqueeze(1); // [2, 1, T]
        models::MelConfig ast_like;
        ast_like.subtract_mean = true;
        models::MelExtractor natural(ast_like);
        QCOMPARE(QString::fromStdString(natural.name()), QStringLiteral("mel"));
        QCOMPARE(natural.parameters().size(), size_t(0));
        QCOMPARE(natural.sample_rate(), 22050);
        QCOMPARE(natural.input_channels(), 1);
        QCOMPARE(natural.output_frames(661500), int64_t(3005));
        const auto full = natural.forward(batch);
        QCOMPARE(full.sizes().vec(), (std::vector<int64_t>{2, 98, 128}));
        // AST's waveform - waveform.mean() first, per item, so batching changes nothing.
        const auto flipped = wave.flip(0);
        QVERIFY(torch::equal(full[1], audio::kaldi_fbank(flipped - flipped.mean(), at_rate(22050))));
        QVERIFY(torch::equal(full.narrow(0, 1, 1), natural.forward(batch.narrow(0, 1, 1))));
        QVERIFY(torch::equal(models::MelExtractor().forward(batch)[1], audio::kaldi_fbank(flipped, at_rate(22050))));

        models::MelExtractor cropped(models::MelConfig{22050, 128, 40, true});
        QCOMPARE(cropped.output_frames(661500), int64_t(40));
        const auto c = cropped.forward(batch);
        QCOMPARE(c.sizes().vec(), (std::vector<int64_t>{2, 40, 128}));
        QVERIFY(torch::equal(c, full.narrow(1, 0, 40)));

        models::MelExtractor padded(models::MelConfig{22050, 128, 3308, true});
        const auto p = padded.forward(batch);
        QCOMPARE(p.sizes().vec(), (std::vector<int64_t>{2, 3308, 128}));
        QVERIFY(torch::equal(p.narrow(1, 0, 98), full));
        QVERIFY(torch::equal(p.narrow(1, 98, 3308 - 98), torch::zeros({2, 3308 - 98, 128})));

        models::MelExtractor at16k(models::MelConfig{16000, 128, 0});
        QCOMPARE(at16k.forward(torch::zeros({1, 1, 16000})).size(1), int64_t(98));
    }

    // The loader keeps mel features on disk under this key: any setting that changes the
    // features must change it.
    // Tables made once (a GPU's, or a CUDA graph's) give what each call's own tables give, and
    // tables of another dtype are refused rather than silently cast.
    void tablesMadeOnceGiveTheSame() {
        const auto o = at_rate(22050);
        torch::manual_seed(5);
        const auto wave = torch::randn({3, 9000}) * 0.2;
        const audio::FbankTables tables = audio::fbank_tables(o, wave.options());
        QVERIFY(tables.fits(wave));
        QVERIFY(torch::equal(audio::kaldi_fbank(wave, o, tables), audio::kaldi_fbank(wave, o)));
        QVERIFY(!tables.fits(wave.to(torch::kDouble)));
        try {
            audio::kaldi_fbank(wave.to(torch::kDouble), o, tables);
            QFAIL("tables of another dtype were used");
        } catch (const Error& e) {
            QVERIFY2(e.reason().find("another window, device or dtype") != std::string::npos, e.reason().c_str());
        }
        // The extractor keeps its tables across batches and dtypes.
        models::MelExtractor mel;
        const auto batch = (torch::randn({2, 1, 16000}) * 0.1);
        const auto first = mel.forward(batch);
        QVERIFY(torch::equal(mel.forward(batch), first));
        QCOMPARE(mel.forward(batch.to(torch::kDouble)).scalar_type(), torch::kDouble);
        QVERIFY(torch::equal(mel.forward(batch), first));
    }

    void frontEndKeyNamesEverySetting() {
        std::set<std::string> keys;
        for (const auto& c : {models::MelConfig{}, models::MelConfig{16000, 128, 0}, models::MelConfig{22050, 64, 0},
                              models::MelConfig{22050, 128, 1024}, models::MelConfig{22050, 128, 0, true}})
            keys.insert(models::MelExtractor(c).front_end_key());
        QCOMPARE(keys.size(), size_t(5));
        QVERIFY(!keys.count(""));
    }

    void rejectsBadInput() {
        models::MelExtractor mel;
        QVERIFY_THROWS_EXCEPTION(Error, mel.forward(torch::zeros({1, 2, 22050})));
        QVERIFY_THROWS_EXCEPTION(Error, mel.forward(torch::zeros({22050})));
        QVERIFY_THROWS_EXCEPTION(Error, mel.forward(torch::zeros({1, 1, 500})));
        QVERIFY_THROWS_EXCEPTION(Error, models::MelExtractor(models::MelConfig{22050, 128, -1}));
        auto bad = at_rate(22050);
        bad.high_freq = 20000.0;
        QVERIFY_THROWS_EXCEPTION(Error, audio::kaldi_fbank(torch::zeros({22050}), bad));
        QVERIFY_THROWS_EXCEPTION(Error, audio::kaldi_fbank(torch::zeros({22050}, torch::kLong), at_rate(22050)));
    }

    // Not a pass/fail timing: a record of what 30 s costs on this machine.
    void thirtySecondsTiming() {
        const auto wave = torch::randn({661500}) * 0.1;
        audio::kaldi_fbank(wave, at_rate(22050));
        QElapsedTimer timer;
        timer.start();
        const int runs = 5;
        for (int i = 0; i < runs; ++i)
            QCOMPARE(audio::kaldi_fbank(wave, at_rate(22050)).size(0), int64_t(3005));
        qInfo("fbank of 30 s at 22050 Hz: %.1f ms", double(timer.nsecsElapsed()) / 1e6 / runs);
    }
};

QTEST_GUILESS_MAIN(TestFbank)
#include "test_fbank.moc"
