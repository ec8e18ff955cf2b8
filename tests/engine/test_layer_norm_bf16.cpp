// LayerNorm from fp32 straight to bf16 (models/layer_norm_bf16, models/layer_norm_rows) against
// at::layer_norm with its output cast to bf16, as autocast runs it: values, gradients from a bf16
// gradient, any thread count, and where ViT blocks take it.
#include "core/autocast_state.h"
#include "core/parallel.h"
#include "models/layer_norm_bf16.h"
#include "models/vit_block.h"
#include "models/working_weights.h"
#include "tensor_compare.h"

#include <ATen/Parallel.h>
#include <torch/types.h>

#include <QtTest>

#include <string>

using namespace gafx;

namespace {

struct Grads {
    torch::Tensor y, dx, dw, db;
};

Grads run(bool ours, const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, const torch::Tensor& dy) {
    auto xx = x.detach().requires_grad_(true), ww = w.detach().requires_grad_(true), bb = b.detach().requires_grad_(true);
    const auto y = ours ? models::layer_norm_to_bf16(xx, ww, bb, 1e-6)
                        : at::layer_norm(xx, {x.size(-1)}, ww, bb, 1e-6).to(torch::kBFloat16);
    y.backward(dy);
    return {y.detach(), xx.grad(), ww.grad(), bb.grad()};
}

torch::Tensor inputs(std::vector<int64_t> shape, double offset) {
    return torch::randn(shape) * 3 + offset;
}

} // namespace

class TestLayerNormBf16 : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { at::set_num_threads(1); } // suites run side by side under ctest

    void valuesAreLayerNormRoundedToBf16_data() {
        QTest::addColumn<int64_t>("rows");
        QTest::addColumn<int64_t>("cols");
        QTest::addColumn<double>("offset");
        QTest::addColumn<double>("slack");     // what fp32 itself cannot resolve in x
        QTest::addColumn<double>("differing"); // the share of outputs that may round apart
        QTest::newRow("AST-Tiny, 1024 frames") << int64_t(4 * 514) << int64_t(192) << 0.0 << 1e-6 << 1e-3;
        QTest::newRow("AST-Small width, odd rows") << int64_t(37) << int64_t(384) << 0.0 << 1e-6 << 1e-3;
        // x's fp32 spacing at 1000 (6e-5) over a spread of 3, times weights near 3: both kernels
        // are ~1e-4 from a float64 LayerNorm there, so outputs near zero may round apart.
        QTest::newRow("far from zero") << int64_t(64) << int64_t(192) << 1000.0 << 5e-4 << 2e-2;
        QTest::newRow("width not a vector multiple") << int64_t(9) << int64_t(35) << 0.0 << 1e-6 << 1e-3;
    }
    void valuesAreLayerNormRoundedToBf16() {
        QFETCH(int64_t, rows);
        QFETCH(int64_t, cols);
        QFETCH(double, offset);
        QFETCH(double, slack);
        QFETCH(double, differing);
        torch::manual_seed(1);
        const auto x = inputs({rows, cols}, offset), w = torch::randn({cols}), b = torch::randn({cols});
        const auto dy = torch::randn({rows, cols}).to(torch::kBFloat16);
        const Grads ours = run(true, x, w, b, dy), ref = run(false, x, w, b, dy);
        QCOMPARE(ours.y.scalar_type(), torch::kBFloat16);
        QCOMPARE(ours.dx.scalar_type(), torch::kFloat);
        // Both round one fp32 value to bf16; their fp32 statistics may differ in the last bit,
        // which changes the rounding of a rare element by one bf16 step (2^-8 of its size).
        const auto diff = (ours.y.to(torch::kFloat) - ref.y.to(torch::kFloat)).abs();
        const auto allowed = ref.y.to(torch::kFloat).abs() * (1.0 / 128) + slack;
        QVERIFY2((diff <= allowed).all().item<bool>(), std::to_string(diff.max().item<float>()).c_str());
        const double apart = (diff > 0).sum().item<double>() / double(diff.numel());
        QVERIFY2(apart < differing, std::to_string(apart).c_str());
        // The backward is fp32 arithmetic on the same bf16 gradient.
        QVERIFY2(test::max_rel_err(ours.dx, ref.dx) < 1e-4, std::to_string(test::max_rel_err(ours.dx, ref.dx)).c_str());
        QVERIFY2(test::max_rel_err(ours.dw, ref.dw) < 1e-4, std::to_string(test::max_rel_err(ours.dw, ref.dw)).c_str());
        QVERIFY2(test::max_rel_err(ours.db, ref.db) < 1e-5, std::to_string(test::max_rel_err(ours.db, ref.db)).c_str());
    }

    void aConstantRowGivesTheBias() {
        const auto x = torch::full({3, 8}, 2.5f), w = torch::randn({8}), b = torch::randn({8});
        const auto y = models::layer_norm_to_bf16(x, w, b, 1e-6);
        QVERIFY(torch::equal(y, b.to(torch::kBFloat16).expand({3, 8})));
        QCOMPARE(models::layer_norm_to_bf16(torch::zeros({0, 8}), w, b, 1e-6).numel(), int64_t(0));
    }

    void theThreadCountChangesNoBit() {
        QVERIFY2(parallel_for_threads(), "the engine was built without OpenMP");
        torch::manual_seed(2);
        const auto x = inputs({4 * 514, 192}, 0.5), w = torch::randn({192}), b = torch::randn({192});
        const auto dy = torch::randn({4 * 514, 192}).to(torch::kBFloat16);
        at::set_num_threads(2);
        const Grads two = run(true, x, w, b, dy);
        at::set_num_threads(1);
        const Grads one = run(true, x, w, b, dy);
        QVERIFY(torch::equal(one.y, two.y));
        QVERIFY(torch::equal(one.dx, two.dx));
        QVERIFY(torch::equal(one.dw, two.dw));
        QVERIFY(torch::equal(one.db, two.db));
    }

    void aNonContiguousInputIsRead() {
        torch::manual_seed(3);
        const auto x = torch::randn({16, 6}).t(), w = torch::randn({16}), b = torch::randn({16});
        QVERIFY(!x.is_contiguous());
        const auto dy = torch::randn({6, 16}).to(torch::kBFloat16);
        const Grads ours = run(true, x, w, b, dy), ref = run(false, x, w, b, dy);
        QVERIFY(test::max_rel_err(ours.y, ref.y) < 1.0 / 128);
        QVERIFY(test::max_rel_err(ours.dx, ref.dx) < 1e-4);
    }

    // ViT blocks take it only inside a training step with bf16 working copies on a CPU: the
    // same input gives bf16 there and fp32 elsewhere (evaluation, --unfused, fp32 runs).
    void blocksTakeItOnlyWithWorkingCopies() {
        torch::manual_seed(4);
        auto ln = models::vit_layer_norm(192);
        const auto x = torch::randn({2, 5, 192});
        const models::WorkingTable table;
        autocast::State bf16;
        bf16.cpu = true;
        bf16.cpu_dtype = torch::kBFloat16;
        {
            autocast::Restore on(bf16);
            QCOMPARE(models::norm(ln, x).scalar_type(), torch::kFloat); // no working copies
            models::UseWorking working(&table);
            QVERIFY(models::layer_norm_writes_bf16(x.device()));
            const auto y = models::norm(ln, x);
            QCOMPARE(y.scalar_type(), torch::kBFloat16);
            QVERIFY(test::max_rel_err(y, ln(x)) < 1.0 / 128);
        }
        models::UseWorking working(&table);
        QVERIFY(!models::layer_norm_writes_bf16(x.device())); // autocast off
        QCOMPARE(models::norm(ln, x).scalar_type(), torch::kFloat);
    }

    void badArgumentsAreRefused() {
        const auto w = torch::ones({8}), b = torch::zeros({8});
        QVERIFY_EXCEPTION_THROWN(models::layer_norm_to_bf16(torch::ones({2, 7}), w, b, 1e-6), c10::Error);
        QVERIFY_EXCEPTION_THROWN(models::layer_norm_to_bf16(torch::ones({2, 8}, torch::kDouble), w, b, 1e-6),
                                 c10::Error);
    }
};

QTEST_GUILESS_MAIN(TestLayerNormBf16)
#include "test_layer_norm_bf16.moc"
