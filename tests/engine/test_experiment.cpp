// Experiment files: grid expansion, and validation errors that carry the JSON path and the form
// key as fields (what() still reads "<file>: <json_path>: <reason> (<fix>)").
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

// The gafx::Error parse_experiment throws for `json`; a default one when it throws nothing.
Error caught(const std::string& json, std::function<bool(const std::string&)> exists = {}) {
    try {
        parse_experiment(json, "ex.json", exists);
    } catch (const Error& e) {
        return e;
    }
    return Error("(nothing thrown)", "(nothing thrown)");
}

// Compares the error's file, field and reason; the reason must not repeat the path.
#define CHECK_FIELD(e, json_path_, key_, reason_start_)                                                \
    do {                                                                                               \
        const Error& err_ = (e);                                                                       \
        QCOMPARE(QString::fromStdString(err_.path()), QStringLiteral("ex.json"));                      \
        QCOMPARE(QString::fromStdString(err_.field().json_path), QStringLiteral(json_path_));          \
        QCOMPARE(QString::fromStdString(err_.field().key), QStringLiteral(key_));                      \
        QVERIFY2(QString::fromStdString(err_.reason()).startsWith(QStringLiteral(reason_start_)),      \
                 err_.reason().c_str());                                                               \
        QVERIFY2(!QString::fromStdString(err_.reason()).contains(QLatin1Char('$')), err_.reason().c_str()); \
    } while (false)
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
        // A number past double's range is nlohmann's out_of_range, not a parse_error (found by
        // fuzz_experiment; tests/data/fuzz/experiment/number-past-double).
        e = error_for(R"({"name": "x", "base": {"dataset": "demo", "saed": 1e310}})");
        QVERIFY2(e.contains(QStringLiteral("not valid JSON")) && e.contains(QStringLiteral("number overflow")), qPrintable(e));
    }

    void errorsCarryTheirField() {
        // Type error.
        Error e = caught(R"({"name": "x", "base": {"dataset": "g", "lr": "fast"}})");
        CHECK_FIELD(e, "$.base.lr", "lr", "expected a number, got string");
        QCOMPARE(QString::fromUtf8(e.what()),
                 QStringLiteral("ex.json: $.base.lr: expected a number, got string (see docs/experiments.md)"));
        // Range error, in a grid value.
        CHECK_FIELD(caught(R"({"name": "x", "base": {"dataset": "g"}, "grid": {"seed": [0, -1]}})"), "$.grid.seed[1]",
                    "seed", "must be at least 0");
        CHECK_FIELD(caught(R"({"name": "x", "base": {"dataset": "g", "lr_halving_epochs": [3, 0]}})"),
                    "$.base.lr_halving_epochs[1]", "lr_halving_epochs", "must be at least 1");
        // Unknown key, in base and as a grid axis.
        CHECK_FIELD(caught(R"({"name": "x", "base": {"dataset": "g", "lr_rate": 1}})"), "$.base.lr_rate", "lr_rate",
                    "unknown key (allowed: dataset, ");
        CHECK_FIELD(caught(R"({"name": "x", "base": {"dataset": "g"}, "grid": {"speed": [1]}})"), "$.grid.speed",
                    "speed", "unknown key");
        // Empty grid list and an empty (null) field: worded for a form.
        e = caught(R"({"name": "x", "base": {"dataset": "g"}, "grid": {"seed": []}})");
        CHECK_FIELD(e, "$.grid.seed", "seed", "choose at least one value");
        QCOMPARE(QString::fromStdString(e.reason()), QStringLiteral("choose at least one value"));
        e = caught(R"({"name": "x", "base": {"dataset": "g", "epochs": null}})");
        CHECK_FIELD(e, "$.base.epochs", "epochs", "the field is empty");
        QCOMPARE(QString::fromStdString(e.reason()), QStringLiteral("the field is empty"));
        // Clips that do not fit: the run, and the track length as the field to change.
        e = caught(R"({"name": "x", "base": {"dataset": "g"}, "grid": {"clips_per_track": [3, 4]}})");
        CHECK_FIELD(e, "$ (run 2 of 2)", "track_seconds", "4 clips of 10.0 s do not fit in track_seconds 30.0");
        QCOMPARE(QString::fromUtf8(e.what()), QStringLiteral("ex.json: $ (run 2 of 2): 4 clips of 10.0 s do not fit in "
                                                             "track_seconds 30.0 (see docs/experiments.md)"));
        // Unknown dataset: from base, and from a grid axis (then the run says which).
        e = caught(R"({"name": "x", "base": {"dataset": "gtzan"}})", [](const std::string&) { return false; });
        CHECK_FIELD(e, "$.base.dataset", "dataset", "no imported dataset named 'gtzan'");
        QCOMPARE(QString::fromStdString(e.reason()), QStringLiteral("no imported dataset named 'gtzan'"));
        e = caught(R"({"name": "x", "base": {}, "grid": {"dataset": ["a", "b"]}})",
                   [](const std::string& name) { return name == "a"; });
        CHECK_FIELD(e, "$ (run 2 of 2).dataset", "dataset", "no imported dataset named 'b'");
        // Rules across fields name the field to fill in.
        CHECK_FIELD(caught(R"({"name": "x", "base": {"dataset": "g", "pretraining": "run"}})"),
                    "$ (run 1 of 1).pretrained_run", "pretrained_run", "missing: pretraining \"run\"");
        CHECK_FIELD(caught(R"({"name": "x", "base": {"dataset": "g", "pretraining": "weights"}})"),
                    "$ (run 1 of 1).pretrained_weights", "pretrained_weights", "missing: pretraining \"weights\"");
        CHECK_FIELD(caught(R"({"base": {"dataset": "g"}})"), "$.name", "name", "missing");
        // Not JSON at all: no field.
        e = caught(R"({"name": )");
        QCOMPARE(QString::fromStdString(e.field().json_path), QString());
        QCOMPARE(QString::fromStdString(e.field().key), QString());
    }

    void checkExperimentValidatesAnExperimentMadeInCode() {
        auto ex = parse_experiment(R"({"name": "x", "base": {"dataset": "g"}, "grid": {"seed": [0, 1]}})", "ex.json");
        experiments::check_experiment(ex);
        ex.runs[1].clip_seconds = 20;
        try {
            experiments::check_experiment(ex);
            QFAIL("no error");
        } catch (const Error& e) {
            QCOMPARE(QString::fromStdString(e.field().json_path), QStringLiteral("$ (run 2 of 2)"));
            QCOMPARE(QString::fromStdString(e.field().key), QStringLiteral("track_seconds"));
        }
        ex.runs.clear();
        QVERIFY(!test::error_of([&] { experiments::check_experiment(ex); }).isEmpty());
    }

    void aGridTooBigIsRefusedBeforeItIsExpanded() {
        std::string values;
        for (int i = 0; i < 100; ++i) values += (i ? "," : "") + std::to_string(i);
        const std::string text = R"({"name": "huge", "base": {"dataset": "d"}, "grid": {"seed": [)" + values +
                                 R"(], "epochs": [)" + values.substr(2) + R"(], "batch_size": [)" + values.substr(2) +
                                 R"(], "warmup_steps": [)" + values + R"(], "clips_per_track": [)" + values.substr(2) + "]}}";
        try {
            experiments::parse_experiment(text, "huge.json");
            QFAIL("no error");
        } catch (const Error& e) {
            QCOMPARE(e.field().json_path, std::string("$.grid"));
            QVERIFY2(QString::fromStdString(e.reason()).contains(QStringLiteral("more than 10000 runs (seed 100 x epochs 99")),
                     e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestExperiment)
#include "test_experiment.moc"
