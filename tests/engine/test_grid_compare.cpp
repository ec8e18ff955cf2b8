// Comparing a grid: the statistic a run contributes (val-selected, final, best val), the
// factor-vs-metric view (per level mean ± 95 % CI, seeds joined across levels) and parallel
// coordinates (an axis per varying factor, seeds and folds left out, the statistic last).
#include "experiments/grid_compare.h"
#include "experiments/report.h"

#include "core/error.h"
#include "experiments/experiment.h"
#include "test_support.h"

#include <QtTest>

#include <cmath>

using namespace gafx;
using store::RunRecord;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool near(double a, double b) { return std::fabs(a - b) < 1e-9; }

// A finished run with its val-selected, final and best-val track accuracies.
RunRecord rec(int64_t id, const std::string& extractor, uint64_t seed, double lr, double selected, double final_acc,
              double val) {
    experiments::RunConfig c;
    c.dataset = "gtzan";
    c.extractor = extractor;
    c.lr = lr;
    c.seed = seed;
    RunRecord r;
    r.id = id;
    r.config = experiments::to_json(c);
    r.seed = int64_t(seed);
    r.status = store::RunStatus::Finished;
    r.selected_epoch = std::isnan(selected) ? 0 : 3;
    r.test_track_accuracy = selected;
    r.test_accuracy = selected;
    r.final_test_track_accuracy = final_acc;
    r.final_test_accuracy = final_acc;
    r.val_track_accuracy = val;
    return r;
}

std::vector<RunRecord> grid() {
    return {
        rec(1, "mel", 0, 5e-5, 0.60, 0.58, 0.70), rec(2, "mel", 1, 5e-5, 0.62, 0.61, 0.72),
        rec(3, "gafx-r", 0, 5e-5, 0.70, 0.50, 0.80), rec(4, "gafx-r", 1, 5e-5, 0.66, 0.52, 0.78),
        rec(5, "gafx-r", 2, 5e-5, 0.68, 0.54, 0.79),
        // Trained before validation splits: a final figure, no selected epoch.
        rec(6, "mel", 2, 5e-5, kNaN, 0.40, kNaN),
    };
}

} // namespace

class TestGridCompare : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void statisticNamesAndValues() {
        using experiments::RunStatistic;
        for (auto s : {RunStatistic::ValSelected, RunStatistic::Final, RunStatistic::BestVal})
            QCOMPARE(experiments::parse_statistic(experiments::to_string(s)), s);
        QVERIFY(test::error_of([] { experiments::parse_statistic("best-test"); }).contains("val-selected"));
        const RunRecord r = grid()[0];
        QCOMPARE(experiments::track_statistic(r, RunStatistic::ValSelected), 0.60);
        QCOMPARE(experiments::track_statistic(r, RunStatistic::Final), 0.58);
        QCOMPARE(experiments::track_statistic(r, RunStatistic::BestVal), 0.70);
        QVERIFY(std::isnan(experiments::track_statistic(grid()[5], RunStatistic::BestVal)));
        QVERIFY(experiments::describe(RunStatistic::BestVal).find("not a test figure") != std::string::npos);
    }

    void groupsFollowTheStatistic() {
        experiments::ReportOptions o;
        auto rep = experiments::group_by({"extractor"}, grid(), o);
        QCOMPARE(rep.rows.size(), size_t(2)); // gafx-r, mel
        QVERIFY(near(rep.rows[0].track_mean, 68.0));
        QCOMPARE(rep.rows[1].n, 2); // run 6 has no val-selected epoch
        QVERIFY(experiments::format_markdown({rep}, o).find("selected on val (never chosen on test)") != std::string::npos);
        o.statistic = experiments::RunStatistic::Final;
        rep = experiments::group_by({"extractor"}, grid(), o);
        QVERIFY(near(rep.rows[0].track_mean, 52.0));
        QCOMPARE(rep.rows[1].n, 3); // run 6 counts at its last epoch
        QVERIFY(near(rep.rows[1].clip_mean, (58.0 + 61.0 + 40.0) / 3));
        QVERIFY(std::isnan(rep.rows[1].f1_mean)); // not stored for the last epoch
        QVERIFY(experiments::format_markdown({rep}, o).find("last evaluated epoch") != std::string::npos);
        QVERIFY(experiments::format_csv({rep}).find(",final\n") != std::string::npos);
        o.statistic = experiments::RunStatistic::BestVal;
        rep = experiments::group_by({"extractor"}, grid(), o);
        QVERIFY(near(rep.rows[1].track_mean, 71.0));
        QVERIFY(std::isnan(rep.rows[1].clip_mean));
        QCOMPARE(experiments::table_header(rep)[2], std::string("val track acc. %"));
        QVERIFY(experiments::format_json({rep}).find("\"statistic\": \"best-val\"") != std::string::npos);
    }

    void factorEffectJoinsSeedsAcrossLevels() {
        experiments::ReportOptions o;
        const auto e = experiments::factor_effect("extractor", grid(), o);
        QCOMPARE(e.levels.size(), size_t(2));
        QCOMPARE(e.levels[0].value, std::string("gafx-r"));
        QCOMPARE(e.levels[0].runs, (std::vector<int64_t>{3, 4, 5}));
        QVERIFY(near(e.levels[0].values[1], 66.0));
        QVERIFY(near(e.levels[0].stat.mean, 68.0));
        QCOMPARE(e.levels[0].stat.n, 3);
        QVERIFY(e.levels[0].stat.ci_low < 68.0 && e.levels[0].stat.ci_high > 68.0);
        // Seeds 0 and 1 ran at both levels; seed 2 only on gafx-r (run 6 has no val-selected epoch).
        QCOMPARE(e.paired.size(), size_t(2));
        const auto& seed0 = e.paired.at("seed=0 fold=-1");
        QVERIFY(near(seed0[0], 70.0) && near(seed0[1], 60.0));
        QCOMPARE(e.left_out.size(), size_t(1));
        QCOMPARE(e.left_out[0].run, int64_t(6));
        QVERIFY(test::error_of([&] { experiments::factor_effect("colour", grid(), o); }).contains("unknown factor"));
        // The statistic changes which runs count and their values.
        o.statistic = experiments::RunStatistic::Final;
        const auto f = experiments::factor_effect("extractor", grid(), o);
        QCOMPARE(f.levels[1].runs.size(), size_t(3));
        QCOMPARE(f.paired.size(), size_t(3));
    }

    void parallelCoordinatesAxesAndLines() {
        auto runs = grid();
        runs.push_back(rec(7, "mel", 0, 5e-3, 0.50, 0.50, 0.55)); // lr spans 100x: a log axis
        experiments::ReportOptions o;
        const auto p = experiments::parallel_coordinates(runs, o);
        QCOMPARE(p.axes.size(), size_t(3)); // extractor, lr, the statistic; not seed
        QCOMPARE(p.axes[0].name, std::string("extractor"));
        QVERIFY(!p.axes[0].numeric);
        QCOMPARE(p.axes[0].levels, (std::vector<std::string>{"gafx-r", "mel"}));
        QCOMPARE(p.axes[1].name, std::string("lr"));
        QVERIFY(p.axes[1].numeric && p.axes[1].log);
        QCOMPARE(p.axes[2].name, std::string("val-selected"));
        QVERIFY(near(p.axes[2].min, 50.0) && near(p.axes[2].max, 70.0));
        QCOMPARE(p.lines.size(), size_t(6)); // run 6 left out
        const auto line_of = [&](int64_t id) {
            for (const auto& l : p.lines)
                if (l.run == id) return l;
            return experiments::ParallelLine{};
        };
        QCOMPARE(line_of(3).position, (std::vector<double>{0.0, 0.0, 1.0}));
        QCOMPARE(line_of(7).position, (std::vector<double>{1.0, 1.0, 0.0}));
        QCOMPARE(line_of(7).values, (std::vector<std::string>{"mel", "0.005", "50.00"}));
        QVERIFY(near(line_of(1).position[2], 0.5));
        QCOMPARE(p.left_out.size(), size_t(1));
        // Nothing counted: no axes, no lines.
        const auto none = experiments::parallel_coordinates({grid()[5]}, o);
        QVERIFY(none.axes.empty() && none.lines.empty());
    }

    void varyingLevelsNameWhatSetsRunsApart() {
        // The explorer's run groups: the keys that differ, seed and fold left out, in config order.
        const std::string a = R"({"dataset": "tiny", "extractor": "mel", "lr": 0.0005, "seed": 0})";
        const std::string b = R"({"dataset": "tiny", "extractor": "gafx-a", "lr": 0.001, "seed": 0})";
        const std::string c = R"({"dataset": "tiny", "extractor": "mel", "lr": 0.0005, "seed": 2})";
        QCOMPARE(experiments::varying_levels({a, b, c}),
                 (std::vector<std::string>{"extractor=mel lr=0.0005", "extractor=gafx-a lr=0.001",
                                           "extractor=mel lr=0.0005"}));
        QCOMPARE(experiments::varying_levels({a, c}), (std::vector<std::string>{"", ""})); // seeds only
        const auto broken = experiments::varying_levels({a, "{not json", b});
        QCOMPARE(broken[1], std::string("(config unreadable)"));
        QCOMPARE(broken[0], std::string("extractor=mel lr=0.0005"));
    }
};

QTEST_APPLESS_MAIN(TestGridCompare)
#include "test_grid_compare.moc"
