// Weight files: torch.save zip and safetensors read by name into a module; every mismatch
// names the tensor, the shapes and the file. Fixtures: tests/data/make_weight_fixtures.py.
#include "core/error.h"
#include "models/safetensors.h"
#include "models/weights.h"
#include "test_support.h"

#include <torch/nn/modules/linear.h>

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace gafx;

namespace {

struct Tiny : torch::nn::Module {
    explicit Tiny(int64_t out = 2) {
        fc1 = register_module("fc1", torch::nn::Linear(4, 3));
        fc2 = register_module("fc2", torch::nn::Linear(3, out));
    }
    torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};

std::string fixture(const char* name) { return std::string(GAFX_TEST_DATA_DIR) + "/" + name; }

void check_values(Tiny& m) {
    QVERIFY(torch::allclose(m.fc1->weight, torch::arange(12, torch::kFloat32).reshape({3, 4}) / 10));
    QVERIFY(torch::allclose(m.fc1->bias, torch::tensor({1.0f, 2.0f, 3.0f})));
    QVERIFY(torch::allclose(m.fc2->weight, torch::full({2, 3}, 0.5f)));
    QVERIFY(torch::allclose(m.fc2->bias, torch::tensor({-1.0f, 1.0f})));
}

} // namespace

class TestWeights : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void torchSaveZipWithModulePrefix() {
        const auto sd = models::read_state_dict(fixture("weights_tiny.pt"));
        QCOMPARE(sd.size(), size_t(4));
        Tiny m;
        const auto report = models::load_state_dict(m, sd, fixture("weights_tiny.pt"));
        QCOMPARE(report.loaded.size(), size_t(4));
        QVERIFY(report.unused.empty());
        check_values(m);
    }

    void safetensors() {
        Tiny m;
        const auto path = fixture("weights_tiny.safetensors");
        models::load_state_dict(m, models::read_state_dict(path), path);
        check_values(m);
    }

    void shapeMismatchNamesTensorShapesAndFile() {
        Tiny m(5); // a head for 5 classes, the file has 2
        const auto path = fixture("weights_tiny.safetensors");
        const QString msg = test::error_of([&] { models::load_state_dict(m, models::read_state_dict(path), path); });
        QVERIFY2(msg.contains(QStringLiteral("fc2.weight")), qPrintable(msg));
        QVERIFY2(msg.contains(QStringLiteral("[5, 3]")) && msg.contains(QStringLiteral("[2, 3]")), qPrintable(msg));
        QVERIFY2(msg.contains(QString::fromStdString(path)), qPrintable(msg));
    }

    void newHeadCanBeLeftInitialised() {
        Tiny m(5);
        const auto path = fixture("weights_tiny.pt");
        models::LoadOptions o;
        o.ignore = {"fc2."};
        o.optional = {"fc2."};
        const auto report = models::load_state_dict(m, models::read_state_dict(path), path, o);
        QCOMPARE(report.loaded.size(), size_t(2));
        QCOMPARE(report.left_initialised.size(), size_t(2));
    }

    void missingTensorIsNamed() {
        struct Bigger : Tiny {
            Bigger() { extra = register_module("extra", torch::nn::Linear(2, 2)); }
            torch::nn::Linear extra{nullptr};
        } m;
        const auto path = fixture("weights_tiny.pt");
        const QString msg = test::error_of([&] { models::load_state_dict(m, models::read_state_dict(path), path); });
        QVERIFY2(msg.contains(QStringLiteral("extra.weight")), qPrintable(msg));
    }

    void safetensorsWhoseHeaderLengthStartsLikeAPickle() {
        // The first byte is the header length's low byte: 0x80 once read every such file as a
        // legacy pickle (a checkpoint became unreadable when its metadata grew to that length).
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/w.safetensors").toStdString();
        Tiny m;
        models::StateDict state;
        for (const auto& p : m.named_parameters()) state.emplace_back(p.key(), p.value());
        bool hit = false;
        for (int pad = 0; pad < 256 && !hit; ++pad) {
            models::write_safetensors(path, state, {{"pad", std::string(size_t(pad), 'x')}});
            QFile f(QString::fromStdString(path));
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QByteArray head = f.read(2);
            hit = static_cast<unsigned char>(head[0]) == 0x80 && static_cast<unsigned char>(head[1]) <= 5;
        }
        QVERIFY(hit);
        QCOMPARE(int(models::read_state_dict(path).size()), 4);
    }

    void badFilesAreExplained() {
        QTemporaryDir dir;
        QVERIFY(test::error_of([] { models::read_state_dict("/nonexistent/w.pt"); }).contains(QStringLiteral("no such")));
        QVERIFY(test::error_of([] { models::read_state_dict(fixture("weights_tiny_legacy.pt")); })
                    .contains(QStringLiteral("legacy")));
        const QString junk = dir.path() + QStringLiteral("/junk.safetensors");
        test::write_bytes(junk, QByteArray("\xff\xff\xff\xff\xff\xff\xff\x7f garbage", 20));
        QVERIFY(test::error_of([&] { models::read_state_dict(junk.toStdString()); }).contains(junk));
        // A zip that is not a PyTorch archive.
        const QString zip = dir.path() + QStringLiteral("/notes.pt");
        test::write_bytes(zip, QByteArray("PK\x03\x04 not really a zip", 24));
        QVERIFY(test::error_of([&] { models::read_state_dict(zip.toStdString()); }).contains(zip));
    }
};

QTEST_GUILESS_MAIN(TestWeights)
#include "test_weights.moc"
