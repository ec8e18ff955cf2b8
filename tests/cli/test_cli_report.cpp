// `gafx report` through the built binary, on a database written the way the trainer writes it.
#include "experiments/experiment.h"
#include "store/run_store.h"
#include "test_support.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using gafx::test::run_gafx;
using namespace gafx;

namespace {

QList<qint64> ids(const QJsonValue& v) {
    QList<qint64> out;
    for (const auto& x : v.toArray()) out << x.toInteger();
    return out;
}

// One val and test row per epoch at the step that ended it, as the trainer logs them; val
// follows test here, so the selected epoch is the one these fixtures were written around.
int64_t add_run(store::RunStore& db, int64_t experiment, const std::string& dataset, const std::string& classifier,
                int64_t seed, const std::string& status, const std::vector<std::pair<double, double>>& track_clip) {
    experiments::RunConfig c;
    c.dataset = dataset;
    c.extractor = "mel";
    c.classifier = classifier;
    c.seed = uint64_t(seed);
    const int64_t id = db.create_run(experiment, experiments::to_json(c), seed);
    std::vector<store::MetricRow> rows;
    for (size_t e = 0; e < track_clip.size(); ++e) {
        const int64_t epoch = int64_t(e) + 1, step = epoch * 10;
        rows.push_back({step, epoch, "val", "selection", track_clip[e].first});
        rows.push_back({step, epoch, "test", "loss", 1.0});
        rows.push_back({step, epoch, "test", "track_accuracy", track_clip[e].first});
        rows.push_back({step, epoch, "test", "accuracy", track_clip[e].second});
    }
    db.append_metrics(id, rows);
    db.set_run_status(id, *store::parse_run_status(status));
    return id;
}

// A database of its own: one finished run on a three-genre dataset, with its best epoch's
// predictions. Returns the run id.
int64_t add_predicted_run(const std::string& path) {
    store::RunStore db(path);
    data::Catalog cat;
    cat.name = "g3";
    cat.kind = "gtzan";
    cat.root = "/nowhere";
    cat.classes = {{"blues", "Blues"}, {"jazz", ""}, {"rock", "Rock"}};
    for (const char* label : {"blues", "blues", "jazz", "rock"}) {
        data::Track t;
        t.key = std::string(label) + "/" + std::to_string(cat.tracks.size()) + ".wav";
        t.labels = {label};
        cat.tracks.push_back(t);
    }
    db.save_catalog(cat);
    experiments::RunConfig c;
    c.dataset = "g3";
    c.extractor = "mel";
    const int64_t run = db.create_run(0, experiments::to_json(c), 0);
    db.append_metrics(run, {{10, 1, "train", "epoch_loss", 2.0},
                            {10, 1, "val", "selection", 0.6},
                            {20, 2, "val", "selection", 0.7},
                            {10, 1, "test", "track_accuracy", 0.5},
                            {20, 2, "train", "epoch_loss", 1.5},
                            {20, 2, "test", "track_accuracy", 0.75}});
    // Track 0 (blues): its clips average to jazz; the others are right.
    db.save_predictions(run, {{cat.tracks[0].id, 0, {0.6f, 0.4f, 0.0f}},
                              {cat.tracks[0].id, 1, {0.1f, 0.8f, 0.1f}},
                              {cat.tracks[1].id, 0, {0.9f, 0.1f, 0.0f}},
                              {cat.tracks[2].id, 0, {0.2f, 0.7f, 0.1f}},
                              {cat.tracks[3].id, 0, {0.1f, 0.1f, 0.8f}}});
    db.set_run_status(run, store::RunStatus::Finished);
    return run;
}

} // namespace

class TestCliReport : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString db_;
    int64_t tiny0_ = 0, tiny1_ = 0, small_ = 0;

private Q_SLOTS:
    void initTestCase() {
        db_ = dir_.path() + QStringLiteral("/ws.db");
        store::RunStore db(db_.toStdString());
        data::Catalog as;
        as.name = "as";
        as.kind = "audioset";
        as.root = dir_.path().toStdString() + "/as";
        as.multi_label = true;
        db.save_catalog(as);
        const int64_t ex = db.create_experiment("t3", "{}");
        // Best epoch = highest track accuracy: epoch 2 (0.60 / 0.55) and epoch 1 (0.64 / 0.50).
        tiny0_ = add_run(db, ex, "gtzan", "ast-tiny", 0, "finished", {{0.40, 0.35}, {0.60, 0.55}, {0.58, 0.57}});
        tiny1_ = add_run(db, ex, "gtzan", "ast-tiny", 1, "finished", {{0.64, 0.50}, {0.62, 0.61}});
        small_ = add_run(db, ex, "gtzan", "ast-small", 0, "finished", {{0.70, 0.66}});
        add_run(db, ex, "gtzan", "ast-small", 1, "running", {{0.10, 0.10}});
        add_run(db, ex, "as", "ast-small", 2, "finished", {{0.99, 0.99}}); // AudioSet: pretraining, not a row
    }

    void tableThreeAsJson() {
        const auto r = run_gafx({QStringLiteral("report"), QStringLiteral("--table"), QStringLiteral("3"),
                                 QStringLiteral("--format"), QStringLiteral("json"), QStringLiteral("--db"), db_});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        const QJsonArray rows = QJsonDocument::fromJson(r.out.toUtf8()).array();
        QCOMPARE(rows.size(), 2);
        const QJsonObject tiny = rows[0].toObject(), small = rows[1].toObject();
        QCOMPARE(tiny[QStringLiteral("label")].toString(), QStringLiteral("AST Based on DeiT-Tiny"));
        QCOMPARE(tiny[QStringLiteral("n")].toInt(), 2);
        QVERIFY(std::abs(tiny[QStringLiteral("track_accuracy_mean")].toDouble() - 62.0) < 1e-9);
        QVERIFY(std::abs(tiny[QStringLiteral("track_accuracy_std")].toDouble() - std::sqrt(8.0)) < 1e-9);
        QVERIFY(std::abs(tiny[QStringLiteral("accuracy_mean")].toDouble() - 52.5) < 1e-9);
        QCOMPARE(tiny[QStringLiteral("paper")].toString(), QStringLiteral("61.00"));
        QCOMPARE(ids(tiny[QStringLiteral("run_ids")]), (QList<qint64>{qint64(tiny0_), qint64(tiny1_)}));
        QCOMPARE(small[QStringLiteral("n")].toInt(), 1); // the running run waits for --all
        QVERIFY(std::abs(small[QStringLiteral("track_accuracy_mean")].toDouble() - 70.0) < 1e-9);
        QVERIFY(small[QStringLiteral("track_accuracy_std")].isNull());
        QCOMPARE(ids(small[QStringLiteral("run_ids")]), (QList<qint64>{qint64(small_)}));
        QCOMPARE(small[QStringLiteral("paper")].toString(), QStringLiteral("64.50"));
    }

    void paperProtocolAndLatex() {
        // Tables count runs on the dataset named (default gtzan); the rest are listed, with why.
        auto r = run_gafx({QStringLiteral("report"), QStringLiteral("--table"), QStringLiteral("3"),
                           QStringLiteral("--dataset"), QStringLiteral("elsewhere"), QStringLiteral("--db"), db_});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains(QStringLiteral("Not in this table: runs %1 %2 %3 %4 (dataset 'gtzan')")
                                    .arg(tiny0_).arg(tiny1_).arg(small_).arg(small_ + 1)),
                 qPrintable(r.out));
        QVERIFY2(r.out.contains(QStringLiteral("no dataset named 'elsewhere'")), qPrintable(r.out));
        r = run_gafx({QStringLiteral("report"), QStringLiteral("--table"), QStringLiteral("3"), QStringLiteral("--format"),
                      QStringLiteral("latex"), QStringLiteral("--db"), db_});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains(QStringLiteral("\\begin{tabular}")) && r.out.contains(QStringLiteral("\\textbf{70.00}")),
                 qPrintable(r.out));
        QCOMPARE(run_gafx({QStringLiteral("report"), QStringLiteral("--confusion"), QString::number(tiny0_),
                           QStringLiteral("--format"), QStringLiteral("latex"), QStringLiteral("--db"), db_})
                     .exit_code,
                 2);
        // --compare pairs two rows of one table over the seeds both ran (here seed 0 only).
        r = run_gafx({QStringLiteral("report"), QStringLiteral("--group-by"), QStringLiteral("classifier"),
                      QStringLiteral("--compare"), QStringLiteral("ast-tiny,ast-small"), QStringLiteral("--db"), db_});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains(QStringLiteral("Paired over 1 shared seed/fold(s): classifier=ast-tiny")), qPrintable(r.out));
        r = run_gafx({QStringLiteral("report"), QStringLiteral("--group-by"), QStringLiteral("classifier"),
                      QStringLiteral("--compare"), QStringLiteral("ast-tiny,ast-huge"), QStringLiteral("--db"), db_});
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.contains(QStringLiteral("ast-huge")), qPrintable(r.err));
    }

    void allTablesAndOptions() {
        auto r = run_gafx({QStringLiteral("report"), QStringLiteral("--db"), db_});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        for (int t = 3; t <= 7; ++t) QVERIFY2(r.out.contains(QStringLiteral("### Table %1").arg(t)), qPrintable(r.out));
        r = run_gafx({QStringLiteral("report"), QStringLiteral("--table"), QStringLiteral("3"), QStringLiteral("--all"),
                      QStringLiteral("--db"), db_});
        QVERIFY2(r.out.contains(QStringLiteral("| AST Based on DeiT-Small | 2 (1 unfinished) |")), qPrintable(r.out));
        r = run_gafx({QStringLiteral("report"), QStringLiteral("--group-by"), QStringLiteral("classifier,dataset"),
                      QStringLiteral("--format"), QStringLiteral("csv"), QStringLiteral("--db"), db_});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        QCOMPARE(r.out.count(QLatin1Char('\n')), 3); // header + ast-small/gtzan + ast-tiny/gtzan
        QVERIFY(!r.out.contains(QStringLiteral("dataset=as")));
    }

    void confusionOfARun() {
        const QString db = dir_.path() + QStringLiteral("/predicted.db");
        const int64_t run = add_predicted_run(db.toStdString());
        const QString id = QString::number(run);
        auto r = run_gafx({QStringLiteral("report"), QStringLiteral("--confusion"), id, QStringLiteral("--format"),
                           QStringLiteral("json"), QStringLiteral("--db"), db});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        const QJsonObject m = QJsonDocument::fromJson(r.out.toUtf8()).object();
        QCOMPARE(m[QStringLiteral("run")].toInteger(), qint64(run));
        QCOMPARE(m[QStringLiteral("selected_epoch")].toInt(), 2);
        QCOMPARE(m[QStringLiteral("subset")].toString(), QStringLiteral("test"));
        QCOMPARE(m[QStringLiteral("tracks")].toInt(), 4);
        QVERIFY(std::abs(m[QStringLiteral("track_accuracy")].toDouble() - 75.0) < 1e-9);
        QCOMPARE(m[QStringLiteral("classes")].toArray().size(), 3);
        QCOMPARE(m[QStringLiteral("classes")].toArray()[1].toString(), QStringLiteral("jazz"));
        const QJsonArray counts = m[QStringLiteral("counts")].toArray();
        QCOMPARE(ids(counts[0]), (QList<qint64>{1, 1, 0}));
        QCOMPARE(ids(counts[1]), (QList<qint64>{0, 1, 0}));
        QCOMPARE(ids(counts[2]), (QList<qint64>{0, 0, 1}));

        r = run_gafx({QStringLiteral("report"), QStringLiteral("--confusion"), id, QStringLiteral("--format"),
                      QStringLiteral("csv"), QStringLiteral("--db"), db});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        QCOMPARE(r.out, QStringLiteral("true,Blues,jazz,Rock\nBlues,1,1,0\njazz,0,1,0\nRock,0,0,1\n"));

        r = run_gafx({QStringLiteral("report"), QStringLiteral("--confusion"), id, QStringLiteral("--db"), db});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains(QStringLiteral("### Run %1, test set at epoch 2 (selected on val)").arg(run)), qPrintable(r.out));
        QVERIFY2(r.out.contains(QStringLiteral("| Blues | 1 | 1 | 0 |")), qPrintable(r.out));
        QVERIFY(r.out.contains(QStringLiteral("75.00 % on 4 test tracks")));

        // A cell's tracks, by class name or index: the blues track taken for jazz, its two clips.
        r = run_gafx({QStringLiteral("report"), QStringLiteral("--confusion"), id, QStringLiteral("--cell"),
                      QStringLiteral("blues,1"), QStringLiteral("--format"), QStringLiteral("json"), QStringLiteral("--db"), db});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        const QJsonArray cell = QJsonDocument::fromJson(r.out.toUtf8()).array();
        QCOMPARE(cell.size(), 1);
        QCOMPARE(cell[0][QStringLiteral("key")].toString(), QStringLiteral("blues/0.wav"));
        QCOMPARE(cell[0][QStringLiteral("predicted")].toString(), QStringLiteral("jazz"));
        QVERIFY(std::abs(cell[0][QStringLiteral("confidence")].toDouble() - 60.0) < 1e-4);
        QCOMPARE(cell[0][QStringLiteral("clip_probabilities")].toArray().size(), 2);
        r = run_gafx({QStringLiteral("report"), QStringLiteral("--confusion"), id, QStringLiteral("--cell"),
                      QStringLiteral("Blues,jazz"), QStringLiteral("--db"), db});
        QVERIFY2(r.out.contains(QStringLiteral("| %1 | ").arg(run)) && r.out.contains(QStringLiteral("40.0/60.0 80.0/10.0")),
                 qPrintable(r.out));
        r = run_gafx({QStringLiteral("report"), QStringLiteral("--confusion"), id, QStringLiteral("--cell"),
                      QStringLiteral("blues,polka"), QStringLiteral("--db"), db});
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.contains(QStringLiteral("no class 'polka'")) && r.err.contains(QStringLiteral("Blues, jazz, Rock")),
                 qPrintable(r.err));
        QCOMPARE(run_gafx({QStringLiteral("report"), QStringLiteral("--cell"), QStringLiteral("0,1"),
                           QStringLiteral("--db"), db}).exit_code, 2);
        // A run named twice counts once.
        r = run_gafx({QStringLiteral("report"), QStringLiteral("--confusion"), id + QLatin1Char(',') + id,
                      QStringLiteral("--format"), QStringLiteral("json"), QStringLiteral("--db"), db});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        QCOMPARE(QJsonDocument::fromJson(r.out.toUtf8()).object()[QStringLiteral("tracks")].toInt(), 4);

        // Per-class accuracy beside the row's: blues 1 of 2, jazz and rock all right.
        r = run_gafx({QStringLiteral("report"), QStringLiteral("--group-by"), QStringLiteral("extractor"),
                      QStringLiteral("--dataset"), QStringLiteral("g3"), QStringLiteral("--format"), QStringLiteral("json"),
                      QStringLiteral("--db"), db});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        const QJsonObject per_class =
            QJsonDocument::fromJson(r.out.toUtf8()).array()[0].toObject()[QStringLiteral("per_class")].toObject();
        QCOMPARE(per_class[QStringLiteral("Blues")].toDouble(), 50.0);
        QCOMPARE(per_class[QStringLiteral("jazz")].toDouble(), 100.0);
        QCOMPARE(per_class[QStringLiteral("Rock")].toDouble(), 100.0);
        r = run_gafx({QStringLiteral("report"), QStringLiteral("--group-by"), QStringLiteral("extractor"),
                      QStringLiteral("--dataset"), QStringLiteral("g3"), QStringLiteral("--db"), db});
        QVERIFY2(r.out.contains(QStringLiteral("| Group | n | Blues | jazz | Rock |")) &&
                     r.out.contains(QStringLiteral("| extractor=mel | 1 | 50.0 | 100.0 | 100.0 |")),
                 qPrintable(r.out));

        r = run_gafx({QStringLiteral("report"), QStringLiteral("--confusion"), QStringLiteral("999"),
                      QStringLiteral("--db"), db});
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.contains(QStringLiteral("no run 999")), qPrintable(r.err));
        QCOMPARE(run_gafx({QStringLiteral("report"), QStringLiteral("--confusion"), id, QStringLiteral("--table"),
                           QStringLiteral("3"), QStringLiteral("--db"), db}).exit_code, 2);
    }

    void curvesPerRunAndPerGroup() {
        const QString db = dir_.path() + QStringLiteral("/curves.db");
        const int64_t run = add_predicted_run(db.toStdString());
        auto r = run_gafx({QStringLiteral("report"), QStringLiteral("--curves"), QStringLiteral("--run"),
                           QString::number(run), QStringLiteral("--format"), QStringLiteral("csv"), QStringLiteral("--db"), db});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        QCOMPARE(r.out, QStringLiteral("run,epoch,track_accuracy,train_loss\n%1,1,50.0000,2.0000\n%1,2,75.0000,1.5000\n").arg(run));

        // Per group on the shared database: ast-tiny has two finished runs at epochs 1-2, one at 3.
        r = run_gafx({QStringLiteral("report"), QStringLiteral("--group-by"), QStringLiteral("classifier"),
                      QStringLiteral("--curves"), QStringLiteral("--format"), QStringLiteral("json"), QStringLiteral("--db"), db_});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        const QJsonArray rows = QJsonDocument::fromJson(r.out.toUtf8()).array();
        QCOMPARE(rows.size(), 4); // ast-small: epoch 1; ast-tiny: epochs 1, 2, 3
        const QJsonObject small = rows[0].toObject(), tiny1 = rows[1].toObject(), tiny3 = rows[3].toObject();
        QCOMPARE(small[QStringLiteral("group")].toString(), QStringLiteral("classifier=ast-small"));
        QCOMPARE(small[QStringLiteral("n")].toInt(), 1); // the running one waits for --all
        QCOMPARE(tiny1[QStringLiteral("group")].toString(), QStringLiteral("classifier=ast-tiny"));
        QCOMPARE(tiny1[QStringLiteral("n")].toInt(), 2);
        QVERIFY(std::abs(tiny1[QStringLiteral("track_accuracy_mean")].toDouble() - 52.0) < 1e-9);
        QVERIFY(std::abs(tiny1[QStringLiteral("track_accuracy_std")].toDouble() - std::sqrt(288.0)) < 1e-9);
        QCOMPARE(tiny3[QStringLiteral("epoch")].toInt(), 3);
        QCOMPARE(tiny3[QStringLiteral("n")].toInt(), 1);
        QVERIFY(tiny3[QStringLiteral("track_accuracy_std")].isNull());

        for (const QStringList& bad : {QStringList{QStringLiteral("--curves")},
                                       QStringList{QStringLiteral("--run"), QStringLiteral("1")},
                                       QStringList{QStringLiteral("--curves"), QStringLiteral("--table"), QStringLiteral("3")},
                                       QStringList{QStringLiteral("--curves"), QStringLiteral("--run"), QStringLiteral("x")}}) {
            r = run_gafx(QStringList{QStringLiteral("report")} + bad + QStringList{QStringLiteral("--db"), db});
            QVERIFY2(r.exit_code == 2, qPrintable(bad.join(QLatin1Char(' ')) + QStringLiteral(": ") + r.err));
        }
    }

    void runsWhereFilters() {
        // A copy: gafx runs marks the fixture's "running" run (no live process) interrupted.
        const QString db = dir_.path() + QStringLiteral("/where.db");
        QVERIFY(QFile::copy(db_, db));
        const auto where = [&](const QString& filter) {
            const auto r = run_gafx({QStringLiteral("runs"), QStringLiteral("--where"), filter, QStringLiteral("--json"),
                                     QStringLiteral("--db"), db});
            QList<qint64> out;
            for (const auto& x : QJsonDocument::fromJson(r.out.toUtf8()).array())
                out << x.toObject()[QStringLiteral("id")].toInteger();
            return out;
        };
        QCOMPARE(where(QStringLiteral("classifier:ast-tiny")), (QList<qint64>{qint64(tiny0_), qint64(tiny1_)}));
        // tiny1's epoch chosen on val scored 0.64 on test, tiny0's 0.60.
        QCOMPARE(where(QStringLiteral("classifier:ast-tiny test>0.62")), (QList<qint64>{qint64(tiny1_)}));
        QCOMPARE(where(QStringLiteral("classifier:ast-tiny test>62")), (QList<qint64>{qint64(tiny1_)}));
        QCOMPARE(where(QStringLiteral("dataset:gtzan seed:0 -classifier:ast-tiny")), (QList<qint64>{qint64(small_)}));
        // The table too, and a mistyped field is refused naming it, before the workspace is opened.
        auto r = run_gafx({QStringLiteral("runs"), QStringLiteral("--where"), QStringLiteral("classifier:ast-small seed:0"),
                           QStringLiteral("--db"), db});
        QCOMPARE(r.exit_code, 0);
        QCOMPARE(r.out.count(QStringLiteral("ast-small")), 1);
        r = run_gafx({QStringLiteral("runs"), QStringLiteral("--where"), QStringLiteral("acuracy>0.7"), QStringLiteral("--db"),
                      dir_.path() + QStringLiteral("/none.db")});
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.contains(QStringLiteral("no field 'acuracy'")), qPrintable(r.err));
        QVERIFY(!QFile::exists(dir_.path() + QStringLiteral("/none.db")));
    }

    void tagsAndNotes() {
        const QString db = dir_.path() + QStringLiteral("/tags.db");
        QVERIFY(QFile::copy(db_, db));
        const auto gafx = [&](QStringList args) {
            args << QStringLiteral("--db") << db;
            return run_gafx(args);
        };
        const QString t0 = QString::number(tiny0_), t1 = QString::number(tiny1_);
        auto r = gafx({QStringLiteral("tag"), QStringLiteral("good,Baseline"), t0, t1});
        QCOMPARE(r.exit_code, 0);
        QCOMPARE(gafx({QStringLiteral("tag"), QStringLiteral("good"), t1, QStringLiteral("--remove")}).exit_code, 0);
        // Every run a filter keeps, by tag.
        QCOMPARE(gafx({QStringLiteral("tag"), QStringLiteral("small"), QStringLiteral("--where"),
                       QStringLiteral("classifier:ast-small dataset:gtzan")}).exit_code, 0);
        r = gafx({QStringLiteral("tag"), QStringLiteral("--list")});
        QCOMPARE(r.exit_code, 0);
        QVERIFY2(r.out.contains(QRegularExpression(QStringLiteral("baseline +2\n"))) &&
                     r.out.contains(QRegularExpression(QStringLiteral("good +1\n"))) &&
                     r.out.contains(QRegularExpression(QStringLiteral("small +2\n"))),
                 qPrintable(r.out));
        QCOMPARE(gafx({QStringLiteral("note"), t0, QStringLiteral("best of the seeds; check the lr")}).exit_code, 0);
        QCOMPARE(gafx({QStringLiteral("note"), t0}).out, QStringLiteral("best of the seeds; check the lr\n"));
        r = gafx({QStringLiteral("runs"), QStringLiteral("--where"), QStringLiteral("tag:good")});
        QVERIFY2(r.out.contains(QStringLiteral("baseline,good")), qPrintable(r.out)); // the table's tags column
        // Searchable and exported.
        r = gafx({QStringLiteral("runs"), QStringLiteral("--where"), QStringLiteral("tag:good seeds"), QStringLiteral("--json")});
        const QJsonArray found = QJsonDocument::fromJson(r.out.toUtf8()).array();
        QCOMPARE(found.size(), 1);
        QCOMPARE(found[0].toObject()[QStringLiteral("id")].toInteger(), tiny0_);
        QCOMPARE(found[0].toObject()[QStringLiteral("tags")].toArray().size(), 2);
        QCOMPARE(found[0].toObject()[QStringLiteral("note")].toString(), QStringLiteral("best of the seeds; check the lr"));
        // Bad input: a tag with a space, a note file that is not UTF-8, an unknown run.
        r = gafx({QStringLiteral("tag"), QStringLiteral("a b!"), t0});
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.contains(QStringLiteral("'b!' holds '!'")), qPrintable(r.err));
        const QString latin1 = dir_.path() + QStringLiteral("/note.txt");
        test::write_bytes(latin1, QByteArray("caf\xe9\n"));
        r = gafx({QStringLiteral("note"), t0, QStringLiteral("--file"), latin1});
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.contains(latin1) && r.err.contains(QStringLiteral("not UTF-8")), qPrintable(r.err));
        r = gafx({QStringLiteral("tag"), QStringLiteral("x"), QStringLiteral("999")});
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.contains(QStringLiteral("no run 999")), qPrintable(r.err));
        QCOMPARE(gafx({QStringLiteral("note"), t0, QStringLiteral("--clear")}).exit_code, 0);
        QCOMPARE(gafx({QStringLiteral("note"), t0}).out, QString());
    }

    void diffOfTwoRuns() {
        // tiny0 and small differ in their classifier only (both seed 0, same dataset).
        auto r = run_gafx({QStringLiteral("diff"), QString::number(tiny0_), QString::number(small_), QStringLiteral("--db"), db_});
        QCOMPARE(r.exit_code, 0);
        QVERIFY2(r.out.contains(QRegularExpression(QStringLiteral("\\* classifier +ast-tiny +ast-small"))), qPrintable(r.out));
        QVERIFY2(!r.out.contains(QStringLiteral("extractor")), qPrintable(r.out)); // the same: hidden
        QVERIFY2(r.out.contains(QStringLiteral("1 of ")), qPrintable(r.out));
        r = run_gafx({QStringLiteral("diff"), QString::number(tiny0_), QString::number(small_), QStringLiteral("--all"),
                      QStringLiteral("--json"), QStringLiteral("--db"), db_});
        const QJsonArray all = QJsonDocument::fromJson(r.out.toUtf8()).array();
        QVERIFY(all.size() > 20);
        int differing = 0;
        for (const auto& x : all) differing += x.toObject()[QStringLiteral("differs")].toBool();
        QCOMPARE(differing, 1);
        r = run_gafx({QStringLiteral("diff"), QString::number(tiny0_), QStringLiteral("999"), QStringLiteral("--db"), db_});
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.contains(QStringLiteral("no run 999")), qPrintable(r.err));
        QCOMPARE(run_gafx({QStringLiteral("diff"), QString::number(tiny0_), QStringLiteral("--db"), db_}).exit_code, 2);
    }

    void usageErrors() {
        auto r = run_gafx({QStringLiteral("report"), QStringLiteral("--group-by"), QStringLiteral("colour"),
                           QStringLiteral("--db"), db_});
        QCOMPARE(r.exit_code, 2);
        QVERIFY2(r.err.contains(QStringLiteral("colour")) && r.err.contains(QStringLiteral("extractor")), qPrintable(r.err));
        QCOMPARE(run_gafx({QStringLiteral("report"), QStringLiteral("--table"), QStringLiteral("8")}).exit_code, 2);
        QCOMPARE(run_gafx({QStringLiteral("report"), QStringLiteral("--format"), QStringLiteral("xml")}).exit_code, 2);
        QCOMPARE(run_gafx({QStringLiteral("report"), QStringLiteral("--table"), QStringLiteral("3"),
                           QStringLiteral("--group-by"), QStringLiteral("seed")}).exit_code, 2);
        r = run_gafx({QStringLiteral("report"), QStringLiteral("--help")});
        QCOMPARE(r.exit_code, 0);
        QVERIFY(r.out.contains(QStringLiteral("--group-by")));
        QVERIFY(r.out.contains(QStringLiteral("--confusion RUN")) && r.out.contains(QStringLiteral("--curves")));
    }
};

QTEST_GUILESS_MAIN(TestCliReport)
#include "test_cli_report.moc"
