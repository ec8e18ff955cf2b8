// Clip plans: 30 s -> 3 x 10 s, tracks a little short or long are padded or trimmed.
#include "core/error.h"
#include "data/clip_plan.h"

#include <QtTest>

using namespace gafx;

namespace {
data::Catalog with_durations(std::initializer_list<double> durations) {
    data::Catalog c;
    for (double d : durations) {
        data::Track t;
        t.duration = d;
        c.tracks.push_back(t);
    }
    return c;
}
} // namespace

class TestClipPlan : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void paperPlanTilesThirtySeconds() {
        const auto plan = data::make_clip_plan(with_durations({30.0}), data::ClipPlanOptions{});
        QCOMPARE(plan.tracks.size(), size_t(1));
        const auto& clips = plan.tracks[0].clips;
        QCOMPARE(clips.size(), size_t(3));
        QCOMPARE(clips[0].start_seconds, 0.0);
        QCOMPARE(clips[1].start_seconds, 10.0);
        QCOMPARE(clips[2].start_seconds, 20.0);
        QCOMPARE(clips[2].seconds, 10.0);
        QCOMPARE(plan.tracks[0].fit, data::Fit::Exact);
    }

    void shortAndLongTracksArePaddedOrTrimmed() {
        const auto plan = data::make_clip_plan(with_durations({29.93, 30.61, 30.0004}), data::ClipPlanOptions{});
        QCOMPARE(plan.tracks[0].fit, data::Fit::Padded);
        QVERIFY(qAbs(plan.tracks[0].adjust_seconds - 0.07) < 1e-9);
        QCOMPARE(plan.tracks[1].fit, data::Fit::Trimmed);
        QVERIFY(qAbs(plan.tracks[1].adjust_seconds + 0.61) < 1e-9);
        QCOMPARE(plan.tracks[2].fit, data::Fit::Exact);
    }

    void withoutAugmentationOneWholeInput() {
        const auto plan = data::make_clip_plan(with_durations({30.0}), data::ClipPlanOptions{30.0, 1, 30.0});
        QCOMPARE(plan.tracks[0].clips.size(), size_t(1));
        QCOMPARE(plan.tracks[0].clips[0].seconds, 30.0);
    }

    void shorterClipsAreSpreadEvenly() {
        const auto plan = data::make_clip_plan(with_durations({30.0}), data::ClipPlanOptions{30.0, 2, 5.0});
        const auto& clips = plan.tracks[0].clips;
        // 20 s of gaps in three equal parts.
        QVERIFY(qAbs(clips[0].start_seconds - 20.0 / 3) < 1e-9);
        QVERIFY(qAbs(clips[1].start_seconds - (2 * 20.0 / 3 + 5.0)) < 1e-9);
    }

    void skipsInvalidTracks() {
        data::Catalog c = with_durations({30.0, 30.0});
        c.tracks[0].status = data::TrackStatus::Invalid;
        const auto plan = data::make_clip_plan(c, data::ClipPlanOptions{});
        QCOMPARE(plan.tracks.size(), size_t(1));
        QCOMPARE(plan.tracks[0].track, size_t(1));
    }

    void rejectsClipsThatDoNotFit() {
        QVERIFY_THROWS_EXCEPTION(Error, data::make_clip_plan(with_durations({30.0}), data::ClipPlanOptions{30.0, 4, 10.0}));
        QVERIFY_THROWS_EXCEPTION(Error, data::make_clip_plan(with_durations({30.0}), data::ClipPlanOptions{30.0, 0, 10.0}));
    }
};

QTEST_GUILESS_MAIN(TestClipPlan)
#include "test_clip_plan.moc"
