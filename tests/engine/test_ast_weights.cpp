// AST weights from ImageNet DeiT (timm) and from the AST reference AudioSet checkpoints, at
// toy sizes made by tests/data/make_weight_fixtures.py.
#include "core/error.h"
#include "models/ast_weights.h"
#include "test_support.h"

#include <QtTest>

using namespace gafx;

namespace {

std::string fixture(const char* name) { return std::string(GAFX_TEST_DATA_DIR) + "/" + name; }

models::AstConfig toy(int64_t classes, int64_t dim = 8) {
    models::AstConfig c;
    c.embed_dim = dim;
    c.depth = 1;
    c.heads = 2;
    c.frames = 64; // 8 x 4 patch grid
    c.num_classes = classes;
    return c;
}

torch::Tensor stored(const std::string& file, const std::string& name) {
    for (const auto& [n, t] : models::read_state_dict(file))
        if (n == name) return t;
    return {};
}

} // namespace

class TestAstWeights : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void imagenetDeit() {
        models::Ast ast(toy(10));
        const auto file = fixture("deit_like.safetensors");
        const auto head_before = ast->head->weight.clone();
        const auto r = models::load_ast_weights(*ast, file);
        QCOMPARE(QString::fromStdString(r.source), QStringLiteral("imagenet-deit"));
        QVERIFY(r.pos_embed_resized);
        QVERIFY(!r.head_loaded);
        QVERIFY(torch::equal(ast->head->weight, head_before));
        // RGB patch filters averaged into one mel channel.
        QVERIFY(torch::allclose(ast->patch_proj->weight, stored(file, "patch_embed.proj.weight").mean(1, true)));
        // 4 x 4 ImageNet grid -> 8 x 4; the class and distillation embeddings are kept as they are.
        QCOMPARE(ast->pos_embed.sizes().vec(), (std::vector<int64_t>{1, 2 + 32, 8}));
        QVERIFY(torch::equal(ast->pos_embed.narrow(1, 0, 2), stored(file, "pos_embed").narrow(1, 0, 2)));
        QVERIFY(torch::equal(ast->cls_token, stored(file, "cls_token")));
    }

    void astAudioSetCheckpoint() {
        const auto file = fixture("ast_like.pth");
        models::Ast fresh_head(toy(10));
        auto r = models::load_ast_weights(*fresh_head, file);
        QCOMPARE(QString::fromStdString(r.source), QStringLiteral("ast-audioset"));
        QVERIFY(r.pos_embed_resized); // AST's overlapping 12 x 5 grid -> our 8 x 4
        QVERIFY(!r.head_loaded);      // 527 AudioSet classes, we have 10
        QVERIFY(torch::equal(fresh_head->patch_proj->weight, stored(file, "module.v.patch_embed.proj.weight")));
        QVERIFY(torch::equal(fresh_head->head_norm->weight, stored(file, "module.mlp_head.0.weight")));

        models::Ast audioset(toy(527));
        r = models::load_ast_weights(*audioset, file);
        QVERIFY(r.head_loaded);
        QVERIFY(torch::equal(audioset->head->weight, stored(file, "module.mlp_head.1.weight")));
        QVERIFY(torch::equal(audioset->blocks[0]->named_parameters()["attn.qkv.weight"],
                             stored(file, "module.v.blocks.0.attn.qkv.weight")));
    }

    void wrongWidthNamesTensorAndFile() {
        models::Ast wide(toy(10, 16));
        const auto file = fixture("deit_like.safetensors");
        const QString msg = test::error_of([&] { models::load_ast_weights(*wide, file); });
        QVERIFY2(msg.contains(QString::fromStdString(file)), qPrintable(msg));
        QVERIFY2(msg.contains(QStringLiteral("expected shape")), qPrintable(msg));
    }
};

QTEST_GUILESS_MAIN(TestAstWeights)
#include "test_ast_weights.moc"
