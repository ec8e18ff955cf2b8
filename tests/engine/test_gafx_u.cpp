// Hybrid Demucs against torchaudio's reference files (tests/data/make_hdemucs_names.py) and
// GAFX-U's feature maps built on it.
#include "models/gafx_u.h"
#include "core/error.h"
#include "models/gelu.h"
#include "models/hdemucs.h"

#include "test_support.h"

#include <QtTest>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

using namespace gafx;

namespace {

using NamedShapes = std::vector<std::pair<std::string, std::vector<int64_t>>>;

std::string data_path(const char* file) { return std::string(GAFX_TEST_DATA_DIR) + "/" + file; }

NamedShapes read_names(const char* file) {
    NamedShapes out;
    std::ifstream in(data_path(file));
    std::string line;
    while (std::getline(in, line)) {
        const auto tab = line.find('\t');
        std::vector<int64_t> shape;
        std::stringstream dims(line.substr(tab + 1));
        for (std::string d; std::getline(dims, d, ',');) shape.push_back(std::stoll(d));
        out.emplace_back(line.substr(0, tab), shape);
    }
    return out;
}

// Parameters then buffers, the prefix removed: what a torchaudio state_dict would list.
NamedShapes ours(const torch::nn::Module& m, const std::string& prefix = {}) {
    NamedShapes out;
    auto add = [&](const auto& dict) {
        for (const auto& item : dict) {
            auto key = item.key();
            if (key.rfind(prefix, 0) == 0) key = key.substr(prefix.size());
            out.emplace_back(key, item.value().sizes().vec());
        }
    };
    add(m.named_parameters());
    add(m.named_buffers());
    return out;
}

void compare_names(const NamedShapes& got, const NamedShapes& want) {
    QCOMPARE(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
        if (got[i] != want[i])
            QFAIL(("entry " + std::to_string(i) + ": ours " + got[i].first + " vs torchaudio " + want[i].first).c_str());
    }
}

std::vector<float> read_floats(const char* file) {
    std::ifstream in(data_path(file), std::ios::binary | std::ios::ate);
    std::vector<float> v(size_t(in.tellg()) / sizeof(float));
    in.seekg(0);
    in.read(reinterpret_cast<char*>(v.data()), std::streamsize(v.size() * sizeof(float)));
    return v;
}

// The same formula as fixture_input() in make_hdemucs_names.py.
torch::Tensor fixture_input() {
    const double pi = 3.14159265358979323846;
    auto t = torch::arange(13000, torch::kDouble);
    auto left = 0.5 * torch::sin(2 * pi * 440.0 * t / 16000.0) + 0.1 * torch::sin(0.37 * t);
    auto right = 0.3 * torch::sin(2 * pi * 97.0 * t / 16000.0) + 0.2 * torch::cos(0.011 * t);
    return torch::stack({left, right}).unsqueeze(0).to(torch::kFloat);
}


int64_t count(const torch::nn::Module& m) {
    int64_t n = 0;
    for (const auto& p : m.parameters()) n += p.numel();
    return n;
}

} // namespace

class TestGafxU : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { torch::manual_seed(0); }

    void paperModelMatchesTorchaudioStateDict() {
        models::GafxU paper(models::gafx_u_paper());
        compare_names(ours(paper, "hdemucs."), read_names("hdemucs_high_names.txt"));
        // torchaudio.models.hdemucs_high(4 sources), as printed by the script.
        QCOMPARE(count(paper), int64_t(83639368));
        QCOMPARE(paper.output_frames(480000), int64_t(1876));
        QCOMPARE(paper.feature_bins(), int64_t(128));

        // The spectral branch's frames for 30 s at 16 kHz, with the model's own STFT.
        torch::NoGradGuard no_grad;
        const auto z = paper.hdemucs()->spec(torch::randn({1, 2, 480000}));
        QCOMPARE(z.sizes().vec(), (std::vector<int64_t>{1, 2, 2048, 469}));
    }

    void smallModelMatchesTorchaudioStateDict() {
        models::HDemucs small(models::hdemucs_small());
        compare_names(ours(*small), read_names("hdemucs_small_names.txt"));
        QCOMPARE(count(*small), int64_t(40284));
    }

    void smallModelReproducesTorchaudioOutput() {
        models::HDemucs small(models::hdemucs_small());
        const auto weights = read_floats("hdemucs_small_weights.bin");
        size_t offset = 0;
        {
            torch::NoGradGuard no_grad;
            auto params = small->named_parameters();
            for (const auto& [name, shape] : read_names("hdemucs_small_names.txt")) {
                auto* p = params.find(name);
                QVERIFY2(p, name.c_str());
                const auto n = size_t(p->numel());
                QVERIFY(offset + n <= weights.size());
                p->copy_(torch::from_blob(const_cast<float*>(weights.data() + offset), shape, torch::kFloat));
                offset += n;
            }
        }
        QCOMPARE(offset, weights.size());
        small->eval();
        torch::NoGradGuard no_grad;
        const auto out = small->forward(fixture_input());
        QCOMPARE(out.sizes().vec(), (std::vector<int64_t>{1, 4, 2, 13000}));
        const auto stored = read_floats("hdemucs_small_output.bin");
        const auto want = torch::from_blob(const_cast<float*>(stored.data()), {1, 4, 2, 1625}, torch::kFloat);
        const auto got = out.slice(-1, 0, 13000, 8);
        const double diff = (got - want).abs().max().item<double>();
        const double scale = want.abs().max().item<double>();
        qInfo("max |ours - torchaudio| = %g (output max %g)", diff, scale);
        QVERIFY(diff < 1e-4 * std::max(1.0, scale));
    }

    void featureMapShapeAndMonoInput() {
        models::GafxU u(models::gafx_u_small());
        u.eval();
        torch::NoGradGuard no_grad;
        const int64_t samples = 2 * 16000;  // > 200 frames per BLSTM: its chunking runs
        const auto stereo = torch::randn({2, 2, samples}) * 0.1;
        const auto maps = u.forward(stereo);
        QCOMPARE(u.output_frames(samples), int64_t(4 * 500));
        QCOMPARE(maps.sizes().vec(), (std::vector<int64_t>{2, 2000, 128}));
        QVERIFY(torch::isfinite(maps).all().item<bool>());
        QVERIFY(maps.min().item<double>() >= 0.0);  // sums of magnitudes

        const auto mono = stereo.slice(1, 0, 1);
        const auto from_mono = u.forward(mono);
        const auto duplicated = u.forward(mono.expand({-1, 2, -1}).contiguous());
        QVERIFY(torch::allclose(from_mono, duplicated));
        QVERIFY(!gafx::test::error_of([&] { u.forward(torch::randn({1, 3, 1000})); }).isEmpty());
    }

    void binsAreAveragedInGroups() {
        // nfft 1024: 512 STFT bins averaged in groups of 4.
        models::GafxUConfig c;
        c.hdemucs = models::hdemucs_low();
        c.hdemucs.channels = 4;
        c.hdemucs.norm_starts = c.hdemucs.dconv_attn = c.hdemucs.dconv_lstm = 3;
        models::GafxU u(c);
        torch::NoGradGuard no_grad;
        const auto maps = u.forward(torch::randn({1, 2, 8000}) * 0.1);
        QCOMPARE(maps.sizes().vec(), (std::vector<int64_t>{1, u.output_frames(8000), 128}));
        QCOMPARE(u.output_frames(8000), int64_t(4 * 32));
        c.bins = 100;
        QVERIFY(!gafx::test::error_of([&] { models::GafxU bad(c); }).isEmpty());
    }

    void gradientsReachTheFirstEncoders() {
        models::GafxU u(models::gafx_u_small());
        u.train();
        u.forward(torch::randn({1, 2, 4000}) * 0.1).mean().backward();
        auto params = u.named_parameters();
        for (const char* name : {"hdemucs.freq_encoder.0.conv.weight", "hdemucs.time_encoder.0.conv.weight"}) {
            const auto& grad = params[name].grad();
            QVERIFY2(grad.defined(), name);
            QVERIFY2(torch::isfinite(grad).all().item<bool>(), name);
            QVERIFY2(grad.abs().sum().item<double>() > 0, name);
        }
    }

    // Every parameter's gradient against the same model in float64. Libtorch 1.13's GELU
    // backward took a permuted gradient for a contiguous one, and the first frequency encoders'
    // gradients came out up to 1e22 and different on every run (models/gelu.h).
    void gradientsMatchFloat64() {
        torch::manual_seed(3);
        models::GafxU u(models::gafx_u_small());
        torch::manual_seed(3);
        models::GafxU d(models::gafx_u_small());
        d.to(torch::kDouble);
        u.train();
        d.train();
        const auto wave = torch::randn({2, 2, 8000}) * 0.1;
        const auto out = u.forward(wave);
        const auto w = torch::randn(out.sizes());
        (out * w).sum().backward();
        (d.forward(wave.to(torch::kDouble)) * w.to(torch::kDouble)).sum().backward();
        auto reference = d.named_parameters();
        double scale = 0;
        for (const auto& kv : reference)
            if (kv.value().grad().defined()) scale = std::max(scale, kv.value().grad().abs().max().item<double>());
        for (const auto& kv : u.named_parameters()) {
            const auto ref = reference[kv.key()].grad();
            QCOMPARE(kv.value().grad().defined(), ref.defined()); // the merge layer's unused norm has none
            if (!ref.defined()) continue;
            const double err = (kv.value().grad().to(torch::kDouble) - ref).abs().max().item<double>();
            // float32 rounding through a dozen layers, relative to this parameter's gradient and
            // (for gradients near zero) to the largest of the model's
            const double allowed = 1e-3 * ref.abs().max().item<double>() + 1e-6 * scale;
            QVERIFY2(err <= allowed, (kv.key() + ": error " + std::to_string(err) + ", allowed " + std::to_string(allowed)).c_str());
        }
    }

    void geluGradientIsRightForAPermutedGradient() {
        const auto x = torch::randn({2, 8, 8, 125}, torch::requires_grad());
        const auto g = torch::randn({16, 8, 125});
        (models::gelu(x).permute({0, 2, 1, 3}).reshape({-1, 8, 125}) * g).sum().backward();
        const auto xd = x.detach().to(torch::kDouble).requires_grad_(true);
        (at::gelu(xd).permute({0, 2, 1, 3}).reshape({-1, 8, 125}) * g.to(torch::kDouble)).sum().backward();
        QVERIFY((x.grad().to(torch::kDouble) - xd.grad()).abs().max().item<double>() < 1e-5);
    }
};

QTEST_GUILESS_MAIN(TestGafxU)
#include "test_gafx_u.moc"
