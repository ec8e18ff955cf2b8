// The report: paper tables and group-by from hand-made run records (no training, no database).
#include "experiments/experiment.h"
#include "experiments/report.h"
#include "test_support.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <cmath>
#include <limits>

using namespace gafx;
using experiments::RunConfig;
using store::RunRecord;

namespace {

QList<qint64> ids(const QJsonValue& v) {
    QList<qint64> out;
    for (const auto& x : v.toArray()) out << x.toInteger();
    return out;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

RunConfig cfg(const std::string& extractor, const std::string& classifier) {
    RunConfig c;
    c.dataset = "gtzan";
    c.extractor = extractor;
    c.classifier = classifier;
    return c;
}

RunRecord rec(int64_t id, RunConfig c, double track, double clip, store::RunStatus status = store::RunStatus::Finished) {
    c.seed = uint64_t(id);
    RunRecord r;
    r.id = id;
    r.config = experiments::to_json(c);
    r.seed = id;
    r.status = status;
    r.test_track_accuracy = track;
    r.test_accuracy = clip;
    r.test_macro_f1 = track - 0.02; // a little under accuracy, as with mild class imbalance
    return r;
}

bool near(double a, double b) { return std::abs(a - b) < 1e-9; }

const experiments::ReportRow& row(const experiments::Report& r, const std::string& label) {
    for (const auto& x : r.rows)
        if (x.label == label) return x;
    throw std::runtime_error("no row " + label);
}

} // namespace

class TestReport : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void meanAndSampleStdOverSeeds() {
        const std::vector<RunRecord> runs = {rec(1, cfg("mel", "ast-tiny"), 0.60, 0.50),
                                             rec(2, cfg("mel", "ast-tiny"), 0.62, 0.55),
                                             rec(3, cfg("mel", "ast-tiny"), 0.64, 0.60),
                                             rec(4, cfg("mel", "ast-small"), 0.65, 0.61)};
        const auto t = experiments::paper_table(3, runs, {});
        QCOMPARE(t.rows.size(), size_t(2));
        const auto& tiny = row(t, "AST Based on DeiT-Tiny");
        QCOMPARE(tiny.n, 3);
        QVERIFY(near(tiny.track_mean, 62.0));
        QVERIFY(near(tiny.track_std, 2.0)); // sample std: sqrt((4 + 0 + 4) / 2)
        QVERIFY(near(tiny.clip_mean, 55.0));
        QVERIFY(near(tiny.clip_std, 5.0));
        QCOMPARE(tiny.run_ids, (std::vector<int64_t>{1, 2, 3}));
        QCOMPARE(tiny.paper, std::string("61.00"));
        const auto& small = row(t, "AST Based on DeiT-Small");
        QCOMPARE(small.n, 1);
        QVERIFY(near(small.track_mean, 65.0));
        QVERIFY(std::isnan(small.track_std));
        // 95 % t interval: 62 ± t(0.975, 2) x 2 / sqrt(3) = 62 ± 4.968.
        QVERIFY(std::abs(tiny.track_ci_low - 57.0317246) < 1e-6 && std::abs(tiny.track_ci_high - 66.9682754) < 1e-6);
        const auto md = QString::fromStdString(experiments::format_markdown({t}, {}));
        QVERIFY2(md.contains(QStringLiteral("| AST Based on DeiT-Tiny | 3 | 62.00 ± 2.00 | [57.03, 66.97] | 55.00 ± 5.00 | 60.00 ± 2.00 | 61.00 |")),
                 qPrintable(md));
        QVERIFY2(md.contains(QStringLiteral("| AST Based on DeiT-Small | 1 | 65.00 | — | 61.00 | 63.00 | 64.50 |")), qPrintable(md));
        QVERIFY(md.startsWith(QStringLiteral("### Table 3")));
        QVERIFY(md.contains(QStringLiteral("Held fixed: extractor=mel")));
    }

    void unfinishedOnlyWhenAsked() {
        const std::vector<RunRecord> runs = {rec(1, cfg("mel", "ast-tiny"), 0.60, 0.5),
                                             rec(2, cfg("mel", "ast-tiny"), 0.70, 0.5, store::RunStatus::Running),
                                             rec(3, cfg("mel", "ast-tiny"), kNaN, kNaN, store::RunStatus::Interrupted),
                                             rec(4, cfg("mel", "ast-tiny"), 0.10, 0.1, store::RunStatus::Diverged),
                                             rec(5, cfg("mel", "ast-tiny"), kNaN, kNaN, store::RunStatus::Queued)};
        auto t = experiments::paper_table(3, runs, {});
        const auto* r = &row(t, "AST Based on DeiT-Tiny");
        QCOMPARE(r->n, 1);
        QCOMPARE(r->diverged, 1);
        QVERIFY(r->unfinished_run_ids.empty());
        experiments::ReportOptions all;
        all.include_unfinished = true;
        t = experiments::paper_table(3, runs, all);
        r = &row(t, "AST Based on DeiT-Tiny");
        QCOMPARE(r->n, 3); // 1 finished + running and diverged that evaluated; never-evaluated ones never count
        QCOMPARE(r->run_ids, (std::vector<int64_t>{1, 2, 4}));
        QCOMPARE(r->unfinished_run_ids, (std::vector<int64_t>{2, 4}));
        QCOMPARE(r->diverged, 0);
        const auto md = QString::fromStdString(experiments::format_markdown({t}, all));
        QVERIFY2(md.contains(QStringLiteral("| 3 (2 unfinished) |")), qPrintable(md));
    }

    void tablesPickRowsByFactors() {
        auto t4 = cfg("gafx-r", "ast-small");
        t4.batch_size = 8;
        t4.lr = 5e-4;
        auto t4w = t4;
        t4w.pretraining = "run";
        t4w.pretrained_run = 99;
        auto t5 = cfg("gafx-r", "ast-small"); // batch 4: table 5, never table 4
        auto t5wo = t5;
        t5wo.augmentation = false;
        auto pre = t4w;
        pre.dataset = "audioset";
        const std::vector<RunRecord> runs = {rec(1, t4, 0.47, 0.4),  rec(2, t4w, 0.51, 0.5), rec(3, t5, 0.48, 0.4),
                                             rec(4, t5wo, 0.37, 0.3), rec(5, pre, 0.9, 0.9),
                                             rec(6, cfg("gafx-u", "ast-tiny"), 0.72, 0.7),
                                             rec(7, cfg("gafx-r", "ast-tiny"), 0.53, 0.5)};
        experiments::ReportOptions o;
        o.pretraining_datasets = {"audioset"};
        auto t = experiments::paper_table(4, runs, o);
        QCOMPARE(row(t, "w/ AudioSet Pretraining").run_ids, (std::vector<int64_t>{2}));
        QCOMPARE(row(t, "wo/ AudioSet Pretraining").run_ids, (std::vector<int64_t>{1}));
        QCOMPARE(row(t, "w/ AudioSet Pretraining").paper, std::string("51.00 ± 2.00"));
        QVERIFY(t.fixed.find("batch_size=8") != std::string::npos);
        t = experiments::paper_table(5, runs, o);
        QCOMPARE(row(t, "w/ Augmentation").run_ids, (std::vector<int64_t>{3}));
        QCOMPARE(row(t, "wo/ Augmentation").run_ids, (std::vector<int64_t>{4}));
        t = experiments::paper_table(6, runs, o);
        QCOMPARE(row(t, "GAFX-A").n, 0);
        QCOMPARE(row(t, "GAFX-A").paper, std::string("/"));
        QCOMPARE(row(t, "GAFX-R").run_ids, (std::vector<int64_t>{7}));
        QCOMPARE(row(t, "GAFX-U").run_ids, (std::vector<int64_t>{6}));
        t = experiments::paper_table(7, runs, o);
        QCOMPARE(t.rows.size(), size_t(4));
        QCOMPARE(row(t, "GAFX-U + AST('DeiT-Ti')").run_ids, (std::vector<int64_t>{6}));
        QVERIFY(row(t, "(Contrastive) Probing CLMR").paper_only);
        const auto md = QString::fromStdString(experiments::format_markdown({t}, o));
        QVERIFY2(md.contains(QStringLiteral("| (Contrastive) Probing CLMR | n/a | n/a | — | n/a | n/a | 68.60 |")), qPrintable(md));
        QVERIFY2(md.contains(QStringLiteral("| AST('DeiT-Ti') | 0 | — | — | — | — | 61.00 |")), qPrintable(md));
        QVERIFY(!error_of_table(2).isEmpty());
    }

    void mixedSettingsAreNamed() {
        auto longer = cfg("mel", "ast-tiny");
        longer.epochs = 100;
        const auto t = experiments::paper_table(3, {rec(1, cfg("mel", "ast-tiny"), 0.6, 0.6), rec(2, longer, 0.2, 0.2)}, {});
        QCOMPARE(row(t, "AST Based on DeiT-Tiny").mixed, (std::vector<std::string>{"epochs"}));
        QVERIFY(experiments::format_markdown({t}, {}).find("differ in epochs") != std::string::npos);
    }

    void paperTablesTakeOnlyThePaperProtocol() {
        // Demo runs (synthetic audio, ~100 %) and small-preset runs once pooled into table 3's rows.
        auto small = cfg("mel", "ast-tiny");
        small.preset = "small";
        auto demo = cfg("mel", "ast-tiny");
        demo.dataset = "demo";
        const std::vector<RunRecord> runs = {rec(1, cfg("mel", "ast-tiny"), 0.6, 0.6), rec(2, small, 0.2, 0.2),
                                             rec(3, demo, 1.0, 1.0), rec(4, demo, 1.0, 1.0)};
        const auto t = experiments::paper_table(3, runs, {});
        QCOMPARE(row(t, "AST Based on DeiT-Tiny").run_ids, (std::vector<int64_t>{1}));
        QCOMPARE(t.left_out.size(), size_t(3));
        const auto md = QString::fromStdString(experiments::format_markdown({t}, {}));
        QVERIFY2(md.contains(QStringLiteral("Not in this table: run 2 (preset small)")), qPrintable(md));
        QVERIFY2(md.contains(QStringLiteral("Not in this table: runs 3 4 (dataset 'demo')")), qPrintable(md));
        // Another dataset named: now it is the one counted.
        experiments::ReportOptions on_demo;
        on_demo.dataset = "demo";
        QCOMPARE(row(experiments::paper_table(3, runs, on_demo), "AST Based on DeiT-Tiny").run_ids,
                 (std::vector<int64_t>{3, 4}));
        // Group-by ignores the paper protocol: every run is a group member.
        QCOMPARE(experiments::group_by({"dataset"}, runs, {}).rows.size(), size_t(2));
    }

    void rowsArePairedOverSharedSeeds() {
        // DeiT-Tiny vs DeiT-Small on seeds 0-4; seed 9 ran only for Tiny and is not paired.
        std::vector<RunRecord> runs;
        const double tiny[] = {0.60, 0.62, 0.58, 0.61, 0.63, 0.70}, small[] = {0.64, 0.66, 0.61, 0.66, 0.65};
        for (int s = 0; s < 6; ++s) {
            auto r = rec(1 + s, cfg("mel", "ast-tiny"), tiny[s], 0.5);
            auto c = experiments::parse_run_config(r.config);
            c.seed = uint64_t(s < 5 ? s : 9);
            r.config = experiments::to_json(c);
            runs.push_back(r);
        }
        for (int s = 0; s < 5; ++s) {
            auto r = rec(10 + s, cfg("mel", "ast-small"), small[s], 0.5);
            auto c = experiments::parse_run_config(r.config);
            c.seed = uint64_t(s);
            r.config = experiments::to_json(c);
            runs.push_back(r);
        }
        const auto t = experiments::paper_table(3, runs, {});
        QCOMPARE(t.comparisons.size(), size_t(1));
        const auto& p = t.comparisons[0].test;
        QCOMPARE(p.n, 5);
        QVERIFY(near(p.mean_diff, -3.6)); // tiny - small over seeds 0-4, in points
        QVERIFY(near(p.p_sign, 0.0625));  // 5 of 5 the same way
        QVERIFY(near(p.p_wilcoxon, 0.0625));
        QVERIFY(p.p_t < 0.01);
        const auto md = QString::fromStdString(experiments::format_markdown({t}, {}));
        QVERIFY2(md.contains(QStringLiteral("Paired over 5 shared seed/fold(s)")), qPrintable(md));
        const QJsonArray a =
            QJsonDocument::fromJson(QByteArray::fromStdString(experiments::format_json({t}))).array();
        QCOMPARE(a[1].toObject()[QStringLiteral("paired_vs_first")].toObject()[QStringLiteral("n")].toInt(), 5);
    }

    void compareNamesRowsByLabelOrValues() {
        std::vector<RunRecord> runs;
        const double mel[] = {0.60, 0.62, 0.58}, r[] = {0.50, 0.55, 0.52};
        for (int s = 0; s < 3; ++s) {
            for (const auto& [extractor, acc] : {std::pair<const char*, double>{"mel", mel[s]}, {"gafx-r", r[s]}}) {
                auto rr = rec(int64_t(runs.size()) + 1, cfg(extractor, "ast-tiny"), acc, 0.5);
                auto c = experiments::parse_run_config(rr.config);
                c.seed = uint64_t(s);
                rr.config = experiments::to_json(c);
                runs.push_back(rr);
            }
        }
        auto g = experiments::group_by({"extractor"}, runs, {});
        QVERIFY(g.comparisons.empty()); // group-by pairs only what is asked
        experiments::compare_rows(g, "mel", "gafx-r");
        QCOMPARE(g.comparisons.size(), size_t(1));
        QCOMPARE(g.comparisons[0].test.n, 3);
        QVERIFY(std::abs(g.comparisons[0].test.mean_diff - 23.0 / 3) < 1e-9); // (10 + 7 + 6) / 3 points
        const QString e = test::error_of([&] { experiments::compare_rows(g, "mel", "gafx-z"); });
        QVERIFY2(e.contains(QStringLiteral("gafx-z")) && e.contains(QStringLiteral("gafx-r")), qPrintable(e));
    }

    void majorityBaselineAndLatex() {
        const std::vector<RunRecord> runs = {rec(1, cfg("mel", "ast-tiny"), 0.60, 0.50),
                                             rec(2, cfg("mel", "ast-tiny"), 0.62, 0.55),
                                             rec(3, cfg("mel", "ast-small"), 0.65, 0.61)};
        experiments::ReportOptions o;
        o.majority_track_accuracy = 10.0;
        const auto t = experiments::paper_table(3, runs, o);
        QCOMPARE(t.rows.size(), size_t(3));
        QVERIFY(t.rows.back().baseline);
        const auto md = QString::fromStdString(experiments::format_markdown({t}, o));
        QVERIFY2(md.contains(QStringLiteral("| Majority class (baseline) | — | 10.00 | — | — | — |  |")), qPrintable(md));
        const auto tex = QString::fromStdString(experiments::format_latex({t}));
        QVERIFY2(tex.contains(QStringLiteral("\\toprule")) && tex.contains(QStringLiteral("\\bottomrule")), qPrintable(tex));
        QVERIFY2(tex.contains(QStringLiteral("AST Based on DeiT-Small & 1 & \\textbf{65.00} & -- & 61.00 & 63.00 & 64.50 \\\\")),
                 qPrintable(tex));
        QVERIFY2(tex.contains(QStringLiteral("61.00 $\\pm$ 1.41")), qPrintable(tex));
        QVERIFY(tex.contains(QStringLiteral("(\\%)")));
    }

    void brokenConfigIsSkippedWithAWarning() {
        RunRecord bad = rec(9, cfg("mel", "ast-tiny"), 0.5, 0.5);
        bad.config = R"({"dataset": "gtzan", "colour": "red"})";
        const auto t = experiments::paper_table(3, {bad}, {});
        QCOMPARE(row(t, "AST Based on DeiT-Tiny").n, 0);
        QCOMPARE(t.warnings.size(), size_t(1));
        QVERIFY(t.warnings[0].find("run 9") != std::string::npos);
    }

    void groupByTwoFactors() {
        auto fast = cfg("gafx-r", "ast-small");
        fast.lr = 5e-4;
        const std::vector<RunRecord> runs = {rec(1, cfg("gafx-r", "ast-small"), 0.5, 0.5),
                                             rec(2, cfg("gafx-r", "ast-small"), 0.6, 0.6), rec(3, fast, 0.4, 0.4),
                                             rec(4, cfg("mel", "ast-tiny"), 0.3, 0.3),
                                             rec(5, cfg("mel", "ast-tiny"), kNaN, kNaN, store::RunStatus::Running)};
        const auto g = experiments::group_by({"extractor", "classifier"}, runs, {});
        QCOMPARE(g.rows.size(), size_t(2));
        QCOMPARE(g.rows[0].label, std::string("extractor=gafx-r classifier=ast-small"));
        QCOMPARE(g.rows[0].n, 3);
        QVERIFY(near(g.rows[0].track_mean, 50.0));
        QVERIFY(near(g.rows[0].track_std, 10.0));
        QCOMPARE(g.rows[0].mixed, (std::vector<std::string>{"lr"}));
        QCOMPARE(g.rows[1].label, std::string("extractor=mel classifier=ast-tiny"));
        QCOMPARE(g.rows[1].n, 1);
        // Numbers sort as numbers: 5e-05 before 0.0005.
        const auto by_lr = experiments::group_by({"lr"}, runs, {});
        QCOMPARE(by_lr.rows.size(), size_t(2));
        QCOMPARE(by_lr.rows[0].label, std::string("lr=5e-05"));
        QCOMPARE(by_lr.rows[1].run_ids, (std::vector<int64_t>{3}));
    }

    void unknownFactorNamesTheAllowedOnes() {
        const QString e = test::error_of([] { experiments::check_factors({"extractor", "colour"}); });
        QVERIFY2(e.contains(QStringLiteral("colour")) && e.contains(QStringLiteral("classifier")) &&
                     e.contains(QStringLiteral("seed")) && e.contains(QStringLiteral("augmentation")),
                 qPrintable(e));
        QVERIFY(!test::error_of([] { experiments::group_by({}, {}, {}); }).isEmpty());
        QVERIFY(test::error_of([] { experiments::check_factors({"lr", "pretraining"}); }).isEmpty());
    }

    void csvQuotesCommasAndQuotes() {
        auto c = cfg("mel", "ast-tiny");
        c.dataset = "my \"gtzan\", v2";
        const auto g = experiments::group_by({"dataset", "lr_halving_epochs"}, {rec(1, c, 0.5, 0.25)}, {});
        const auto csv = QString::fromStdString(experiments::format_csv({g}));
        const QStringList lines = csv.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 2);
        QVERIFY(lines[0].startsWith(QStringLiteral("table,label,n,track_accuracy_mean,track_accuracy_std,"
                                                   "track_accuracy_ci_low,track_accuracy_ci_high,accuracy_mean,accuracy_std,macro_f1_mean")));
        QCOMPARE(lines[1], QStringLiteral(
            R"(,"dataset=my ""gtzan"", v2 lr_halving_epochs=[12,24,50,65]",1,50.0000,,,,25.0000,,48.0000,,,0,,1,,val-selected)"));
    }

    void perClassAccuracyIsTheMeanOverTheRowsRuns() {
        const auto c = cfg("mel", "ast-tiny");
        experiments::ReportOptions o;
        o.class_names = {"blues", "jazz"};
        o.per_class = {{1, {50.0, 100.0}}, {2, {100.0, std::nan("")}}}; // run 2 had no jazz test track
        const auto g = experiments::group_by({"extractor"}, {rec(1, c, 0.5, 0.5), rec(2, c, 0.7, 0.7), rec(3, c, 0.6, 0.6)}, o);
        QCOMPARE(g.rows.size(), size_t(1));
        QCOMPARE(g.rows[0].n, 3);
        QCOMPARE(g.rows[0].class_n, 2); // run 3's predictions were not read
        QCOMPARE(g.rows[0].class_mean, (std::vector<double>{75.0, 100.0}));
        const auto csv = QString::fromStdString(experiments::format_csv({g}));
        QVERIFY2(csv.contains(QStringLiteral(",blues=75.0000;jazz=100.0000,val-selected\n")), qPrintable(csv));
        const auto md = QString::fromStdString(experiments::format_markdown({g}, o));
        QVERIFY2(md.contains(QStringLiteral("| extractor=mel | 2 | 75.0 | 100.0 |")), qPrintable(md));
    }

    void jsonHasEveryField() {
        const std::vector<RunRecord> runs = {rec(1, cfg("mel", "ast-tiny"), 0.60, 0.50),
                                             rec(2, cfg("mel", "ast-tiny"), 0.62, 0.55)};
        const auto text = experiments::format_json({experiments::paper_table(7, runs, {})});
        const QJsonArray a = QJsonDocument::fromJson(QByteArray::fromStdString(text)).array();
        QCOMPARE(a.size(), 4);
        const QJsonObject ti = a[3].toObject();
        QCOMPARE(ti[QStringLiteral("table")].toInt(), 7);
        QCOMPARE(ti[QStringLiteral("label")].toString(), QStringLiteral("AST('DeiT-Ti')"));
        QCOMPARE(ti[QStringLiteral("n")].toInt(), 2);
        QVERIFY(near(ti[QStringLiteral("track_accuracy_mean")].toDouble(), 61.0));
        QVERIFY(near(ti[QStringLiteral("track_accuracy_std")].toDouble(), std::sqrt(2.0)));
        QVERIFY(near(ti[QStringLiteral("accuracy_mean")].toDouble(), 52.5));
        QVERIFY(ti[QStringLiteral("accuracy_std")].isDouble());
        QCOMPARE(ti[QStringLiteral("paper")].toString(), QStringLiteral("61.00"));
        QCOMPARE(ids(ti[QStringLiteral("run_ids")]), (QList<qint64>{1, 2}));
        const QJsonObject clmr = a[1].toObject();
        QVERIFY(clmr[QStringLiteral("paper_only")].toBool());
        QCOMPARE(clmr[QStringLiteral("n")].toInt(), 0);
        QVERIFY(clmr[QStringLiteral("track_accuracy_mean")].isNull());
        QVERIFY(clmr[QStringLiteral("accuracy_std")].isNull());
        QCOMPARE(clmr[QStringLiteral("paper")].toString(), QStringLiteral("68.60"));
        const auto g = experiments::format_json({experiments::group_by({"classifier"}, runs, {})});
        const QJsonObject grow = QJsonDocument::fromJson(QByteArray::fromStdString(g)).array()[0].toObject();
        QVERIFY(grow[QStringLiteral("table")].isNull());
        QVERIFY(grow[QStringLiteral("paper")].isNull());
    }

private:
    static QString error_of_table(int n) {
        return test::error_of([n] { experiments::paper_table(n, {}, {}); });
    }
};

QTEST_GUILESS_MAIN(TestReport)
#include "test_report.moc"
