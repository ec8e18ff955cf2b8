// The softmax of bf16 attention scores on a CPU (models/softmax_rows, models/softmax_bf16)
// against the float64 softmax rounded to bf16 and against at::_softmax: values, the backward,
// infinities and NaN, any thread count, and the switch that hands the work back to ATen.
#include "core/parallel.h"
#include "models/softmax_bf16.h"
#include "models/softmax_rows.h"
#include "models/vit_block.h"
#include "autograd_graph.h"
#include "tensor_compare.h"

#include <ATen/Parallel.h>
#include <torch/types.h>

#include <QtTest>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace gafx;
using test::reaches;

namespace {

constexpr double kBf16Step = 1.0 / 128; // bf16's spacing relative to a value, at its widest

struct Result {
    torch::Tensor y, dx;
};

Result run(const torch::Tensor& x, const torch::Tensor& dy, bool ours) {
    auto xx = x.detach().requires_grad_(true);
    const auto y = ours ? models::softmax_last_dim(xx) : at::_softmax(xx, -1, false);
    y.backward(dy);
    return {y.detach(), xx.grad()};
}

// Scores as attention makes them: bf16, spread enough that rows hold values far apart.
torch::Tensor scores(std::vector<int64_t> shape) { return (torch::randn(shape) * 3).to(torch::kBFloat16); }

std::string share(const torch::Tensor& apart) {
    return std::to_string(apart.sum().item<double>() / double(apart.numel()));
}

} // namespace

class TestSoftmaxBf16 : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        if (!models::softmax_rows_available())
            QSKIP("this CPU has no AVX-512: attention keeps at::_softmax and softmax_rows is not run");
        at::set_num_threads(1); // suites run side by side under ctest
    }
    void cleanup() { models::set_softmax_rows(true); }

    void valuesAreTheSoftmaxRoundedToBf16_data() {
        QTest::addColumn<int64_t>("rows");
        QTest::addColumn<int64_t>("cols");
        QTest::newRow("AST-Tiny, 1024 frames (514 tokens)") << int64_t(3 * 514) << int64_t(514);
        QTest::newRow("3308 frames (1650 tokens)") << int64_t(64) << int64_t(1650);
        QTest::newRow("row not a vector multiple") << int64_t(33) << int64_t(7);
        QTest::newRow("one column") << int64_t(5) << int64_t(1);
    }
    void valuesAreTheSoftmaxRoundedToBf16() {
        QFETCH(int64_t, rows);
        QFETCH(int64_t, cols);
        torch::manual_seed(1);
        const auto x = scores({rows, cols});
        const auto y = models::softmax_last_dim(x);
        QCOMPARE(y.scalar_type(), torch::kBFloat16);
        const auto exact = at::softmax(x.to(torch::kDouble), -1);
        // Our exp is fp32-accurate, not exact: a value within its error (a few fp32 steps, 2^-23
        // each) of a bf16 rounding boundary may round to the neighbour, one bf16 step away, so a
        // share of about k 2^-16 for an error of k fp32 steps. ATen's softmax does the same
        // (49 of AST-Tiny's 3.2 M scores of a block, against 52 here, measured). How many varies
        // with the build: 1.3e-4 at 1650 tokens in the sanitizer build, under 1e-4 in the release
        // one. 1e-3 allows k up to ~60 and still fails a polynomial off by 2e-3 in one coefficient
        // (5.9e-3 apart, checked).
        const auto diff = (y.to(torch::kDouble) - exact).abs();
        QVERIFY2((diff <= exact.abs() * kBf16Step).all().item<bool>(),
                 std::to_string((diff / exact.abs()).max().item<double>()).c_str());
        const auto apart = y != exact.to(torch::kBFloat16);
        QVERIFY2(apart.sum().item<double>() / double(apart.numel()) < 1e-3, share(apart).c_str());
    }

    void theBackwardIsTheSoftmaxGradientRoundedToBf16() {
        torch::manual_seed(2);
        const auto x = scores({2 * 514, 514});
        const auto dy = torch::randn({2 * 514, 514}).to(torch::kBFloat16);
        const Result ours = run(x, dy, true), aten = run(x, dy, false);
        QCOMPARE(ours.dx.scalar_type(), torch::kBFloat16);
        // From the same bf16 output and gradient, in float64: y * (dy - <dy, y>).
        const auto y = ours.y.to(torch::kDouble), g = dy.to(torch::kDouble);
        const auto exact = y * (g - (g * y).sum(-1, true));
        // One rounding to bf16, after fp32 sums whose error (~1e-7 of sum |dy y|) shows where
        // dy - <dy, y> cancels.
        const auto slack = y * (g * y).abs().sum(-1, true) * 1e-6;
        const auto diff = (ours.dx.to(torch::kDouble) - exact).abs();
        QVERIFY2((diff <= exact.abs() * kBf16Step + slack).all().item<bool>(),
                 std::to_string((diff - exact.abs() * kBf16Step - slack).max().item<double>()).c_str());
        // ATen's own bf16 backward is further from float64 (0.0096 of the largest gradient here,
        // against 0.0028 for the float64 result rounded to bf16, measured), so two steps apart.
        QVERIFY2(test::max_rel_err(ours.dx, aten.dx) < 2 * kBf16Step,
                 std::to_string(test::max_rel_err(ours.dx, aten.dx)).c_str());
        QVERIFY2(test::max_rel_err(ours.dx, exact) < test::max_rel_err(aten.dx, exact),
                 std::to_string(test::max_rel_err(ours.dx, exact)).c_str());
    }

    // -inf is a masked score and gives 0; rows ATen makes NaN (all -inf, +inf, NaN) stay NaN.
    void infinitiesAndNaNAreWhatATenMakesOfThem() {
        const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
        auto x = torch::randn({5, 19});
        x[0].slice(0, 0, 10).fill_(-inf);
        x[1].fill_(-inf);
        x[2][4] = inf;
        x[3][18] = nan;
        x[4] = x[4] * 200; // differences far past exp's range: exact zeros, as ATen gives
        const auto b = x.to(torch::kBFloat16);
        const auto ours = models::softmax_last_dim(b), aten = at::_softmax(b, -1, false);
        QVERIFY(torch::equal(ours.isnan(), aten.isnan()));
        QVERIFY(torch::equal(ours[0].slice(0, 0, 10), torch::zeros({10}, torch::kBFloat16)));
        for (int r : {0, 4}) {
            QVERIFY(torch::equal(ours[r] == 0, aten[r] == 0));
            QVERIFY(test::max_rel_err(ours[r], aten[r]) < kBf16Step);
        }
        QVERIFY(ours[1].isnan().all().item<bool>());
        QVERIFY(ours[3].isnan().all().item<bool>());
    }

    void theThreadCountChangesNoBit() {
        QVERIFY2(parallel_for_threads(), "the engine was built without OpenMP");
        torch::manual_seed(3);
        const auto x = scores({4 * 3 * 64, 514});
        const auto dy = torch::randn({4 * 3 * 64, 514}).to(torch::kBFloat16);
        at::set_num_threads(2);
        const Result two = run(x, dy, true);
        at::set_num_threads(1);
        const Result one = run(x, dy, true);
        QVERIFY(torch::equal(one.y, two.y));
        QVERIFY(torch::equal(one.dx, two.dx));
    }

    void aNonContiguousInputIsRead() {
        torch::manual_seed(4);
        const auto x = scores({40, 24}).t();
        QVERIFY(!x.is_contiguous());
        const auto dy = torch::randn({24, 40}).to(torch::kBFloat16);
        const Result ours = run(x, dy, true), aten = run(x, dy, false);
        QVERIFY(test::max_rel_err(ours.y, aten.y) < kBf16Step);
        QVERIFY(test::max_rel_err(ours.dx, aten.dx) < kBf16Step);
        QCOMPARE(models::softmax_last_dim(torch::zeros({0, 8}, torch::kBFloat16)).numel(), int64_t(0));
    }

    // Switched off (gafx bench train --unfused), and for anything but CPU bf16, it is ATen's.
    void otherwiseItIsATensSoftmax() {
        torch::manual_seed(5);
        const auto x = scores({16, 100});
        const torch::Device cpu(torch::kCPU);
        QVERIFY(models::softmax_rows_used(cpu));
        QCOMPARE(std::string(models::softmax_path(models::AttentionPath::Unfused, cpu, true)),
                 std::string("bf16 rows, AVX-512 exp (models/softmax_rows)"));
        models::set_softmax_rows(false);
        QVERIFY(!models::softmax_rows_used(cpu));
        QVERIFY(torch::equal(models::softmax_last_dim(x), at::_softmax(x, -1, false)));
        QCOMPARE(std::string(models::softmax_path(models::AttentionPath::Unfused, cpu, true)),
                 std::string("at::_softmax in bf16"));
        models::set_softmax_rows(true);
        const auto f = x.to(torch::kFloat);
        QVERIFY(torch::equal(models::softmax_last_dim(f), at::_softmax(f, -1, false)));
    }

    // Attention's unfused product takes it for CPU bf16 scores (its backward node is in the
    // graph), with the same output as ATen's softmax gives within a bf16 step.
    void attentionTakesIt() {
        torch::manual_seed(6);
        const auto make = [] { return torch::randn({2, 3, 65, 64}).to(torch::kBFloat16).requires_grad_(true); };
        const auto q = make(), k = make(), v = make();
        const auto ours = models::scaled_dot_attention(q, k, v, 0.125);
        QVERIFY(reaches(ours, "SoftmaxRows"));
        models::set_softmax_rows(false);
        const auto aten = models::scaled_dot_attention(q, k, v, 0.125);
        QVERIFY(!reaches(aten, "SoftmaxRows"));
        QVERIFY(reaches(aten, "SoftmaxBackward"));
        QVERIFY2(test::max_rel_err(ours, aten) < kBf16Step, std::to_string(test::max_rel_err(ours, aten)).c_str());
    }
};

QTEST_GUILESS_MAIN(TestSoftmaxBf16)
#include "test_softmax_bf16.moc"
