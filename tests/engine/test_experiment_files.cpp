// Every experiment file shipped under experiments/ parses, and the paper's files fill exactly
// the rows of the paper's tables (3 seeds each) that the report picks by factors.
#include "experiments/experiment.h"
#include "experiments/report.h"

#include <QDirIterator>
#include <QFile>
#include <QtTest>

#include <nlohmann/json.hpp>

using namespace gafx;

namespace {

QString source_path(const char* rel) { return QStringLiteral(GAFX_SOURCE_DIR "/") + QLatin1String(rel); }

experiments::Experiment read(const char* rel) { return experiments::read_experiment(source_path(rel).toStdString()); }

} // namespace

class TestExperimentFiles : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void everyFileParses() {
        QDirIterator it(source_path("experiments"), {QStringLiteral("*.json")}, QDir::Files,
                        QDirIterator::Subdirectories);
        int files = 0;
        while (it.hasNext()) {
            const QString path = it.next();
            try {
                const auto ex = experiments::read_experiment(path.toStdString());
                QVERIFY2(!ex.runs.empty(), qPrintable(path));
            } catch (const std::exception& e) {
                QFAIL(qPrintable(path + QStringLiteral(": ") + QString::fromUtf8(e.what())));
            }
            ++files;
        }
        QVERIFY2(files >= 6, qPrintable(QString::number(files)));
    }

    void paperFilesFillTheirTables() {
        // Table 4's file holds both arms: the w/ one names its pretraining by experiment and seed.
        const auto t4 = read("experiments/paper/table4.json");
        QCOMPARE(t4.runs.size(), size_t(6));
        QCOMPARE(t4.required_files, std::vector<std::string>{"audioset_pretrain.json"});
        QCOMPARE(t4.runs.back().pretrained_experiment, read("experiments/paper/audioset_pretrain.json").name);
        // The paper's starting points: ImageNet DeiT for every AST, trained Hybrid Demucs for GAFX-U.
        for (const char* name : {"table3", "table4", "table5", "table6", "table7", "audioset_pretrain"})
            for (const auto& c : read((std::string("experiments/paper/") + name + ".json").c_str()).runs) {
                QCOMPARE(c.classifier_weights, std::string("deit"));
                QCOMPARE(c.extractor_weights, std::string(c.extractor == "gafx-u" ? "hdemucs-high" : ""));
            }

        std::vector<store::RunRecord> runs;
        auto add = [&](const experiments::Experiment& ex) {
            for (const auto& c : ex.runs) {
                store::RunRecord r;
                r.id = int64_t(runs.size()) + 1;
                r.config = experiments::to_json(c);
                r.status = store::RunStatus::Finished;
                r.test_track_accuracy = r.test_accuracy = 0.5;
                runs.push_back(r);
            }
        };
        for (const char* name : {"table3", "table4", "table5", "table6", "table7", "audioset_pretrain"})
            add(read((std::string("experiments/paper/") + name + ".json").c_str()));
        QCOMPARE(read("experiments/paper/audioset_pretrain.json").runs.at(0).dataset, std::string("audioset"));

        experiments::ReportOptions o;
        o.pretraining_datasets = {"audioset"};
        for (int t = 3; t <= 7; ++t) {
            const auto rep = experiments::paper_table(t, runs, o);
            for (const auto& row : rep.rows) {
                const QString what = QStringLiteral("table %1, %2").arg(t).arg(QString::fromStdString(row.label));
                if (row.paper_only) continue;
                QVERIFY2(row.n == 3, qPrintable(what + QStringLiteral(": n = %1").arg(row.n)));
                QVERIFY2(row.mixed.empty(), qPrintable(what + QStringLiteral(": runs differ in ") +
                                                       QString::fromStdString(row.mixed.empty() ? "" : row.mixed[0])));
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestExperimentFiles)
#include "test_experiment_files.moc"
