// fp32 CPU matrix products through oneDNN (models/onednn_matmul): values and gradients against
// float64 for the layouts a ViT block gives them (strided attention heads, transposed views,
// linears with and without bias), the layouts oneDNN has no kernel for, and which calls take
// the path: fp32 on a CPU outside autocast, never bf16 or under autocast, and not when switched off.
#include "core/autocast_state.h"
#include "models/onednn_matmul.h"
#include "models/vit_block.h"
#include "train/op_table.h"
#include "autograd_graph.h"
#include "tensor_compare.h"

#include <torch/types.h>

#include <QtTest>

#include <string>
#include <vector>

using namespace gafx;
using test::reaches;

namespace {

torch::Tensor leaf(const torch::Tensor& t) { return t.detach().requires_grad_(true); }

// fp32 results against float64: a product of K terms, each within fp32 rounding.
constexpr double kTol = 2e-5;

} // namespace

class TestOnednnMatmul : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init() {
        if (!models::onednn_matmul_available()) QSKIP("built without libdnnl-dev: ATen runs every product");
        models::set_onednn_matmul(true);
        torch::manual_seed(7);
    }
    void cleanup() { models::set_onednn_matmul(true); }

    void attentionProductsMatchFloat64() {
        // q, k as attention's unbind leaves them: strided views of one [B, N, 3, H, hd] tensor.
        const auto qkv = torch::randn({2, 70, 3, 3, 64}).permute({2, 0, 3, 1, 4});
        auto q = leaf(qkv[0]), k = leaf(qkv[1]);
        const auto kt = k.transpose(-2, -1);
        const uint64_t before = models::onednn_products_run();
        const auto y = models::matmul_fp32(q, kt);
        QCOMPARE(models::onednn_products_run(), before + 1); // oneDNN has a kernel for these strides
        QVERIFY(reaches(y, "Matmul"));
        const auto dy = torch::randn_like(y);
        y.backward(dy);
        QCOMPARE(models::onednn_products_run(), before + 3); // and for both gradients' transposed views

        auto q64 = leaf(q.detach().to(torch::kDouble)), k64 = leaf(k.detach().to(torch::kDouble));
        const auto y64 = at::matmul(q64, k64.transpose(-2, -1));
        y64.backward(dy.to(torch::kDouble));
        QCOMPARE(y.sizes(), y64.sizes());
        QVERIFY2(test::max_rel_err(y, y64) < kTol, std::to_string(test::max_rel_err(y, y64)).c_str());
        QVERIFY(test::max_rel_err(q.grad(), q64.grad()) < kTol);
        QVERIFY(test::max_rel_err(k.grad(), k64.grad()) < kTol);

        // probabilities times v, v strided as well
        auto p = leaf(torch::softmax(torch::randn({2, 3, 70, 70}), -1)), v = leaf(torch::randn({2, 70, 3, 64}).transpose(1, 2));
        const auto o = models::matmul_fp32(p, v);
        const auto dO = torch::randn_like(o);
        o.backward(dO);
        auto p64 = leaf(p.detach().to(torch::kDouble)), v64 = leaf(v.detach().to(torch::kDouble));
        at::matmul(p64, v64).backward(dO.to(torch::kDouble));
        QVERIFY(test::max_rel_err(o, at::matmul(p64, v64)) < kTol);
        QVERIFY(test::max_rel_err(p.grad(), p64.grad()) < kTol);
        QVERIFY(test::max_rel_err(v.grad(), v64.grad()) < kTol);
    }

    // Each product is named with its operands, so `gafx bench train --ops` splits them by layout.
    void productsAreNamedWithTheirLayouts() {
        const auto qkv = torch::randn({2, 70, 3, 3, 64}).permute({2, 0, 3, 1, 4});
        train::OpTable table;
        models::matmul_fp32(qkv[0], qkv[1].transpose(-2, -1));
        table.stop();
        bool found = false;
        for (const auto& r : table.rows())
            found |= r.op == "gafx::onednn_product" && r.inputs == "f32[2,3,70,64]S f32[2,3,64,70]S" && r.calls == 1;
        QVERIFY(found);
    }

    void linearMatchesFloat64WithAndWithoutBias() {
        for (const bool with_bias : {true, false}) {
            auto x = leaf(torch::randn({3, 37, 48})), w = leaf(torch::randn({80, 48}) * 0.1);
            auto b = with_bias ? leaf(torch::randn({80})) : torch::Tensor();
            const uint64_t before = models::onednn_products_run();
            const auto y = models::linear_fp32(x, w, b);
            QVERIFY(reaches(y, "Linear"));
            QCOMPARE(models::onednn_products_run(), before + 1);
            QCOMPARE(y.sizes(), (torch::IntArrayRef{3, 37, 80}));
            const auto dy = torch::randn_like(y);
            y.backward(dy);

            auto x64 = leaf(x.detach().to(torch::kDouble)), w64 = leaf(w.detach().to(torch::kDouble));
            auto b64 = with_bias ? leaf(b.detach().to(torch::kDouble)) : torch::Tensor();
            const auto y64 = at::linear(x64, w64, b64);
            y64.backward(dy.to(torch::kDouble));
            QVERIFY2(test::max_rel_err(y, y64) < kTol, std::to_string(test::max_rel_err(y, y64)).c_str());
            QVERIFY(test::max_rel_err(x.grad(), x64.grad()) < kTol);
            QVERIFY(test::max_rel_err(w.grad(), w64.grad()) < kTol);
            if (with_bias) QVERIFY(test::max_rel_err(b.grad(), b64.grad()) < kTol);
        }
    }

    void layoutsWithoutAKernelGiveTheSame() {
        // An expanded operand (stride 0) and a one-row product: whatever oneDNN offers, equal to ATen.
        const auto a = torch::randn({1, 5, 16}).expand({4, 5, 16});
        const auto b = torch::randn({4, 16, 9});
        QVERIFY(test::max_rel_err(models::matmul_fp32(a, b), at::matmul(a, b)) < kTol);
        const auto row = torch::randn({1, 16}), w = torch::randn({9, 16});
        QVERIFY(test::max_rel_err(models::linear_fp32(row, w, {}), at::linear(row, w)) < kTol);
        const auto empty = torch::randn({0, 16});
        QCOMPARE(models::linear_fp32(empty, w, {}).sizes(), (torch::IntArrayRef{0, 9}));
    }

    void onlyFp32OnACpuOutsideAutocastTakesIt() {
        auto a = leaf(torch::randn({4, 8, 16})), b = leaf(torch::randn({4, 16, 8}));
        QVERIFY(!reaches(models::matmul_fp32(a.to(torch::kBFloat16), b.to(torch::kBFloat16)), "Matmul"));
        {
            autocast::State s;
            s.cpu = true;
            autocast::Restore scope(s);
            QVERIFY(!models::onednn_matmul_used(a));
            QVERIFY(!reaches(models::matmul_fp32(a, b), "Matmul"));
        }
        models::set_onednn_matmul(false);
        const uint64_t before = models::onednn_products_run();
        QVERIFY(!reaches(models::matmul_fp32(a, b), "Matmul"));
        QCOMPARE(models::onednn_products_run(), before);
        QVERIFY(std::string(models::matmul_path(torch::kCPU, true)).find("ATen") == 0);
    }

    void aVitBlockRunsItsProductsThroughIt() {
        models::VitBlock block(96, 3, 4, 0.0, 0.0);
        auto x = leaf(torch::randn({2, 20, 96}));
        const auto y = block->forward(x);
        QVERIFY(reaches(y, "Matmul"));
        QVERIFY(reaches(y, "Linear"));
        y.sum().backward();
        const auto grad_on = x.grad().clone();
        models::set_onednn_matmul(false);
        auto x2 = leaf(x.detach());
        const auto y2 = block->forward(x2);
        QVERIFY(!reaches(y2, "Matmul"));
        y2.sum().backward();
        QVERIFY(test::max_rel_err(y, y2) < 1e-5);
        QVERIFY(test::max_rel_err(grad_on, x2.grad()) < 1e-4);
    }
};

QTEST_GUILESS_MAIN(TestOnednnMatmul)
#include "test_onednn_matmul.moc"
