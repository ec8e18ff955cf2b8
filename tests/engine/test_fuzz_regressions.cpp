// Every input under tests/data/fuzz/<target>/ (hostile files from issue reports and whatever the
// fuzzers found, tests/fuzz) goes through the same feed its fuzzer uses, in every build: a
// parser may reject an input only with gafx::Error, so any other exception, a crash or a huge
// allocation fails here as it did there.
#include "fuzz_inputs.h"

#include "data/waveform_cache.h"

#include <QtTest>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace fs = std::filesystem;

class TestFuzzRegressions : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void everyTargetHasInputs_data() {
        QTest::addColumn<QString>("target");
        for (const auto& t : gafx::fuzz::targets()) QTest::newRow(t.name) << QString::fromLatin1(t.name);
    }

    void everyTargetHasInputs() {
        QFETCH(QString, target);
        const fs::path dir = fs::path(GAFX_TEST_DATA_DIR) / "fuzz" / target.toStdString();
        QVERIFY2(fs::is_directory(dir), dir.c_str());
        const auto* t = gafx::fuzz::find_target(target.toStdString());
        QVERIFY(t);
        int fed = 0;
        for (const auto& entry : fs::directory_iterator(dir)) {
            if (!entry.is_regular_file()) continue;
            std::ifstream in(entry.path(), std::ios::binary);
            const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            try {
                t->feed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
            } catch (const std::exception& e) {
                QFAIL(qPrintable(QStringLiteral("%1: %2").arg(QString::fromStdString(entry.path().string()),
                                                              QString::fromLocal8Bit(e.what()))));
            }
            ++fed;
        }
        QVERIFY2(fed > 0, dir.c_str());
    }

    // A feature entry is read only when whole: the valid seed is, every hostile one is a miss.
    void featureEntriesReadOnlyWhenWhole() {
        const fs::path dir = fs::path(GAFX_TEST_DATA_DIR) / "fuzz" / "feature_cache";
        int valid = 0;
        for (const auto& entry : fs::directory_iterator(dir)) {
            gafx::data::WaveformCache::Features m;
            const bool read =
                gafx::data::WaveformCache::read_feature_entry(entry.path().string(), gafx::fuzz::kFeatureFuzzKey, m);
            const bool want = entry.path().filename().string().rfind("valid", 0) == 0;
            QVERIFY2(read == want, entry.path().c_str());
            if (read) {
                QCOMPARE(m.cols, int64_t(128));
                ++valid;
            }
        }
        QCOMPARE(valid, 1);
    }

    void unknownTargetsAreNotFound() { QVERIFY(!gafx::fuzz::find_target("nothing")); }
};

QTEST_GUILESS_MAIN(TestFuzzRegressions)
#include "test_fuzz_regressions.moc"
