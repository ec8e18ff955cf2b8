// `gafx models` and `gafx features` through the built binary.
#include "core/npy.h"
#include "models/softmax_rows.h"
#include "store/run_paths.h"
#include "store/run_store.h"
#include "test_support.h"
#include "train/trainer.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <filesystem>

using gafx::test::run_gafx;

namespace {

QString data_path(const char* name) { return QStringLiteral(GAFX_TEST_DATA_DIR "/") + QLatin1String(name); }

QList<int> ints(const QJsonValue& v) {
    QList<int> out;
    for (const auto& x : v.toArray()) out << x.toInt();
    return out;
}

} // namespace

class TestCliModels : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private Q_SLOTS:
    void modelsJsonFromBuiltModules() {
        const auto r = run_gafx({QStringLiteral("models"), QStringLiteral("--json")});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        const QJsonArray all = QJsonDocument::fromJson(r.out.toUtf8()).array();
        QCOMPARE(all.size(), 6);
        QMap<QString, QJsonObject> by;
        for (const auto& v : all) by[v.toObject()[QStringLiteral("name")].toString()] = v.toObject();
        for (const char* n : {"mel", "gafx-u", "gafx-r", "gafx-a"})
            QCOMPARE(by[QLatin1String(n)][QStringLiteral("kind")].toString(), QStringLiteral("extractor"));
        QCOMPARE(by[QStringLiteral("ast-tiny")][QStringLiteral("kind")].toString(), QStringLiteral("classifier"));
        QCOMPARE(ints(by[QStringLiteral("mel")][QStringLiteral("output")]), (QList<int>{3005, 128}));
        QCOMPARE(ints(by[QStringLiteral("gafx-r")][QStringLiteral("output")]), (QList<int>{3308, 128}));
        QCOMPARE(ints(by[QStringLiteral("gafx-a")][QStringLiteral("output")]), (QList<int>{3308, 128}));
        QCOMPARE(ints(by[QStringLiteral("gafx-u")][QStringLiteral("output")]), (QList<int>{1876, 128}));
        QCOMPARE(ints(by[QStringLiteral("gafx-u")][QStringLiteral("input")]), (QList<int>{2, 480000}));
        QCOMPARE(ints(by[QStringLiteral("gafx-r")][QStringLiteral("input")]), (QList<int>{1, 661500}));
        QCOMPARE(by[QStringLiteral("mel")][QStringLiteral("params")].toDouble(), 0.0);
        // torchaudio hdemucs_high(sources=4) and the issue's AST targets.
        QCOMPARE(by[QStringLiteral("gafx-u")][QStringLiteral("params")].toDouble(), 83639368.0);
        QVERIFY(std::abs(by[QStringLiteral("ast-tiny")][QStringLiteral("params")].toDouble() / 5.5e6 - 1) < 0.02);
        QVERIFY(std::abs(by[QStringLiteral("ast-small")][QStringLiteral("params")].toDouble() / 21.6e6 - 1) < 0.02);
    }

    void melFeaturesAreTorchaudioFbank() {
        const QString out = dir_.path() + QStringLiteral("/mel.npy");
        const auto r = run_gafx({QStringLiteral("features"), data_path("fbank_22050.wav"), QStringLiteral("--extractor"),
                                 QStringLiteral("mel"), QStringLiteral("--out"), out});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        const gafx::NpyArray got = gafx::read_npy_f32(out.toStdString());
        QFile ref(data_path("fbank_22050.bin"));
        QVERIFY(ref.open(QIODevice::ReadOnly));
        const QByteArray bytes = ref.readAll();
        int32_t head[5];
        std::memcpy(head, bytes.constData(), sizeof head);
        QCOMPARE(got.shape, (std::vector<int64_t>{head[3], head[4]}));
        const float* want = reinterpret_cast<const float*>(bytes.constData() + sizeof head);
        double worst = 0;
        for (size_t i = 0; i < got.data.size(); ++i) worst = std::max(worst, double(std::abs(got.data[i] - want[i])));
        QVERIFY2(worst <= 1e-3, qPrintable(QString::number(worst)));
    }

    void gafxRFeaturesHaveItsShape() {
        const QString out = dir_.path() + QStringLiteral("/r.npy");
        const auto r = run_gafx({QStringLiteral("features"), data_path("fbank_16000.wav"), QStringLiteral("--extractor"),
                                 QStringLiteral("gafx-r"), QStringLiteral("--out"), out});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        const gafx::NpyArray got = gafx::read_npy_f32(out.toStdString());
        // 3.3 s at 16 kHz resampled to 22050 Hz, in rows of 200 samples.
        QCOMPARE(got.shape.size(), size_t(2));
        QCOMPARE(got.shape[1], int64_t(128));
        QVERIFY(std::abs(got.shape[0] - 3.3 * 22050 / 200) <= 2);
    }

    void runFeatureMapThroughTheCache() {
        QTemporaryDir ws;
        const std::string db = gafx::test::make_demo_workspace(ws.path(), 5, 4.0);
        int64_t run = 0;
        std::string key, path;
        {
            gafx::store::RunStore s(db);
            run = s.create_run(0, R"({"dataset": "tiny", "extractor": "mel", "classifier": "ast-tiny", "preset": "small",
                "track_seconds": 4, "clips_per_track": 2, "clip_seconds": 1.5, "epochs": 1, "batch_size": 8,
                "lr": 0.0005, "warmup_steps": 5, "lr_halving_epochs": [2], "precision": "fp32", "seed": 3})", 3);
            gafx::train::TrainOptions o;
            o.threads = 1;
            gafx::train::TrainControl control;
            QVERIFY(gafx::train::train_run(s, run, o, control).status == gafx::store::RunStatus::Finished);
            const auto ds = s.load_dataset("tiny");
            key = ds->catalog.tracks[0].key;
            path = ds->catalog.tracks[0].path;
        }
        const QString out = dir_.path() + QStringLiteral("/run.npy"), again = dir_.path() + QStringLiteral("/again.npy");
        const QString dbq = QString::fromStdString(db), runq = QString::number(run);
        auto r = run_gafx({QStringLiteral("features"), QString::fromStdString(key), QStringLiteral("--run"), runq,
                           QStringLiteral("--out"), out, QStringLiteral("--db"), dbq});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains(QStringLiteral("computed")) && r.out.contains(QStringLiteral("predicted: ")), qPrintable(r.out));
        // Two clips of 1.5 s of Kaldi frames (551-sample window, 220-sample shift at 22050 Hz).
        const int64_t frames = 1 + (int64_t(1.5 * 22050) - 551) / 220;
        const gafx::NpyArray map = gafx::read_npy_f32(out.toStdString());
        QCOMPARE(map.shape, (std::vector<int64_t>{2 * frames, 128}));
        const std::string features = gafx::store::run_paths(db, *gafx::store::RunStore(db).run(run)).dir + "/features";
        QVERIFY(std::filesystem::exists(features));

        // By the audio file's path: the same track, from the cache the first call left.
        r = run_gafx({QStringLiteral("features"), QString::fromStdString(path), QStringLiteral("--run"), runq,
                      QStringLiteral("--out"), again, QStringLiteral("--db"), dbq});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains(QStringLiteral("from the cache")), qPrintable(r.out));
        QCOMPARE(gafx::read_npy_f32(again.toStdString()).data, map.data);

        r = run_gafx({QStringLiteral("features"), QStringLiteral("nope.wav"), QStringLiteral("--run"), runq,
                      QStringLiteral("--out"), again, QStringLiteral("--db"), dbq});
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.contains(QStringLiteral("neither a track")), qPrintable(r.err));
        r = run_gafx({QStringLiteral("features"), QString::fromStdString(key), QStringLiteral("--run"), QStringLiteral("999"),
                      QStringLiteral("--out"), again, QStringLiteral("--db"), dbq});
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.contains(QStringLiteral("no run 999")), qPrintable(r.err));
        QCOMPARE(run_gafx({QStringLiteral("features"), QString::fromStdString(key), QStringLiteral("--run"), runq,
                           QStringLiteral("--extractor"), QStringLiteral("mel"), QStringLiteral("--out"), again,
                           QStringLiteral("--db"), dbq}).exit_code, 2);
        r = run_gafx({QStringLiteral("features"), QStringLiteral("--help")});
        QVERIFY(r.out.contains(QStringLiteral("--run ID")));
    }

    void badInputExplainsAndExits() {
        const QString out = dir_.path() + QStringLiteral("/x.npy");
        auto r = run_gafx({QStringLiteral("features"), data_path("fbank_22050.wav"), QStringLiteral("--extractor"),
                           QStringLiteral("nope"), QStringLiteral("--out"), out});
        QCOMPARE(r.exit_code, 1);
        QVERIFY(r.err.contains(QStringLiteral("gafx-u")));
        r = run_gafx({QStringLiteral("features"), dir_.path() + QStringLiteral("/missing.wav"),
                      QStringLiteral("--extractor"), QStringLiteral("mel"), QStringLiteral("--out"), out});
        QCOMPARE(r.exit_code, 1);
        QVERIFY(r.err.contains(QStringLiteral("missing.wav")));
        r = run_gafx({QStringLiteral("features"), data_path("fbank_22050.wav"), QStringLiteral("--extractor"),
                      QStringLiteral("gafx-r"), QStringLiteral("--weights"), data_path("weights_tiny.safetensors"),
                      QStringLiteral("--out"), out});
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.contains(QStringLiteral("weights_tiny.safetensors")) && r.err.contains(QStringLiteral("conv1")),
                 qPrintable(r.err));
        QCOMPARE(run_gafx({QStringLiteral("features"), data_path("fbank_22050.wav"), QStringLiteral("--extractor"),
                           QStringLiteral("mel")}).exit_code, 2);
        QVERIFY(!QFile::exists(out));
    }

    // `gafx bench train` says which kernels its step ran, activation checkpointing among them
    // (which also takes the blocked attention on a CPU).
    void benchTrainSaysWhichPathsItRan() {
        const QStringList base{QStringLiteral("bench"), QStringLiteral("train"), QStringLiteral("--extractor"),
                               QStringLiteral("gafx-r"), QStringLiteral("--preset"), QStringLiteral("small"),
                               QStringLiteral("--seconds"), QStringLiteral("0.5"), QStringLiteral("--steps"),
                               QStringLiteral("1"), QStringLiteral("--warmup"), QStringLiteral("0"),
                               QStringLiteral("--precision"), QStringLiteral("fp32"), QStringLiteral("--threads"),
                               QStringLiteral("1")};
        auto r = run_gafx(base + QStringList{QStringLiteral("--checkpointing"), QStringLiteral("--json")});
        QCOMPARE(r.exit_code, 0);
        const auto j = QJsonDocument::fromJson(r.out.toUtf8()).object();
        QCOMPARE(j[QStringLiteral("activation_checkpointing")].toBool(), true);
        const auto paths = j[QStringLiteral("paths")].toObject();
        QCOMPARE(paths[QStringLiteral("activation_checkpointing")].toString(), QStringLiteral("on"));
        QVERIFY(paths[QStringLiteral("attention")].toString().startsWith(QStringLiteral("blocked"))); // CPU
        QCOMPARE(paths[QStringLiteral("weight_casts")].toString(), QStringLiteral("none"));             // fp32
        QCOMPARE(paths[QStringLiteral("adam")].toString(), QStringLiteral("fused"));
        QCOMPARE(paths[QStringLiteral("input")].toString(), QStringLiteral("host memory, no copy"));
        QCOMPARE(paths[QStringLiteral("cudnn_autotune")].toString(), QStringLiteral("off (CPU)"));
        QCOMPARE(paths[QStringLiteral("cuda_graph")].toString(), QStringLiteral("off"));
        QVERIFY(paths[QStringLiteral("layer_norm")].toString().startsWith(QStringLiteral("at::layer_norm"))); // fp32
        QVERIFY(paths[QStringLiteral("softmax")].toString().startsWith(QStringLiteral("inside the blocked attention")));

        // Each run succeeds and says all of `lines` among its paths.
        const auto says = [](const QStringList& args, const QStringList& lines) {
            const auto run = run_gafx(args);
            QCOMPARE(run.exit_code, 0);
            for (const QString& line : lines) QVERIFY2(run.out.contains(line), qPrintable(line + "\n" + run.out));
        };
        says(base, {QStringLiteral("activation_checkpointing off"), QStringLiteral("attention unfused"),
                    QStringLiteral("softmax at::softmax in fp32")});
        says(base + QStringList{QStringLiteral("--unfused")}, {QStringLiteral("adam per tensor")});
        // bf16 with working copies: the blocks' LayerNorms write bf16 themselves; --unfused leaves
        // the cast to autocast, as before.
        QStringList bf16 = base;
        bf16[bf16.indexOf(QStringLiteral("fp32"))] = QStringLiteral("bf16");
        // The scores' softmax is models/softmax_rows where this CPU runs it, ATen's with --unfused.
        says(bf16, {QStringLiteral("layer_norm fp32 in, bf16 out"), QStringLiteral("weight_casts once per step"),
                    gafx::models::softmax_rows_available() ? QStringLiteral("softmax bf16 rows, AVX-512 exp")
                                                           : QStringLiteral("softmax at::_softmax in bf16")});
        says(bf16 + QStringList{QStringLiteral("--unfused")},
             {QStringLiteral("layer_norm at::layer_norm"), QStringLiteral("weight_casts autocast"),
              QStringLiteral("softmax at::_softmax in bf16")});

        // A CUDA graph on a CPU (or a libtorch without CUDA) is refused, saying why.
        r = run_gafx(base + QStringList{QStringLiteral("--cuda-graph")});
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.contains(QStringLiteral("--cuda-graph: ")), qPrintable(r.err));
    }

    // --ops N: the N operators with the most self time per timed step, by operator and input
    // layout, largest first; in the JSON and as lines after the paths.
    void benchTrainListsItsOperators() {
        const QStringList base{QStringLiteral("bench"), QStringLiteral("train"), QStringLiteral("--extractor"),
                               QStringLiteral("none"), QStringLiteral("--frames"), QStringLiteral("64"),
                               QStringLiteral("--preset"), QStringLiteral("small"), QStringLiteral("--steps"),
                               QStringLiteral("2"), QStringLiteral("--warmup"), QStringLiteral("1"),
                               QStringLiteral("--precision"), QStringLiteral("fp32"), QStringLiteral("--threads"),
                               QStringLiteral("1"), QStringLiteral("--ops")};
        auto r = run_gafx(base + QStringList{QStringLiteral("4"), QStringLiteral("--json")});
        QCOMPARE(r.exit_code, 0);
        const auto ops = QJsonDocument::fromJson(r.out.toUtf8()).object()[QStringLiteral("ops")].toArray();
        QCOMPARE(ops.size(), 4);
        double last = 1e9, pct = 0;
        for (const auto& v : ops) {
            const auto o = v.toObject();
            QVERIFY(!o[QStringLiteral("op")].toString().isEmpty());
            QVERIFY(o[QStringLiteral("calls_per_step")].toDouble() > 0);
            const double self = o[QStringLiteral("self_ms_per_step")].toDouble();
            QVERIFY(self > 0 && self <= last);
            QVERIFY(o[QStringLiteral("total_ms_per_step")].toDouble() >= self);
            last = self;
            pct += o[QStringLiteral("self_pct")].toDouble();
        }
        QVERIFY(pct > 0 && pct <= 100.0 + 1e-6);
        r = run_gafx(base + QStringList{QStringLiteral("2")});
        QCOMPARE(r.exit_code, 0);
        QVERIFY2(r.out.contains(QStringLiteral("ops: self time per step over the 2 timed steps")), qPrintable(r.out));
        QVERIFY2(r.out.contains(QStringLiteral("top 2 of ")), qPrintable(r.out));
        r = run_gafx(base + QStringList{QStringLiteral("0")});
        QCOMPARE(r.exit_code, 2);
        QVERIFY2(r.err.contains(QStringLiteral("--ops")), qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(TestCliModels)
#include "test_cli_models.moc"
