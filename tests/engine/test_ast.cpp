// The AST classifier: shapes, sizes, timm/AST names, gradients, bf16 autocast, positional
// embedding resampling, and that a tiny one learns.
#include "core/error.h"
#include "models/ast.h"

#include <ATen/autocast_mode.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>
#include <torch/version.h>

#include <QElapsedTimer>
#include <QtTest>

#include <set>
#include <string>

using namespace gafx;
using namespace gafx::models;

namespace {

AstConfig small_config(int64_t frames, int64_t classes = 5) {
    AstConfig c;
    c.embed_dim = 32;
    c.depth = 2;
    c.heads = 2;
    c.frames = frames;
    c.num_classes = classes;
    return c;
}

int64_t count_parameters(torch::nn::Module& m) {
    int64_t n = 0;
    for (const auto& p : m.parameters())
        n += p.numel();
    return n;
}

// bf16 autocast on CPU for one scope; the API was renamed in libtorch 2.4.
struct CpuBf16Autocast {
    CpuBf16Autocast() { set(true); }
    ~CpuBf16Autocast() {
        set(false);
        at::autocast::clear_cache();
    }
    static void set(bool on) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
        at::autocast::set_autocast_dtype(at::kCPU, at::kBFloat16);
        at::autocast::set_autocast_enabled(at::kCPU, on);
#else
        at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
        at::autocast::set_cpu_enabled(on);
#endif
    }
};

} // namespace

class TestAst : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init() { torch::manual_seed(0); }

    void outputShapesForSeveralFrameCounts() {
        for (int64_t frames : {64, 100, 1024}) {
            Ast model(small_config(frames));
            model->eval();
            torch::NoGradGuard no_grad;
            const auto x = torch::randn({3, frames, 128});
            QCOMPARE(model->pos_embed.size(1), 2 + 8 * (frames / 16));
            QCOMPARE(model->forward_features(x).sizes().vec(), (std::vector<int64_t>{3, 2, 32}));
            QCOMPARE(model->forward(x).sizes().vec(), (std::vector<int64_t>{3, 5}));
        }
    }

    void patchEmbeddingIsAstsConvolution() {
        // Patches are cut by a reshape and projected by one product; the tokens must be the
        // strided convolution AST defines, in its order, also when the frames do not fill the
        // last patch.
        Ast model(small_config(100));
        torch::NoGradGuard no_grad;
        const auto feats = torch::randn({2, 100, 128});
        const auto ref = torch::conv2d(feats.unsqueeze(1).transpose(2, 3), model->patch_proj->weight,
                                       model->patch_proj->bias, 16)
                             .flatten(2)
                             .transpose(1, 2);
        const auto got = model->patch_tokens(feats);
        QCOMPARE(got.sizes().vec(), ref.sizes().vec());
        QVERIFY(torch::allclose(got, ref, 1e-5, 1e-5));
    }

    void tinyRunsAtFullLength() {
        Ast model(ast_tiny(1024, 10));
        model->eval();
        torch::NoGradGuard no_grad;
        QElapsedTimer timer;
        timer.start();
        const auto y = model->forward(torch::randn({1, 1024, 128}));
        qInfo("AST-Tiny forward, 1 x 1024 frames: %lld ms", static_cast<long long>(timer.elapsed()));
        QCOMPARE(y.sizes().vec(), (std::vector<int64_t>{1, 10}));
        QVERIFY(y.isfinite().all().item<bool>());
    }

    void parameterCountsMatchDeit() {
        // 5.5 M and 21.6 M are reproduced with a 10-class head (GTZAN); 527 AudioSet classes
        // would add 0.1 M / 0.2 M.
        Ast tiny(ast_tiny(1024, 10));
        Ast small(ast_small(1024, 10));
        const int64_t nt = count_parameters(*tiny), ns = count_parameters(*small);
        qInfo("AST-Tiny %lld, AST-Small %lld parameters", static_cast<long long>(nt), static_cast<long long>(ns));
        QCOMPARE(nt, ast_parameter_count(ast_tiny(1024, 10)));
        QCOMPARE(ns, ast_parameter_count(ast_small(1024, 10)));
        QVERIFY(qAbs(nt / 5.5e6 - 1.0) < 0.02);
        QVERIFY(qAbs(ns / 21.6e6 - 1.0) < 0.02);
        QCOMPARE(ast_parameter_count(ast_tiny(1024, 527)) - nt, int64_t(517 * 193));
    }

    void parameterNamesFollowTimmAndAst() {
        Ast model(small_config(64));
        std::set<std::string> names;
        for (const auto& item : model->named_parameters())
            names.insert(item.key());
        for (const char* want : {"patch_embed.proj.weight", "patch_embed.proj.bias", "cls_token", "dist_token",
                                 "pos_embed", "blocks.0.norm1.weight", "blocks.0.attn.qkv.weight",
                                 "blocks.0.attn.proj.bias", "blocks.1.norm2.bias", "blocks.1.mlp.fc1.weight",
                                 "blocks.1.mlp.fc2.bias", "norm.weight", "norm.bias", "mlp_head.0.weight",
                                 "mlp_head.1.weight", "mlp_head.1.bias"})
            QVERIFY2(names.count(want), want);
        QCOMPARE(model->named_parameters()["patch_embed.proj.weight"].sizes().vec(),
                 (std::vector<int64_t>{32, 1, 16, 16}));
        QCOMPARE(model->named_parameters()["blocks.0.attn.qkv.weight"].sizes().vec(),
                 (std::vector<int64_t>{96, 32}));
        QCOMPARE(model->norm->options.eps(), 1e-6);
    }

    void gradientsReachEveryParameter() {
        Ast model(small_config(64));
        const auto loss = model->forward(torch::randn({2, 64, 128})).pow(2).sum();
        loss.backward();
        for (const auto& item : model->named_parameters()) {
            const auto& g = item.value().grad();
            QVERIFY2(g.defined() && g.abs().sum().item<double>() > 0, item.key().c_str());
        }
    }

    void softmaxStaysFp32UnderBf16Autocast() {
        Ast model(small_config(256));
        model->eval();
        torch::NoGradGuard no_grad;
        // Large inputs make the scores large, where a bf16 softmax would be far off.
        const auto x = torch::randn({2, 256, 128}) * 30;
        const auto ref = model->forward(x);
        torch::Tensor y;
        {
            CpuBf16Autocast autocast;
            y = model->forward(x);
        }
        QVERIFY(y.isfinite().all().item<bool>());
        const double err = (y.to(torch::kFloat) - ref).abs().max().item<double>();
        const double scale = ref.abs().max().item<double>();
        QVERIFY2(err < 0.1 * scale + 0.05, qPrintable(QString("bf16 error %1 of %2").arg(err).arg(scale)));

        // The attention itself: qkv runs in bf16, the returned activations are finite.
        Attention attn(32, 2, 0.0);
        attn->eval();
        CpuBf16Autocast autocast;
        const auto out = attn->forward(torch::randn({1, 300, 32}) * 50);
        QCOMPARE(out.scalar_type(), at::kBFloat16);
        QVERIFY(out.isfinite().all().item<bool>());
    }

    void resizePosEmbedKeepsTokensAndGrid() {
        const auto pe = torch::randn({1, 2 + 14 * 14, 8});
        QVERIFY(resize_pos_embed(pe, 14, 14, 14, 14).equal(pe));

        const auto r = resize_pos_embed(pe, 14, 14, 8, 64);
        QCOMPARE(r.sizes().vec(), (std::vector<int64_t>{1, 2 + 8 * 64, 8}));
        QVERIFY(r.narrow(1, 0, 2).equal(pe.narrow(1, 0, 2)));

        // A grid constant along frequency and ramping in time keeps both properties.
        const auto ramp = torch::arange(101, torch::kFloat).view({1, 101, 1}).expand({12, 101, 4});
        const auto ast_pe = torch::cat({torch::zeros({2, 4}), ramp.reshape({12 * 101, 4})}).unsqueeze(0);
        const auto g = resize_pos_embed(ast_pe, 12, 101, 8, 64).narrow(1, 2, 8 * 64).reshape({8, 64, 4});
        QVERIFY(torch::allclose(g, g[0].unsqueeze(0).expand_as(g)));
        QVERIFY((g[0].select(1, 0).diff() > 0).all().item<bool>());

        QVERIFY_THROWS_EXCEPTION(Error, resize_pos_embed(pe, 12, 14, 8, 64));
    }

    void resetHeadForFineTuning() {
        Ast model(small_config(64, 527));
        const auto norm_weight = model->head_norm->weight;
        model->reset_head(10);
        QCOMPARE(model->config().num_classes, int64_t(10));
        QCOMPARE(model->named_parameters()["mlp_head.1.weight"].sizes().vec(), (std::vector<int64_t>{10, 32}));
        QVERIFY(model->named_parameters()["mlp_head.0.weight"].is_same(norm_weight));
        QCOMPARE(model->forward(torch::randn({2, 64, 128})).size(1), int64_t(10));
    }

    void rejectsBadInputsAndConfigs() {
        Ast model(small_config(64));
        QVERIFY_THROWS_EXCEPTION(Error, model->forward(torch::randn({1, 63, 128})));
        QVERIFY_THROWS_EXCEPTION(Error, model->forward(torch::randn({1, 64, 64})));
        AstConfig c = small_config(64);
        c.heads = 5;
        QVERIFY_THROWS_EXCEPTION(Error, Ast{c});
        QVERIFY_THROWS_EXCEPTION(Error, Ast{small_config(8)});
    }

    void tinyModelLearnsTinyDataset() {
        Ast model(small_config(32, 2));
        model->train();
        const auto x = torch::randn({8, 32, 128});
        const auto y = torch::tensor({0, 1, 0, 1, 1, 0, 0, 1}, torch::kLong);
        torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
        for (int step = 0; step < 50; ++step) {
            opt.zero_grad();
            torch::nn::functional::cross_entropy(model->forward(x), y).backward();
            opt.step();
        }
        model->eval();
        torch::NoGradGuard no_grad;
        QCOMPARE(model->forward(x).argmax(1).eq(y).sum().item<int64_t>(), int64_t(8));
    }

    // Opt-in timing (GAFX_AST_TIMING=1): forward + backward of AST-Tiny, batch 4 x 1024 frames.
    void timingTinyBatch4() {
        if (qEnvironmentVariableIsEmpty("GAFX_AST_TIMING"))
            QSKIP("set GAFX_AST_TIMING=1 to time AST-Tiny");
        Ast model(ast_tiny(1024, 10));
        const auto x = torch::randn({4, 1024, 128});
        for (int i = 0; i < 3; ++i) {
            QElapsedTimer timer;
            timer.start();
            const auto loss = model->forward(x).sum();
            const auto fwd = timer.elapsed();
            loss.backward();
            qInfo("AST-Tiny 4 x 1024: forward %lld ms, backward %lld ms", static_cast<long long>(fwd),
                  static_cast<long long>(timer.elapsed() - fwd));
        }
    }
};

QTEST_GUILESS_MAIN(TestAst)
#include "test_ast.moc"
