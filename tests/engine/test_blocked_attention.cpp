// Blocked attention (models/blocked_attention) against the unfused product at the token counts
// the models use: 514 (1024 frames), 938 (GAFX-U's 1876) and 1650 (3308), in fp32 and bf16,
// values and gradients, with blocks that do and do not divide the tokens.
#include "models/blocked_attention.h"
#include "models/vit_block.h"
#include "tensor_compare.h"

#include <ATen/Parallel.h>
#include <torch/types.h>

#include <QtTest>

#include <string>

using namespace gafx;

namespace {

struct Result {
    torch::Tensor out, dq, dk, dv;
};

template <typename Fn> Result run(Fn fn, const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                  const torch::Tensor& dout) {
    auto qq = q.detach().requires_grad_(true), kk = k.detach().requires_grad_(true), vv = v.detach().requires_grad_(true);
    auto out = fn(qq, kk, vv);
    out.backward(dout.to(out.scalar_type()));
    return {out.detach(), qq.grad(), kk.grad(), vv.grad()};
}

} // namespace

class TestBlockedAttention : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { at::set_num_threads(1); } // suites run side by side under ctest

    void matchesTheUnfusedProduct_data() {
        QTest::addColumn<int>("tokens");
        QTest::addColumn<int>("block");
        QTest::addColumn<bool>("bf16");
        for (int tokens : {514, 938, 1650})
            for (bool bf16 : {false, true}) {
                const std::string name = std::to_string(tokens) + (bf16 ? " bf16" : " fp32");
                QTest::newRow(name.c_str()) << tokens << (tokens == 938 ? 100 : 256) << bf16;
            }
    }

    // fp32: the same sums in another order. bf16: the blocked result's error against a float64
    // reference is that of the unfused bf16 path, within a factor of two (both round the
    // products' inputs to bf16; the blocked path keeps scores and statistics in fp32).
    void matchesTheUnfusedProduct() {
        QFETCH(int, tokens);
        QFETCH(int, block);
        QFETCH(bool, bf16);
        torch::manual_seed(tokens);
        const auto dtype = bf16 ? torch::kBFloat16 : torch::kFloat32;
        const auto q = torch::randn({1, 2, tokens, 64}), k = torch::randn({1, 2, tokens, 64}), v = torch::randn({1, 2, tokens, 64});
        const auto dout = torch::randn({1, 2, tokens, 64});
        const double scale = 0.125;
        const auto ref = run([&](auto a, auto b, auto c) {
                                 return at::matmul(at::softmax(at::matmul(a * scale, b.transpose(-2, -1)), -1), c);
                             },
                             q.to(torch::kDouble), k.to(torch::kDouble), v.to(torch::kDouble), dout.to(torch::kDouble));
        const auto plain = run([&](auto a, auto b, auto c) { return models::scaled_dot_attention(a, b, c, scale); },
                               q.to(dtype), k.to(dtype), v.to(dtype), dout);
        const auto blocked = run([&](auto a, auto b, auto c) { return models::blocked_attention(a, b, c, scale, block); },
                                 q.to(dtype), k.to(dtype), v.to(dtype), dout);
        QCOMPARE(blocked.out.scalar_type(), dtype);
        QCOMPARE(blocked.dq.scalar_type(), dtype);
        const std::pair<const char*, std::pair<torch::Tensor, torch::Tensor>> parts[] = {
            {"out", {blocked.out, ref.out}}, {"dq", {blocked.dq, ref.dq}}, {"dk", {blocked.dk, ref.dk}}, {"dv", {blocked.dv, ref.dv}}};
        const torch::Tensor plains[] = {plain.out, plain.dq, plain.dk, plain.dv};
        for (size_t i = 0; i < 4; ++i) {
            const double err = test::max_rel_err(parts[i].second.first, parts[i].second.second);
            const double allowed = bf16 ? 2 * test::max_rel_err(plains[i], parts[i].second.second) + 1e-3 : 1e-5;
            QVERIFY2(err <= allowed, (std::string(parts[i].first) + ": error " + std::to_string(err) + ", allowed " +
                                      std::to_string(allowed)).c_str());
        }
    }

    void rejectsMismatchedInputs() {
        const auto q = torch::randn({1, 1, 8, 4});
        QVERIFY_THROWS_EXCEPTION(std::exception, models::blocked_attention(q, torch::randn({1, 1, 9, 4}), q, 1.0));
        QVERIFY_THROWS_EXCEPTION(std::exception, models::blocked_attention(q, q.to(torch::kBFloat16), q, 1.0));
        QVERIFY_THROWS_EXCEPTION(std::exception, models::blocked_attention(q, q, q, 1.0, 0));
    }
};

QTEST_GUILESS_MAIN(TestBlockedAttention)
#include "test_blocked_attention.moc"
