// GAFX-R: the paper's shapes, padding to whole rows, parameter count, gradient flow.
#include "core/error.h"
#include "models/gafx_r.h"

#include <ATen/Parallel.h>
#include <torch/types.h>

#include <QElapsedTimer>
#include <QtTest>

#include <map>

using namespace gafx;
using models::GafxR;
using models::GafxRConfig;

namespace {

// Parameters (weights and BN affine; running stats are buffers) from the layer shapes alone.
int64_t conv_params(int64_t k, int64_t in, int64_t out) { return k * k * in * out; }
int64_t bn_params(int64_t c) { return 2 * c; }
int64_t basic_block_params(int64_t in, int64_t out, int64_t stride) {
    int64_t n = conv_params(3, in, out) + bn_params(out) + conv_params(3, out, out) + bn_params(out);
    if (stride != 1 || in != out) n += conv_params(1, in, out) + bn_params(out);
    return n;
}
int64_t expected_params(const GafxRConfig& c) {
    int64_t n = conv_params(c.stem_kernel, 1, c.stem) + bn_params(c.stem);
    int64_t in = c.stem;
    for (size_t s = 0; s < c.channels.size(); ++s) {
        for (int64_t b = 0; b < c.blocks_per_stage; ++b) {
            n += basic_block_params(in, c.channels[s], b == 0 ? c.strides[s] : 1);
            in = c.channels[s];
        }
    }
    return n;
}

int64_t count_params(torch::nn::Module& m) {
    int64_t n = 0;
    for (const auto& p : m.parameters()) n += p.numel();
    return n;
}

} // namespace

class TestGafxR : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { at::set_num_threads(1); } // suites run side by side under ctest

    void paperGeometry() {
        GafxR m;
        QCOMPARE(m.name(), std::string("gafx-r"));
        QCOMPARE(m.sample_rate(), 22050);
        QCOMPARE(m.input_channels(), 1);
        QCOMPARE(m.output_frames(661600), int64_t(3308));
        QCOMPARE(m.feature_bins(), int64_t(128));
        // 200 -> 100 (conv1) -> 50 (pool) -> 50 -> 25 -> 13 -> 7 -> 4
        QCOMPARE(m.output_width(), int64_t(4));
    }

    void paperSizeShape() {
        // The paper-size network on 12 rows: the row count never changes the layer shapes, and
        // the full 3308 rows (about 0.8 TFLOP) would take the test minutes on a CPU.
        GafxR m;
        m.eval();
        torch::NoGradGuard no_grad;
        auto out = m.forward(torch::randn({1, 1, 12 * 200}) * 0.1);
        QCOMPARE(out.sizes().vec(), (std::vector<int64_t>{1, 12, 128}));
        QVERIFY(torch::isfinite(out).all().item<bool>());
    }

    void paperLengthForward() {
        if (qEnvironmentVariableIsEmpty("GAFX_TEST_PAPER_SIZE"))
            QSKIP("set GAFX_TEST_PAPER_SIZE=1 to run 661 600 samples through the paper network");
        GafxR m;
        auto wave = torch::randn({1, 1, 661600}) * 0.1;
        QElapsedTimer timer;
        {
            m.eval();
            torch::NoGradGuard no_grad;
            timer.start();
            auto out = m.forward(wave);
            qInfo("forward, batch 1: %lld ms", qlonglong(timer.elapsed()));
            QCOMPARE(out.sizes().vec(), (std::vector<int64_t>{1, 3308, 128}));
        }
        m.train();
        timer.start();
        m.forward(wave).mean().backward();
        qInfo("forward + backward, batch 1: %lld ms", qlonglong(timer.elapsed()));
    }

    void padsToWholeRows() {
        GafxR m(GafxRConfig::small());
        m.eval();
        torch::NoGradGuard no_grad;
        QCOMPARE(m.output_frames(1), int64_t(1));
        QCOMPARE(m.output_frames(200), int64_t(1));
        QCOMPARE(m.output_frames(201), int64_t(2));
        auto wave = torch::randn({2, 1, 1001}) * 0.1;
        auto out = m.forward(wave);
        QCOMPARE(out.sizes().vec(), (std::vector<int64_t>{2, 6, 128}));
        // Zero padding is exactly what forward does with a ragged tail.
        auto padded = torch::cat({wave, torch::zeros({2, 1, 199})}, 2);
        QVERIFY(torch::allclose(out, m.forward(padded), 1e-5, 1e-6));
    }

    void parameterCount() {
        for (const auto& config : {GafxRConfig::paper(), GafxRConfig::small()}) {
            GafxR m(config);
            const int64_t n = count_params(m);
            qInfo("GAFX-R %s: %lld parameters", config.stem == 64 ? "paper" : "small", qlonglong(n));
            QCOMPARE(n, expected_params(config));
        }
        QCOMPARE(expected_params(GafxRConfig::paper()), int64_t(12269248));
    }

    void torchvisionModuleNames() {
        GafxR m;
        std::map<std::string, std::vector<int64_t>> shapes;
        for (const auto& p : m.named_parameters()) shapes[p.key()] = p.value().sizes().vec();
        for (const auto& p : m.named_buffers()) shapes[p.key()] = p.value().sizes().vec();
        QCOMPARE(shapes.at("conv1.weight"), (std::vector<int64_t>{64, 1, 7, 7}));
        QCOMPARE(shapes.at("bn1.running_mean"), (std::vector<int64_t>{64}));
        QCOMPARE(shapes.at("layer1.0.conv1.weight"), (std::vector<int64_t>{64, 64, 3, 3}));
        QVERIFY(!shapes.count("layer1.0.downsample.0.weight"));
        QCOMPARE(shapes.at("layer2.0.downsample.0.weight"), (std::vector<int64_t>{128, 64, 1, 1}));
        QCOMPARE(shapes.at("layer2.0.downsample.1.weight"), (std::vector<int64_t>{128}));
        QCOMPARE(shapes.at("layer5.0.conv1.weight"), (std::vector<int64_t>{128, 512, 3, 3}));
        QCOMPARE(shapes.at("layer5.1.bn2.bias"), (std::vector<int64_t>{128}));
    }

    void gradientsReachConv1() {
        GafxR m(GafxRConfig::small());
        m.train();
        auto out = m.forward(torch::randn({2, 1, 3000}) * 0.1);
        out.pow(2).mean().backward();
        auto grad = m.named_parameters()["conv1.weight"].grad();
        QVERIFY(grad.defined());
        QVERIFY(torch::isfinite(grad).all().item<bool>());
        QVERIFY(grad.abs().sum().item<double>() > 0.0);
    }

    void rejectsBadInput() {
        GafxR m(GafxRConfig::small());
        bool threw = false;
        try {
            m.forward(torch::zeros({1, 2, 400}));
        } catch (const Error& e) {
            threw = true;
            QVERIFY(std::string(e.what()).find("[1, 2, 400]") != std::string::npos);
        }
        QVERIFY(threw);
        GafxRConfig bad = GafxRConfig::small();
        bad.strides.pop_back();
        threw = false;
        try {
            GafxR broken(bad);
        } catch (const Error&) {
            threw = true;
        }
        QVERIFY(threw);
    }
};

QTEST_GUILESS_MAIN(TestGafxR)
#include "test_gafx_r.moc"
