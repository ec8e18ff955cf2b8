// Run analysis from hand-made records and predictions: mean ± sample std, bands, the track-level
// confusion matrix (clip probabilities averaged per track before the arg-max), and groups with
// the runs they leave out and why.
#include "experiments/experiment.h"
#include "experiments/run_analysis.h"
#include "store/run_store.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>

#include <cmath>
#include <limits>

using namespace gafx;
using experiments::LeftOutReason;
using store::RunRecord;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool near(double a, double b) { return std::abs(a - b) < 1e-9; }

RunRecord rec(int64_t id, const std::string& extractor, double track, double clip,
              store::RunStatus status = store::RunStatus::Finished, const std::string& dataset = "gtzan",
              double lr = 5e-5) {
    experiments::RunConfig c;
    c.dataset = dataset;
    c.extractor = extractor;
    c.lr = lr;
    c.seed = uint64_t(id);
    RunRecord r;
    r.id = id;
    r.config = experiments::to_json(c);
    r.seed = id;
    r.status = status;
    r.test_track_accuracy = track;
    r.test_accuracy = clip;
    return r;
}

// Three genres, four tracks with ids 11..14 (one class-less track 15).
data::Catalog genres() {
    data::Catalog c;
    c.name = "g";
    c.kind = "gtzan";
    c.classes = {{"blues", "Blues"}, {"jazz", ""}, {"rock", "Rock"}};
    const char* labels[] = {"blues", "blues", "jazz", "rock"};
    for (int i = 0; i < 4; ++i) {
        data::Track t;
        t.id = 11 + i;
        t.key = "t" + std::to_string(i);
        t.labels = {labels[i]};
        c.tracks.push_back(t);
    }
    data::Track unlabelled;
    unlabelled.id = 15;
    c.tracks.push_back(unlabelled);
    return c;
}

std::vector<std::string> reasons_of(const std::vector<experiments::LeftOut>& left, std::vector<int64_t>* ids) {
    std::vector<std::string> out;
    for (const auto& l : left) {
        out.push_back(experiments::to_string(l.reason));
        if (ids) ids->push_back(l.run);
    }
    return out;
}

} // namespace

class TestRunAnalysis : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void majorityBaselineScoresTheTrainingMajorityOnTest() {
        store::StoredDataset d;
        d.split_id = 1;
        d.catalog.classes = {{"a", "a"}, {"b", "b"}};
        // Train: 4 a, 2 b -> predict a. Test: 1 a, 2 b -> 1/3. Val and excluded play no part.
        const std::vector<std::pair<const char*, data::Subset>> tracks = {
            {"a", data::Subset::Train}, {"a", data::Subset::Train}, {"a", data::Subset::Train},
            {"a", data::Subset::Train}, {"b", data::Subset::Train}, {"b", data::Subset::Train},
            {"a", data::Subset::Test},  {"b", data::Subset::Test},  {"b", data::Subset::Test},
            {"b", data::Subset::Val},   {"b", data::Subset::Excluded}};
        for (const auto& [label, subset] : tracks) {
            data::Track t;
            t.labels = {label};
            d.catalog.tracks.push_back(t);
            d.split.subset.push_back(subset);
        }
        QVERIFY(near(experiments::majority_class_accuracy(d), 100.0 / 3.0));
        d.catalog.multi_label = true;
        QVERIFY(std::isnan(experiments::majority_class_accuracy(d)));
    }

    void meanAndSampleStdSkipNaN() {
        const auto s = experiments::mean_std({60, kNaN, 62, 64});
        QCOMPARE(s.n, 3);
        QVERIFY(near(s.mean, 62));
        QVERIFY(near(s.std, 2)); // sqrt((4 + 0 + 4) / 2)
        const auto one = experiments::mean_std({kNaN, 7});
        QCOMPARE(one.n, 1);
        QVERIFY(near(one.mean, 7));
        QVERIFY(std::isnan(one.std));
        QVERIFY(std::isnan(experiments::mean_std({}).mean));
    }

    void bandCountsTheSeriesAtEachEpoch() {
        const experiments::Series a{{1, 2, 3}, {0.2, 0.4, 0.6}}, b{{1, 2}, {0.4, kNaN}};
        const auto band = experiments::mean_band({&a, &b});
        QCOMPARE(band.x, (std::vector<double>{1, 2, 3}));
        QCOMPARE(band.n, (std::vector<int>{2, 1, 1}));
        QVERIFY(near(band.mean[0], 0.3));
        QVERIFY(near(band.std[0], std::sqrt(0.02)));
        QVERIFY(near(band.mean[1], 0.4));
        QVERIFY(std::isnan(band.std[1]));
    }

    void curvesFromMetricRows() {
        const std::vector<store::MetricRow> rows = {{10, 1, "train", "epoch_loss", 2.0},
                                                    {10, 1, "test", "track_accuracy", 0.5},
                                                    {10, 1, "test", "accuracy", 0.4},
                                                    {20, 2, "train", "epoch_loss", 1.5},
                                                    {20, 2, "test", "track_accuracy", 0.7}};
        const auto c = experiments::epoch_curves(rows);
        QCOMPARE(c.track_accuracy.x, (std::vector<double>{1, 2}));
        QCOMPARE(c.track_accuracy.y, (std::vector<double>{0.5, 0.7}));
        QCOMPARE(c.train_loss.y, (std::vector<double>{2.0, 1.5}));
    }

    void curvesAlongStepsAndTrainingTime() {
        // Epoch 1 ends at step 10 after 4 s of training, epoch 2 at step 20 after 6 s more.
        std::vector<store::MetricRow> rows;
        for (int step = 1; step <= 20; ++step) rows.push_back({step, step <= 10 ? 1 : 2, "train", "loss", 3.0 - 0.1 * step});
        rows.insert(rows.end(), {{10, 1, "train", "epoch_loss", 2.0},
                                 {10, 1, "test", "track_accuracy", 0.5},
                                 {10, 1, "time", "epoch_seconds", 4.0},
                                 {20, 2, "train", "epoch_loss", 1.5},
                                 {20, 2, "test", "track_accuracy", 0.7},
                                 {20, 2, "time", "epoch_seconds", 6.0}});
        std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.step < b.step; });
        const auto c = experiments::epoch_curves(rows);
        using experiments::CurveAxis;
        QCOMPARE(experiments::along(c.track_accuracy, c, CurveAxis::Epoch).x, (std::vector<double>{1, 2}));
        QCOMPARE(experiments::along(c.track_accuracy, c, CurveAxis::Step).x, (std::vector<double>{10, 20}));
        QCOMPARE(experiments::along(c.track_accuracy, c, CurveAxis::Seconds).x, (std::vector<double>{4, 10}));
        QCOMPARE(experiments::along(c.track_accuracy, c, CurveAxis::Seconds).y, (std::vector<double>{0.5, 0.7}));
        // The loss per step on the step axis, per epoch on the others.
        const auto per_step = experiments::train_loss_along(c, CurveAxis::Step);
        QCOMPARE(per_step.x.size(), size_t(20));
        QCOMPARE(per_step.x.back(), 20.0);
        QCOMPARE(experiments::train_loss_along(c, CurveAxis::Seconds).y, (std::vector<double>{2.0, 1.5}));
        // An epoch with no end recorded (a run stopped mid-epoch) is left off the other axes.
        experiments::Series partial = c.track_accuracy;
        partial.x.push_back(3);
        partial.y.push_back(0.9);
        QCOMPARE(experiments::along(partial, c, CurveAxis::Step).x.size(), size_t(2));
    }

    void emaSmoothingIsDebiased() {
        experiments::Series s{{1, 2, 3, 4}, {1.0, 1.0, std::nan(""), 3.0}};
        QCOMPARE(experiments::smooth_ema(s, 0).y[3], 3.0); // 0: unchanged
        const auto e = experiments::smooth_ema(s, 0.5);
        // Debiased: a constant start stays at its value instead of rising from zero.
        QCOMPARE(e.y[0], 1.0);
        QCOMPARE(e.y[1], 1.0);
        QVERIFY(std::isnan(e.y[2])); // passes through, not averaged in
        // last = 0.75 * 0.5 + 0.5 * 3 = 1.875, debiased by 1 - 0.5^3
        QVERIFY(std::fabs(e.y[3] - 1.875 / 0.875) < 1e-12);
        QCOMPARE(e.x, s.x);
    }

    void bandsOnTrainingTimeInterpolateEachRun() {
        // Two runs on their own clocks: one at 0, 10, 20 s, one at 0, 5, 30 s.
        const experiments::Series a{{0, 10, 20}, {0.0, 1.0, 2.0}}, b{{0, 5, 30}, {0.0, 1.0, 1.0}};
        const auto band = experiments::mean_band_along({&a, &b}, experiments::CurveAxis::Seconds, 7); // every 5 s
        QCOMPARE(band.x, (std::vector<double>{0, 5, 10, 15, 20, 25, 30}));
        QVERIFY(near(band.mean[1], (0.5 + 1.0) / 2)); // a interpolated at 5 s
        QVERIFY(near(band.mean[2], (1.0 + 1.0) / 2));
        QCOMPARE(band.n[4], 2);
        QCOMPARE(band.n[5], 1); // past a's last point only b counts
        QVERIFY(near(band.mean[5], 1.0));
        QVERIFY(std::isnan(band.std[5]));
        // On epochs and steps the x values are shared: the plain band.
        const auto epochs = experiments::mean_band_along({&a, &b}, experiments::CurveAxis::Epoch);
        QCOMPARE(epochs.x, (std::vector<double>{0, 5, 10, 20, 30}));
        QVERIFY(experiments::mean_band_along({}, experiments::CurveAxis::Seconds).x.empty());
    }

    void confusionAveragesClipsPerTrack() {
        const data::Catalog cat = genres();
        const std::vector<store::Prediction> p = {
            // Track 11 (blues): clip 0 says blues, clip 1 says jazz more strongly -> jazz.
            {11, 0, {0.6f, 0.4f, 0.0f}},
            {11, 1, {0.1f, 0.8f, 0.1f}},
            {12, 0, {0.9f, 0.1f, 0.0f}}, // blues -> blues
            {13, 0, {0.2f, 0.7f, 0.1f}}, // jazz -> jazz
            {14, 0, {0.5f, 0.0f, 0.5f}}, // rock: a tie goes to the first class -> blues
            {14, 1, {0.2f, 0.0f, 0.3f}}, // ... unless the mean breaks it -> rock
            {99, 0, {1.0f, 0.0f, 0.0f}}, // a track the dataset no longer holds
            {15, 0, {1.0f, 0.0f, 0.0f}}, // a track without a class
        };
        const auto c = experiments::confusion_matrix(cat, p, "db");
        QCOMPARE(c.classes, (std::vector<std::string>{"Blues", "jazz", "Rock"})); // id where no display name
        const std::vector<std::vector<int64_t>> want = {{1, 1, 0}, {0, 1, 0}, {0, 0, 1}};
        QCOMPARE(c.counts, want);
        QCOMPARE(c.tracks, int64_t(4));
        QVERIFY(near(c.track_accuracy, 0.75));
        QCOMPARE(c.unmatched, int64_t(2));
        // Each counted track once, with what a cell lists: the prediction, its mean probability,
        // every clip's probabilities.
        QCOMPARE(c.outcomes.size(), size_t(4));
        const auto jazz_for_blues = experiments::cell_tracks(c, 0, 1);
        QCOMPARE(jazz_for_blues.size(), size_t(1));
        QCOMPARE(jazz_for_blues[0]->track, int64_t(11));
        QCOMPARE(jazz_for_blues[0]->key, std::string("t0"));
        QVERIFY(std::fabs(jazz_for_blues[0]->confidence - (0.4 + 0.8) / 2) < 1e-6); // stored as floats
        QCOMPARE(jazz_for_blues[0]->clip_probabilities.size(), size_t(2));
        QCOMPARE(jazz_for_blues[0]->clip_probabilities[1][1], 0.8f);
        QCOMPARE(experiments::cell_tracks(c, 2, 2).front()->track, int64_t(14)); // the tie broken by the mean
        QVERIFY(experiments::cell_tracks(c, 2, 0).empty());
        // Every cell lists exactly its count.
        for (int t = 0; t < 3; ++t)
            for (int q = 0; q < 3; ++q)
                QCOMPARE(int64_t(experiments::cell_tracks(c, t, q).size()), c.counts[size_t(t)][size_t(q)]);
    }

    void cellTracksComeMostConfidentFirst() {
        const data::Catalog cat = genres();
        const auto c = experiments::confusion_matrix(
            cat, {{11, 0, {0.6f, 0.4f, 0.0f}}, {12, 0, {0.9f, 0.1f, 0.0f}}, {13, 0, {0.1f, 0.1f, 0.8f}}}, "db", 5);
        const auto blues = experiments::cell_tracks(c, 0, 0);
        QCOMPARE(blues.size(), size_t(2));
        QCOMPARE(blues[0]->track, int64_t(12));
        QCOMPARE(blues[1]->track, int64_t(11));
        QCOMPARE(blues[0]->run, int64_t(5));
        QCOMPARE(c.runs, std::vector<int64_t>{5});
    }

    void confusionRefusesWhatItCannotCount() {
        data::Catalog cat = genres();
        QVERIFY(test::error_of([&] { experiments::confusion_matrix(cat, {}, "db"); }).contains("no stored predictions"));
        QVERIFY(test::error_of([&] { experiments::confusion_matrix(cat, {{11, 0, {0.5f, 0.5f}}}, "db"); })
                    .contains("2 classes"));
        cat.multi_label = true;
        QVERIFY(test::error_of([&] { experiments::confusion_matrix(cat, {{11, 0, {1, 0, 0}}}, "db"); })
                    .contains("multi-label"));
    }

    void confusionOfAStoredRun() {
        QTemporaryDir dir;
        store::RunStore db((dir.path() + "/ws.db").toStdString());
        data::Catalog cat = genres();
        cat.tracks.pop_back();
        db.save_catalog(cat); // assigns the stored track ids
        experiments::RunConfig c;
        c.dataset = "g";
        const int64_t run = db.create_run(0, experiments::to_json(c), 0);
        db.append_metrics(run, {{10, 1, "val", "selection", 0.7}, {10, 1, "test", "track_accuracy", 0.9},
                                {20, 2, "val", "selection", 0.8}, {20, 2, "test", "track_accuracy", 0.5}});
        db.save_predictions(run, {{cat.tracks[0].id, 0, {0.1f, 0.9f, 0.f}}, {cat.tracks[2].id, 0, {0.f, 1.f, 0.f}}});
        const auto m = experiments::load_confusion(db, run);
        QCOMPARE(m.run, run);
        QCOMPARE(m.selected_epoch, int64_t(2));
        QCOMPARE(m.tracks, int64_t(2));
        QCOMPARE(m.counts[0][1], int64_t(1));
        QCOMPARE(m.counts[1][1], int64_t(1));
        QVERIFY(test::error_of([&] { experiments::load_confusion(db, run + 1); }).contains("no run"));
        QVERIFY(test::error_of([&] { experiments::load_curves(db.path(), {run + 1}); }).contains("no run"));

        // Two runs summed cell by cell, each track once per run.
        const int64_t second = db.create_run(0, experiments::to_json(c), 1);
        db.append_metrics(second, {{10, 1, "val", "selection", 0.7}, {10, 1, "test", "track_accuracy", 0.5}});
        db.save_predictions(second, {{cat.tracks[0].id, 0, {0.9f, 0.1f, 0.f}}, {cat.tracks[2].id, 0, {0.f, 1.f, 0.f}}});
        const auto both = experiments::load_confusion(db.path(), std::vector<int64_t>{run, second});
        QCOMPARE(both.runs, (std::vector<int64_t>{run, second}));
        QCOMPARE(both.tracks, int64_t(4));
        QCOMPARE(both.counts[0][0], int64_t(1));
        QCOMPARE(both.counts[0][1], int64_t(1));
        QCOMPARE(both.counts[1][1], int64_t(2));
        QVERIFY(near(both.track_accuracy, 0.75));
        const auto jazz = experiments::cell_tracks(both, 1, 1);
        QCOMPARE(jazz.size(), size_t(2));
        QVERIFY(jazz[0]->run != jazz[1]->run);
        // Runs on another dataset are not summed in.
        experiments::RunConfig other = c;
        other.dataset = "elsewhere";
        data::Catalog cat2 = genres();
        cat2.name = "elsewhere";
        cat2.root = "/elsewhere";
        db.save_catalog(cat2);
        const int64_t third = db.create_run(0, experiments::to_json(other), 0);
        db.append_metrics(third, {{10, 1, "val", "selection", 0.7}});
        db.save_predictions(third, {{cat2.tracks[0].id, 0, {0.9f, 0.1f, 0.f}}});
        QVERIFY(test::error_of([&] {
                    experiments::load_confusion(db.path(), std::vector<int64_t>{run, third});
                }).contains("different tracks"));
    }

    void groupsWithMeanStdAndTheRunsLeftOut() {
        std::vector<RunRecord> runs = {
            rec(1, "mel", 0.60, 0.50),
            rec(2, "mel", 0.62, 0.55),
            rec(3, "mel", 0.64, 0.60),
            rec(4, "mel", kNaN, kNaN, store::RunStatus::Diverged),
            rec(5, "mel", 0.90, 0.90, store::RunStatus::Interrupted),
            rec(6, "mel", kNaN, kNaN, store::RunStatus::Queued),
            rec(7, "gafx-r", 0.50, 0.40),
            rec(8, "gafx-r", 0.99, 0.99, store::RunStatus::Finished, "as"),
            rec(9, "mel", 0.1, 0.1),
        };
        runs.back().config = "{not json";
        experiments::ReportOptions o;
        o.pretraining_datasets = {"as"};
        const auto g = experiments::group_runs({"extractor"}, runs, o);
        QCOMPARE(g.groups.size(), size_t(2));
        const auto& r = g.groups[0]; // sorted: gafx-r before mel
        QCOMPARE(r.label, std::string("extractor=gafx-r"));
        QCOMPARE(r.stats.n, 1);
        QVERIFY(near(r.stats.track.mean, 50.0));
        QVERIFY(std::isnan(r.stats.track.std));
        const auto& mel = g.groups[1];
        QCOMPARE(mel.values, std::vector<std::string>{"mel"});
        QCOMPARE(mel.stats.n, 3);
        QCOMPARE(mel.stats.run_ids, (std::vector<int64_t>{1, 2, 3}));
        QVERIFY(near(mel.stats.track.mean, 62.0));
        QVERIFY(near(mel.stats.track.std, 2.0));
        QVERIFY(near(mel.stats.clip.mean, 55.0));
        QVERIFY(near(mel.stats.clip.std, 5.0));
        std::vector<int64_t> ids;
        QCOMPARE(reasons_of(mel.stats.left_out, &ids),
                 (std::vector<std::string>{"diverged", "unfinished", "not evaluated yet"}));
        QCOMPARE(ids, (std::vector<int64_t>{4, 5, 6}));
        QCOMPARE(mel.stats.left_out[1].detail, std::string("interrupted"));
        QCOMPARE(mel.stats.diverged(), 1);
        ids.clear();
        QCOMPARE(reasons_of(g.left_out, &ids),
                 (std::vector<std::string>{"pretraining (AudioSet dataset)", "config does not parse"}));
        QCOMPARE(ids, (std::vector<int64_t>{8, 9}));

        o.include_unfinished = true; // the interrupted run that evaluated counts now
        const auto all = experiments::group_runs({"extractor"}, runs, o);
        QCOMPARE(all.groups[1].stats.run_ids, (std::vector<int64_t>{1, 2, 3, 5}));
        QCOMPARE(all.groups[1].stats.unfinished_run_ids, std::vector<int64_t>{5});
        QCOMPARE(all.groups[1].stats.left_out.size(), size_t(2));
    }

    void groupsSortNumbersAsNumbersAndNameMixedFactors() {
        const std::vector<RunRecord> runs = {rec(1, "mel", 0.5, 0.5, store::RunStatus::Finished, "gtzan", 5e-4),
                                             rec(2, "mel", 0.6, 0.6, store::RunStatus::Finished, "gtzan", 5e-5),
                                             rec(3, "gafx-r", 0.7, 0.7, store::RunStatus::Finished, "gtzan", 5e-5)};
        const auto g = experiments::group_runs({"lr"}, runs, {});
        QCOMPARE(g.groups.size(), size_t(2));
        QCOMPARE(g.groups[0].label, std::string("lr=5e-05"));
        QCOMPARE(g.groups[0].stats.mixed, std::vector<std::string>{"extractor"});
        QVERIFY(g.groups[1].stats.mixed.empty());
        QVERIFY(test::error_of([&] { experiments::group_runs({"colour"}, runs, {}); }).contains("colour"));
    }
};

QTEST_GUILESS_MAIN(TestRunAnalysis)
#include "test_run_analysis.moc"
