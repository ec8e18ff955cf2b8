// gafx weights list|fetch|add and runs that name weights, as a user runs them: the weights
// folder under XDG_DATA_HOME, downloads from a local HTTP server (never the internet), a paper
// file whose weights are missing stopping `gafx train` before anything is queued, and an added
// copy loading into a run.
#include "weights/sha256.h"
#include "http_server.h"
#include "test_support.h"

#include <QCryptographicHash>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

using namespace gafx;
using test::run_gafx;

class TestCliWeights : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QProcessEnvironment env_;

    test::CliResult gafx(const QStringList& args, int timeout_ms = 300000) { return run_gafx(args, timeout_ms, env_); }

private Q_SLOTS:
    void initTestCase() {
        if (!weights::can_fetch()) QSKIP("built without libcurl/OpenSSL (scripts/setup.sh installs them)");
        env_ = QProcessEnvironment::systemEnvironment();
        env_.insert(QStringLiteral("XDG_DATA_HOME"), dir_.path() + "/data");
        env_.insert(QStringLiteral("XDG_CACHE_HOME"), dir_.path() + "/cache");
    }

    void listShowsWhatEachFileIsFor() {
        const auto r = gafx({QStringLiteral("weights"), QStringLiteral("list"), QStringLiteral("--json")});
        QCOMPARE(r.exit_code, 0);
        const QJsonArray list = QJsonDocument::fromJson(r.out.toUtf8()).array();
        QCOMPARE(list.size(), 3);
        const QJsonObject small = list[1].toObject();
        QCOMPARE(small[QStringLiteral("name")].toString(), QStringLiteral("deit-small"));
        QCOMPARE(small[QStringLiteral("role")].toString(), QStringLiteral("classifier"));
        QCOMPARE(small[QStringLiteral("fits")].toArray()[0].toString(), QStringLiteral("ast-small"));
        QCOMPARE(small[QStringLiteral("size")].toInteger(), 89795170);
        QCOMPARE(small[QStringLiteral("licence")].toString(), QStringLiteral("Apache-2.0"));
        QVERIFY(!small[QStringLiteral("present")].toBool());
        QVERIFY(small[QStringLiteral("path")].toString().startsWith(dir_.path() + "/data/gafx/weights/"));
        const auto text = gafx({QStringLiteral("weights"), QStringLiteral("list")});
        QVERIFY2(text.out.contains(QStringLiteral("https://download.pytorch.org/torchaudio/models/hdemucs_high_trained.pt")),
                 qPrintable(text.out));
    }

    void fetchRefusesAFileThatIsNotThePublishedOne() {
        test::HttpServer server;
        const QByteArray bytes(100000, 'w');
        server.serve("deit_small_distilled_patch16_224-649709d9.pth", bytes.toStdString());
        const auto r = gafx({QStringLiteral("weights"), QStringLiteral("fetch"), QStringLiteral("deit-small"),
                             QStringLiteral("--mirror"), QString::fromStdString(server.url())});
        QCOMPARE(r.exit_code, 1);
        // The size is checked first: this file is far too short, and is kept to resume.
        QVERIFY2(r.err.contains(QStringLiteral("stopped at 100000 of 89795170 bytes")), qPrintable(r.err));

        // A file of the published size but other bytes: both hashes named, nothing kept.
        test::HttpServer exact;
        const QByteArray same_size(89795170, 'x');
        exact.serve("deit_small_distilled_patch16_224-649709d9.pth", same_size.toStdString());
        QFile::remove(dir_.path() + "/data/gafx/weights/deit_small_distilled_patch16_224-649709d9.pth.part");
        const auto m = gafx({QStringLiteral("weights"), QStringLiteral("fetch"), QStringLiteral("deit-small"),
                             QStringLiteral("--mirror"), QString::fromStdString(exact.url())});
        QCOMPARE(m.exit_code, 1);
        const QString found = QString::fromLatin1(QCryptographicHash::hash(same_size, QCryptographicHash::Sha256).toHex());
        QVERIFY2(m.err.contains(QStringLiteral("expected 649709d94f9fd790ea86c16f99d788e709b86a1f64315a19d887895f9948fb09")),
                 qPrintable(m.err));
        QVERIFY2(m.err.contains(QStringLiteral("found ") + found), qPrintable(m.err));
        QVERIFY(!QFile::exists(dir_.path() + "/data/gafx/weights/deit_small_distilled_patch16_224-649709d9.pth"));
        QVERIFY(!QFile::exists(dir_.path() + "/data/gafx/weights/deit_small_distilled_patch16_224-649709d9.pth.part"));

        QCOMPARE(gafx({QStringLiteral("weights"), QStringLiteral("fetch"), QStringLiteral("nope")}).exit_code, 2);
    }

    void missingWeightsStopTrainBeforeAnythingIsQueued() {
        const QString db = QString::fromStdString(test::make_demo_workspace(dir_.path() + "/paper", 2, 2.0, "gtzan"));
        const auto r = gafx({QStringLiteral("train"), QStringLiteral(GAFX_SOURCE_DIR "/experiments/paper/table7.json"),
                             QStringLiteral("--db"), db});
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.contains(QStringLiteral("gafx weights fetch deit-tiny")), qPrintable(r.err));
        const auto runs = gafx({QStringLiteral("runs"), QStringLiteral("--json"), QStringLiteral("--db"), db});
        QCOMPARE(QJsonDocument::fromJson(runs.out.toUtf8()).array().size(), 0);
        // --dry-run says the same without a workspace.
        const auto dry = gafx({QStringLiteral("train"), QStringLiteral(GAFX_SOURCE_DIR "/experiments/paper/table7.json"),
                               QStringLiteral("--dry-run")});
        QCOMPARE(dry.exit_code, 0);
        QVERIFY2(dry.out.contains(QStringLiteral("weights missing")) && dry.out.contains(QStringLiteral("gafx weights fetch")),
                 qPrintable(dry.out));
    }

    void anAddedCopyLoadsIntoTheRun() {
        const QString file = dir_.path() + "/institute/ast_tiny.safetensors";
        QDir().mkpath(dir_.path() + "/institute");
        test::write_classifier_weights(file, "ast-tiny");
        auto r = gafx({QStringLiteral("weights"), QStringLiteral("add"), file, QStringLiteral("--name"), QStringLiteral("lab-tiny")});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains(QStringLiteral("classifier weights for ast-tiny")), qPrintable(r.out));

        const QString db = QString::fromStdString(test::make_demo_workspace(dir_.path() + "/run", 3, 3.0, "tiny"));
        const QString exp = dir_.path() + "/with_weights.json";
        test::write_bytes(exp, R"({"name": "with-weights", "base": {"dataset": "tiny", "extractor": "mel",
          "classifier": "ast-tiny", "classifier_weights": "lab-tiny", "preset": "small", "track_seconds": 3,
          "clips_per_track": 2, "clip_seconds": 1.5, "epochs": 1, "batch_size": 8, "lr": 0.0005, "warmup_steps": 2,
          "precision": "fp32", "seed": 0}})");
        r = gafx({QStringLiteral("train"), exp, QStringLiteral("--db"), db, QStringLiteral("--cache"), QStringLiteral("none")},
                 600000);
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        QVERIFY2(r.err.contains(QStringLiteral("classifier weights (gafx) from ")) &&
                     r.err.contains(QStringLiteral("lab-tiny.safetensors")),
                 qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(TestCliWeights)
#include "test_cli_weights.moc"
