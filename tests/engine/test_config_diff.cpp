// Two runs' settings side by side (experiments/config_diff.h): defaults filled in, the split,
// device, precision and versions, and a config that no longer parses.
#include "experiments/config_diff.h"
#include "experiments/experiment.h"

#include <QtTest>

#include <map>

using namespace gafx;

namespace {

store::RunRecord record(const std::string& config, int64_t split, const std::string& versions) {
    store::RunRecord r;
    r.config = config;
    r.split_id = split;
    r.device = "cpu";
    r.precision = "fp32";
    r.versions = versions;
    return r;
}

std::map<std::string, experiments::SettingPair> by_key(const std::vector<experiments::SettingPair>& rows) {
    std::map<std::string, experiments::SettingPair> out;
    for (const auto& r : rows) out[r.key] = r;
    return out;
}

} // namespace

class TestConfigDiff : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void differencesWithDefaultsFilledIn() {
        // b's file left lr out: its default (the paper's 5e-5) is what it trained with.
        const auto a = record(R"({"dataset": "gtzan", "extractor": "gafx-u", "lr": 0.0005, "seed": 1})", 3,
                              R"({"gafx": "0.1.0", "libtorch": "1.13.1"})");
        const auto b = record(R"({"dataset": "gtzan", "extractor": "gafx-r", "seed": 1})", 4,
                              R"({"gafx": "0.1.0", "libtorch": "2.1.0", "blas": "openblas"})");
        const auto rows = experiments::compare_settings(a, b);
        const auto k = by_key(rows);
        QCOMPARE(rows.front().key, std::string("dataset")); // config keys first, in RunConfig's order
        QVERIFY(!k.at("dataset").differs);
        QVERIFY(k.at("extractor").differs);
        QCOMPARE(k.at("extractor").b, std::string("gafx-r"));
        QVERIFY(k.at("lr").differs);
        QCOMPARE(k.at("lr").a, std::string("0.0005"));
        QCOMPARE(k.at("lr").b, std::string("5e-05"));
        QVERIFY(!k.at("seed").differs);
        QVERIFY(k.at("split_id").differs);
        QVERIFY(!k.at("device").differs && !k.at("precision").differs);
        QVERIFY(k.at("versions.libtorch").differs);
        QVERIFY(!k.at("versions.gafx").differs);
        QCOMPARE(k.at("versions.blas").a, std::string()); // only b recorded it
        QCOMPARE(k.at("versions.blas").b, std::string("openblas"));
        int differing = 0;
        for (const auto& r : rows) differing += r.differs;
        QCOMPARE(differing, 5); // extractor, lr, split_id, versions.libtorch, versions.blas
    }

    void aConfigThatNoLongerParsesIsOneRow() {
        const auto a = record("{not json", 0, "{}");
        const auto b = record(R"({"dataset": "gtzan"})", 0, "{}");
        const auto k = by_key(experiments::compare_settings(a, b));
        QVERIFY(k.count("config") && k.at("config").differs);
        QCOMPARE(k.at("config").a, std::string("{not json"));
        QVERIFY(!k.count("lr"));
    }
};

QTEST_GUILESS_MAIN(TestConfigDiff)
#include "test_config_diff.moc"
