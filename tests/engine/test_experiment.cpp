// Experiment files: grid expansion and validation errors that name the JSON path.
#include "core/error.h"
#include "experiments/experiment.h"
#include "test_support.h"

#include <QtTest>

using namespace gafx;
using experiments::parse_experiment;

namespace {
QString error_for(const std::string& json, std::function<bool(const std::string&)> exists = {}) {
    return test::error_of([&] { parse_experiment(json, "ex.json", exists); });
}
} // namespace

class TestExperiment : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void gridExpandsInFileOrder() {
        const auto ex = parse_experiment(R"({"name": "t3", "base": {"dataset": "gtzan", "extractor": "mel"},
            "grid": {"classifier": ["ast-tiny", "ast-small"], "seed": [0, 1, 2]}})", "ex.json");
        QCOMPARE(ex.runs.size(), size_t(6));
        QCOMPARE(ex.axes, (std::vector<std::string>{"classifier", "seed"}));
        QCOMPARE(ex.runs[0].classifier, std::string("ast-tiny"));
        QCOMPARE(ex.runs[2].seed, uint64_t(2));
        QCOMPARE(ex.runs[3].classifier, std::string("ast-small"));
        QCOMPARE(ex.runs[3].seed, uint64_t(0));
        for (const auto& r : ex.runs) QCOMPARE(r.extractor, std::string("mel"));
        QCOMPARE(QString::fromStdString(experiments::describe(ex.runs[4], ex.axes)),
                 QStringLiteral("classifier=ast-small seed=1"));
    }

    void paperDefaults() {
        const auto ex = parse_experiment(R"({"name": "d", "base": {"dataset": "g"}})", "ex.json");
        const auto& r = ex.runs.at(0);
        QCOMPARE(r.lr, 5e-5);
        QCOMPARE(r.batch_size, int64_t(4));
        QCOMPARE(r.epochs, 80);
        QCOMPARE(r.warmup_steps, int64_t(800));
        QCOMPARE(r.lr_halving_epochs, (std::vector<int>{12, 24, 50, 65}));
        QCOMPARE(r.clips_per_track, 3);
    }

    void configRoundTrips() {
        const auto ex = parse_experiment(R"({"name": "d", "base": {"dataset": "g", "lr": 0.0005, "augmentation": false,
            "pretraining": "weights", "pretrained_weights": "/w/deit.safetensors"}})", "ex.json");
        const auto back = experiments::parse_run_config(experiments::to_json(ex.runs[0]));
        QCOMPARE(experiments::to_json(back), experiments::to_json(ex.runs[0]));
        QCOMPARE(back.lr, 5e-4);
        QVERIFY(!back.augmentation);
    }

    void errorsNameThePathAndAllowedValues() {
        QString e = error_for(R"({"name": "x", "base": {"dataset": "g", "lr_rate": 1}})");
        QVERIFY2(e.contains(QStringLiteral("ex.json")) && e.contains(QStringLiteral("$.base.lr_rate")) &&
                     e.contains(QStringLiteral("unknown key")),
                 qPrintable(e));
        e = error_for(R"({"name": "x", "base": {"dataset": "g", "lr": "fast"}})");
        QVERIFY2(e.contains(QStringLiteral("$.base.lr")) && e.contains(QStringLiteral("expected a number")), qPrintable(e));
        e = error_for(R"({"name": "x", "base": {"dataset": "g"}, "grid": {"extractor": ["gafx-r", "gafx-z"]}})");
        QVERIFY2(e.contains(QStringLiteral("$.grid.extractor[1]")) && e.contains(QStringLiteral("gafx-u")), qPrintable(e));
        e = error_for(R"({"name": "x", "base": {"dataset": "g"}, "grid": {"seed": []}})");
        QVERIFY2(e.contains(QStringLiteral("$.grid.seed")), qPrintable(e));
        e = error_for(R"({"name": "x", "base": {"dataset": "g", "clips_per_track": 4}})");
        QVERIFY2(e.contains(QStringLiteral("do not fit")), qPrintable(e));
        e = error_for(R"({"name": "x", "base": {"dataset": "g", "pretraining": "weights"}})");
        QVERIFY2(e.contains(QStringLiteral("pretrained_weights")), qPrintable(e));
        e = error_for(R"({"name": "x", "base": {}})");
        QVERIFY2(e.contains(QStringLiteral("$ (run 1 of 1).dataset")), qPrintable(e));
        e = error_for(R"({"name": "x", "base": {"dataset": "gtzan"}})", [](const std::string&) { return false; });
        QVERIFY2(e.contains(QStringLiteral("no imported dataset named 'gtzan'")), qPrintable(e));
        e = error_for(R"({"name": "x", "base": )");
        QVERIFY2(e.contains(QStringLiteral("not valid JSON")) && e.contains(QStringLiteral("ex.json")), qPrintable(e));
        e = error_for(R"({"base": {"dataset": "g"}})");
        QVERIFY2(e.contains(QStringLiteral("$.name")), qPrintable(e));
    }
};

QTEST_GUILESS_MAIN(TestExperiment)
#include "test_experiment.moc"
