// Weight files: torch.save zip and safetensors read by name into a module; every mismatch
// names the tensor, the shapes and the file. Fixtures: tests/data/make_weight_fixtures.py.
#include "core/error.h"
#include "models/safetensors.h"
#include "models/weights.h"
#include "core/npy.h"
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
        static const char kJunk[] = "\xff\xff\xff\xff\xff\xff\xff\x7f garbage"; // the length claims 2^63
        test::write_bytes(junk, QByteArray(kJunk, sizeof kJunk - 1));
        QVERIFY(test::error_of([&] { models::read_state_dict(junk.toStdString()); }).contains(junk));
        // A zip that is not a PyTorch archive.
        const QString zip = dir.path() + QStringLiteral("/notes.pt");
        static const char kNotZip[] = "PK\x03\x04 not really a zip";
        test::write_bytes(zip, QByteArray(kNotZip, sizeof kNotZip - 1));
        QVERIFY(test::error_of([&] { models::read_state_dict(zip.toStdString()); }).contains(zip));
    }

    // fuzz_safetensors: a tensor with a zero dimension has no storage; copying its 0 bytes into a
    // null pointer was undefined (UBSan, in the sanitizer stage).
    void zeroElementTensorReadsAsEmpty() {
        QTemporaryDir dir;
        const std::string header = R"({"b": {"dtype": "F32", "shape": [0, 3], "data_offsets": [0, 0]}})";
        const uint64_t n = header.size();
        QByteArray bytes(reinterpret_cast<const char*>(&n), 8);
        bytes += QByteArray::fromStdString(header);
        const QString path = dir.path() + QStringLiteral("/empty.safetensors");
        test::write_bytes(path, bytes);
        const auto state = models::read_state_dict(path.toStdString());
        QCOMPARE(state.size(), size_t(1));
        QCOMPARE(state.front().second.numel(), int64_t(0));
        QCOMPARE(state.front().second.size(1), int64_t(3));
    }

    void hostileSafetensorsHeadersAllocateNothing() {
        QTemporaryDir dir;
        // A header and `data` bytes of tensor data, as a hostile writer would lay them out.
        const auto file = [&](const std::string& header, const std::string& data) {
            const QString path = dir.path() + QStringLiteral("/h.safetensors");
            const uint64_t n = header.size();
            QByteArray bytes(reinterpret_cast<const char*>(&n), 8);
            bytes += QByteArray::fromStdString(header + data);
            test::write_bytes(path, bytes);
            return test::error_of([&] { models::read_state_dict(path.toStdString()); });
        };
        const std::vector<std::pair<std::string, const char*>> cases = {
            // 30 G elements claimed over 8 bytes: refused before torch::empty would touch 120 GB.
            {R"({"w":{"dtype":"F32","shape":[30000000000],"data_offsets":[0,8]}})", "more than the file holds"},
            {R"({"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}})", "more than the file holds"},
            {R"({"w":{"dtype":"F32","shape":[-2,-1],"data_offsets":[0,8]}})", "negative dimension"},
            {R"({"w":[]})", "not described by an object"},
            {R"({"w":{"dtype":"F32"}})", "malformed safetensors header at 'w'"},
            {R"({"w":{"dtype":"F32","shape":"big","data_offsets":[0,8]}})", "malformed safetensors header at 'w'"},
            {R"({"w":{"dtype":"BOOL","shape":[8],"data_offsets":[0,8]}})", "neither 0 nor 1"},
            // Numbers past int64 or with a fraction: a cast of undefined result before (fuzz_safetensors;
            // tests/data/fuzz/safetensors/shape-past-int64).
            {R"({"w":{"dtype":"F32","shape":[1e23,2],"data_offsets":[0,8]}})", "not a whole number"},
            {R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8.5]}})", "not a whole number"},
            {R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", "negative data offset"},
        };
        for (const auto& [header, expect] : cases) {
            const QString msg = file(header, std::string("\x01\x00\x02\x00\x00\x00\x00\x00", 8));
            QVERIFY2(msg.contains(QLatin1String(expect)) && msg.contains(QStringLiteral("h.safetensors")),
                     qPrintable(QString::fromStdString(header) + " -> " + msg));
        }
        QCOMPARE(file(R"({"w":{"dtype":"BOOL","shape":[8],"data_offsets":[0,8]}})", std::string(8, '\x01')), QString());
    }

    void hostileNpyHeaders() {
        QTemporaryDir dir;
        const auto npy = [&](const std::string& header, size_t data_bytes) {
            const QString path = dir.path() + QStringLiteral("/a.npy");
            const uint16_t len = uint16_t(header.size());
            QByteArray bytes("\x93NUMPY\x01\x00", 8);
            bytes += QByteArray(reinterpret_cast<const char*>(&len), 2);
            bytes += QByteArray::fromStdString(header) + QByteArray(int(data_bytes), '\0');
            test::write_bytes(path, bytes);
            return test::error_of([&] { read_npy_f32(path.toStdString()); });
        };
        const std::string head = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
        QVERIFY(npy(head + "30000000000,), }", 100).contains(QStringLiteral("truncated .npy data")));
        QVERIFY(npy(head + "99999999999999999999999, 99999999999999999999,), }", 100).contains(QStringLiteral("truncated")));
        // 60 KB of shape: once a std::regex over it (deep recursion); now a plain scan and a cap.
        std::string many = head;
        while (many.size() < 60000) many += "1, ";
        QVERIFY(npy(many + "), }", 4).contains(QStringLiteral("more than 32 dimensions")));
        QVERIFY(npy(head + "2, x), }", 8).contains(QStringLiteral("not a tuple of sizes")));
        QCOMPARE(npy(head + "2, 3), }", 24), QString());
    }
};

QTEST_GUILESS_MAIN(TestWeights)
#include "test_weights.moc"
