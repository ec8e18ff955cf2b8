// GAFX-A: shapes, the fp32 softmax, and what the paper's version could not do: train without NaNs.
#include "audio/audio_file.h"
#include "core/error.h"
#include "data/demo.h"
#include "models/gafx_a.h"

#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>
#include <torch/utils.h>

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace gafx;
using models::GafxA;
using models::GafxAConfig;

namespace {

int64_t count_params(torch::nn::Module& m) {
    int64_t n = 0;
    for (const auto& p : m.parameters()) n += p.numel();
    return n;
}

// One pre-norm encoder layer: two LayerNorms, qkv and output projections, a 4x FFN, two
// LayerScale vectors.
int64_t encoder_layer_params(int64_t d, int64_t mult) {
    const int64_t ln = 2 * d, qkv = d * 3 * d + 3 * d, proj = d * d + d;
    const int64_t fc1 = d * mult * d + mult * d, fc2 = mult * d * d + d;
    return 2 * ln + qkv + proj + fc1 + fc2 + 2 * d;
}

} // namespace

class TestGafxA : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        at::set_num_threads(1); // ctest runs suites side by side; more threads only contend
        torch::manual_seed(7);
    }

    void shapesAndContract() {
        GafxA m(GafxAConfig::small());
        QCOMPARE(m.name(), std::string("gafx-a"));
        QCOMPARE(m.output_frames(661600), int64_t(3308));
        QCOMPARE(m.feature_bins(), int64_t(128));
        m.eval();
        torch::NoGradGuard no_grad;
        auto out = m.forward(torch::randn({2, 1, 3001}) * 0.1);
        QCOMPARE(out.sizes().vec(), (std::vector<int64_t>{2, 16, 128}));
        QVERIFY(torch::isfinite(out).all().item<bool>());
    }

    void paperSizeShapeAndParameters() {
        GafxA m;
        const int64_t cnn = count_params(*m.cnn);
        const int64_t n = count_params(m);
        qInfo("GAFX-A paper: %lld parameters (%lld in the CNN)", qlonglong(n), qlonglong(cnn));
        QCOMPARE(cnn, int64_t(12269248)); // the GAFX-R count, checked layer by layer in test_gafx_r
        QCOMPARE(n, cnn + 2 * encoder_layer_params(128, 4) + 2 * 2 * 128);
        QVERIFY(m.named_parameters().contains("cnn.layer5.1.conv2.weight"));
        QVERIFY(m.named_parameters().contains("encoder.1.attn.qkv.weight"));
        m.eval();
        torch::NoGradGuard no_grad;
        auto out = m.forward(torch::randn({1, 1, 10 * 200}) * 0.1);
        QCOMPARE(out.sizes().vec(), (std::vector<int64_t>{1, 10, 128}));
    }

    void softmaxRunsInFloat32() {
        torch::manual_seed(1);
        const double scale = 1.0 / std::sqrt(32.0);
        // Moderate logits (std ~16): bf16 inputs must give the fp32 result to bf16 precision.
        auto q = torch::randn({1, 2, 64, 32}) * 4, k = torch::randn({1, 2, 64, 32}) * 4;
        auto v = torch::randn({1, 2, 64, 32});
        auto ref = models::scaled_dot_attention(q, k, v, scale);
        auto low = models::scaled_dot_attention(q.to(at::kBFloat16), k.to(at::kBFloat16), v.to(at::kBFloat16), scale);
        QCOMPARE(low.scalar_type(), at::kBFloat16);
        QVERIFY((low.to(at::kFloat) - ref).abs().max().item<double>() < 0.05 * ref.abs().max().item<double>() + 0.02);
        // Logits near +-1e3: still finite, and every output a convex combination of v's rows.
        auto huge = models::scaled_dot_attention((q * 8).to(at::kBFloat16), (k * 8).to(at::kBFloat16),
                                                 v.to(at::kBFloat16), scale);
        QVERIFY(torch::isfinite(huge).all().item<bool>());
        QVERIFY(huge.to(at::kFloat).abs().max().item<double>() <= v.abs().max().item<double>() * 1.01);
    }

    void bf16SoftmaxIsTheRoundedFp32Softmax() {
        // The bf16 attention runs its softmax on bf16 scores, trusting the CPU kernel to sum
        // in fp32: over 1650 tokens (3308 frames) it must agree with the fp32 softmax rounded to
        // bf16 within one bf16 rounding (the kernels add a row's tail in another order).
        torch::manual_seed(2);
        const double scale = 1.0 / std::sqrt(64.0);
        auto q = (torch::randn({1, 3, 1650, 64}) * 3).to(at::kBFloat16).requires_grad_();
        auto k = (torch::randn({1, 3, 1650, 64}) * 3).to(at::kBFloat16).requires_grad_();
        auto v = torch::randn({1, 3, 1650, 64}).to(at::kBFloat16).requires_grad_();
        const auto scores = at::matmul(q * scale, k.transpose(-2, -1));
        const auto fast = at::_softmax(scores, -1, false).to(at::kFloat);
        const auto exact = at::softmax(scores, -1, at::kFloat).to(at::kBFloat16).to(at::kFloat);
        const auto ulp = exact.abs() * std::ldexp(1.0, -7) + 1e-30; // bf16 keeps 8 significant bits
        QVERIFY(((fast - exact).abs() <= ulp).all().item<bool>());

        auto out = models::scaled_dot_attention(q, k, v, scale);
        auto ref = at::matmul(at::softmax(scores, -1, at::kFloat).to(at::kBFloat16), v);
        QVERIFY(torch::allclose(out.to(at::kFloat), ref.to(at::kFloat), 2e-2, 2e-2));
        // Gradients through the bf16 softmax backward stay within bf16 rounding of the fp32 one.
        const auto g = torch::randn_like(ref);
        const auto grads = torch::autograd::grad({out}, {q, k, v}, {g});
        const auto ref_grads = torch::autograd::grad({ref}, {q, k, v}, {g});
        for (size_t i = 0; i < grads.size(); ++i) {
            const auto a = grads[i].to(at::kFloat), b = ref_grads[i].to(at::kFloat);
            const double rel = ((a - b).norm() / b.norm()).item<double>();
            QVERIFY2(rel < 0.02, qPrintable(QString("grad %1 relative error %2").arg(i).arg(rel)));
        }
    }

    void positionsWorkForAnyLength() {
        auto pe = models::sinusoidal_positions(5000, 128, torch::TensorOptions());
        QCOMPARE(pe.sizes().vec(), (std::vector<int64_t>{5000, 128}));
        QCOMPARE(pe[0][0].item<float>(), 0.0f);
        QCOMPARE(pe[0][1].item<float>(), 1.0f);
        QVERIFY(pe.abs().max().item<float>() <= 1.0f);
        QVERIFY(!torch::allclose(pe[3307], pe[3306]));
    }

    void rejectsHeadsThatDoNotDivide() {
        GafxAConfig c = GafxAConfig::small();
        c.heads = 3;
        bool threw = false;
        try {
            GafxA m(c);
        } catch (const Error& e) {
            threw = true;
            QVERIFY(std::string(e.what()).find("heads") != std::string::npos);
        }
        QVERIFY(threw);
    }

    void trainsStablyOnDemoData() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        data::DemoOptions opt;
        opt.tracks_per_genre = 2;
        opt.seconds = 2.0;
        opt.sample_rate = 8000;
        const auto demo = data::write_gtzan_demo(dir.path().toStdString(), opt);
        QCOMPARE(demo.files.size(), size_t(20));

        std::vector<torch::Tensor> waves;
        std::vector<int64_t> labels;
        for (size_t i = 0; i < demo.files.size(); ++i) {
            auto w = audio::decode(demo.files[i], 0, audio::ChannelMode::Mono);
            waves.push_back(torch::from_blob(w.samples.data(), {1, w.frames}).clone());
            labels.push_back(int64_t(i) / opt.tracks_per_genre); // files come genre by genre
        }
        const auto x = torch::stack(waves);
        const auto y = torch::tensor(labels);

        GafxAConfig config = GafxAConfig::small();
        config.cnn.sample_rate = opt.sample_rate;
        auto extractor = std::make_shared<GafxA>(config);
        torch::nn::Linear head(128, 10);
        std::vector<torch::Tensor> params = extractor->parameters();
        for (const auto& p : head->parameters()) params.push_back(p);
        // Twenty times the paper's lr, so a fragile stack would show it.
        torch::optim::Adam adam(params, torch::optim::AdamOptions(1e-3));

        const int steps = 200, batch = 4;
        std::vector<double> losses;
        QElapsedTimer timer;
        timer.start();
        extractor->train();
        for (int step = 0; step < steps; ++step) {
            auto idx = torch::randperm(x.size(0), torch::kLong).slice(0, 0, batch);
            auto logits = head(extractor->forward(x.index_select(0, idx)).mean(1));
            auto loss = torch::nn::functional::cross_entropy(logits, y.index_select(0, idx));
            adam.zero_grad();
            loss.backward();
            adam.step();
            losses.push_back(loss.item<double>());
            QVERIFY2(std::isfinite(losses.back()), qPrintable(QString("loss not finite at step %1").arg(step)));
        }
        auto mean = [&](int from, int to) {
            double s = 0;
            for (int i = from; i < to; ++i) s += losses[size_t(i)];
            return s / (to - from);
        };
        const double first = mean(0, 10), last = mean(steps - 20, steps);
        qInfo("%d steps in %lld ms; loss %.3f (first 10) -> %.3f (last 20), first step %.3f", steps,
              qlonglong(timer.elapsed()), first, last, losses[0]);
        QVERIFY(last < losses[0]);
        QVERIFY(last < 0.5 * first);
    }
};

QTEST_GUILESS_MAIN(TestGafxA)
#include "test_gafx_a.moc"
