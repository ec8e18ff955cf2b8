// `gafx embed` through the built binary on a run trained here: the .npy reads back with one row
// per line of the tracks CSV, --subset/--kind/--csv/--project do what they say, and an unknown
// run, a run without weights or a bad option fail with a message and the documented exit code.
#include "core/npy.h"
#include "data/csv.h"
#include "store/run_store.h"
#include "test_support.h"
#include "train/trainer.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using gafx::test::run_gafx;
using namespace gafx;

namespace {

const std::string kConfig = R"({"dataset": "tiny", "extractor": "mel", "classifier": "ast-tiny", "preset": "small",
    "track_seconds": 4, "clips_per_track": 2, "clip_seconds": 1.5, "epochs": 1, "batch_size": 8, "lr": 0.0005,
    "warmup_steps": 5, "lr_halving_epochs": [2], "precision": "fp32", "seed": 3})";

QStringList header(const std::vector<data::CsvRow>& rows) {
    QStringList out;
    for (const auto& f : rows.at(0).fields) out << QString::fromStdString(f);
    return out;
}

} // namespace

class TestCliEmbed : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString db_, run_;
    int64_t tracks_ = 0, test_tracks_ = 0;

    QString path(const char* name) const { return dir_.path() + QLatin1Char('/') + QLatin1String(name); }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        const std::string db = test::make_demo_workspace(dir_.path(), 5, 4.0);
        db_ = QString::fromStdString(db);
        store::RunStore s(db);
        const int64_t id = s.create_run(0, kConfig, 3);
        train::TrainOptions o;
        o.threads = 1;
        train::TrainControl control;
        const auto r = train::train_run(s, id, o, control);
        QVERIFY2(r.status == store::RunStatus::Finished, r.message.c_str());
        run_ = QString::number(id);
        const auto ds = s.load_dataset("tiny");
        test_tracks_ = ds->split.count(data::Subset::Test);
        tracks_ = ds->split.count(data::Subset::Train) + ds->split.count(data::Subset::Val) + test_tracks_;
    }

    void writesTheMatrixAndOneCsvLinePerRow() {
        const auto r = run_gafx({QStringLiteral("embed"), run_, QStringLiteral("--out"), path("emb.npy"),
                                 QStringLiteral("--db"), db_});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        QVERIFY(r.out.contains(QStringLiteral("pooled")));
        const NpyArray a = read_npy_f32(path("emb.npy").toStdString());
        QCOMPARE(a.shape, (std::vector<int64_t>{tracks_, 192}));
        for (float v : a.data) QVERIFY(std::isfinite(v));
        const auto rows = data::read_csv(path("emb.tracks.csv").toStdString());
        QCOMPARE(int64_t(rows.size()), tracks_ + 1);
        QCOMPARE(header(rows), (QStringList{QStringLiteral("row"), QStringLiteral("run"), QStringLiteral("track_id"),
                                            QStringLiteral("track"), QStringLiteral("true_class"),
                                            QStringLiteral("predicted_class"), QStringLiteral("subset")}));
        for (size_t i = 1; i < rows.size(); ++i) {
            const auto& f = rows[i].fields;
            QCOMPARE(f.size(), size_t(7));
            QCOMPARE(f[0], std::to_string(i - 1));
            QCOMPARE(QString::fromStdString(f[1]), run_);
            QVERIFY(std::stoll(f[2]) > 0);
            // Demo keys are genre/file; the true class is the genre.
            QCOMPARE(f[3].substr(0, f[3].find('/')), f[4]);
            QVERIFY(!f[5].empty());
            QVERIFY(f[6] == "train" || f[6] == "val" || f[6] == "test");
        }
    }

    void subsetKindCsvAndLayouts() {
        auto r = run_gafx({QStringLiteral("embed"), run_, QStringLiteral("--out"), path("test.npy"),
                           QStringLiteral("--kind"), QStringLiteral("features"), QStringLiteral("--subset"),
                           QStringLiteral("test"), QStringLiteral("--csv"), path("tracks.csv"),
                           QStringLiteral("--project"), QStringLiteral("pca"), QStringLiteral("--out2d"),
                           path("pca.csv"), QStringLiteral("--db"), db_});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        QCOMPARE(read_npy_f32(path("test.npy").toStdString()).shape, (std::vector<int64_t>{test_tracks_, 128}));
        QVERIFY(!QFile::exists(path("test.tracks.csv")));
        const auto tracks = data::read_csv(path("tracks.csv").toStdString());
        QCOMPARE(int64_t(tracks.size()), test_tracks_ + 1);
        for (size_t i = 1; i < tracks.size(); ++i) QCOMPARE(tracks[i].fields.at(6), std::string("test"));
        const auto pca = data::read_csv(path("pca.csv").toStdString());
        QCOMPARE(int64_t(pca.size()), test_tracks_ + 1);
        QCOMPARE(header(pca).mid(4, 2), (QStringList{QStringLiteral("x"), QStringLiteral("y")}));
        QCOMPARE(pca[1].fields.at(2), tracks[1].fields.at(2)); // the same row order
        QVERIFY(r.out.contains(QStringLiteral("of the variance")));

        r = run_gafx({QStringLiteral("embed"), run_, QStringLiteral("--out"), path("all.npy"), QStringLiteral("--project"),
                      QStringLiteral("tsne"), QStringLiteral("--iterations"), QStringLiteral("300"),
                      QStringLiteral("--out2d"), path("tsne.csv"), QStringLiteral("--db"), db_});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        const auto tsne = data::read_csv(path("tsne.csv").toStdString());
        QCOMPARE(int64_t(tsne.size()), tracks_ + 1);
        for (size_t i = 1; i < tsne.size(); ++i)
            QVERIFY(std::isfinite(std::stod(tsne[i].fields.at(4))) && std::isfinite(std::stod(tsne[i].fields.at(5))));
        QVERIFY(r.out.contains(QStringLiteral("tsne: perplexity")));
    }

    void failuresSayWhy() {
        auto r = run_gafx({QStringLiteral("embed"), QStringLiteral("999"), QStringLiteral("--out"), path("x.npy"),
                           QStringLiteral("--db"), db_});
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.contains(QStringLiteral("no run 999")), qPrintable(r.err));

        int64_t queued = 0;
        {
            store::RunStore s(db_.toStdString());
            queued = s.create_run(0, kConfig, 5);
        }
        r = run_gafx({QStringLiteral("embed"), QString::number(queued), QStringLiteral("--out"), path("x.npy"),
                      QStringLiteral("--db"), db_});
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.contains(QStringLiteral("no best weights")), qPrintable(r.err));
        QVERIFY(!QFile::exists(path("x.npy")));

        for (const QStringList& bad : {QStringList{QStringLiteral("--kind"), QStringLiteral("mean")},
                                       QStringList{QStringLiteral("--subset"), QStringLiteral("excluded")},
                                       QStringList{QStringLiteral("--project"), QStringLiteral("tsne")},
                                       QStringList{QStringLiteral("--out2d"), path("y.csv")}}) {
            r = run_gafx(QStringList{QStringLiteral("embed"), run_, QStringLiteral("--out"), path("x.npy"),
                                     QStringLiteral("--db"), db_} + bad);
            QCOMPARE(r.exit_code, 2);
        }
        QCOMPARE(run_gafx({QStringLiteral("embed"), QStringLiteral("--help")}).exit_code, 0);
        QCOMPARE(run_gafx({QStringLiteral("embed"), run_, QStringLiteral("--db"), db_}).exit_code, 2); // no --out
    }
};

QTEST_GUILESS_MAIN(TestCliEmbed)
#include "test_cli_embed.moc"
