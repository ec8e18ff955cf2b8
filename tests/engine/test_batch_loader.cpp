// BatchLoader: every clip once per epoch, an order fixed by (seed, epoch) alone, resumable
// mid-epoch, exact cuts with silent padding, target layouts, and errors that name the file.
#include "core/error.h"
#include "core/rng.h"
#include "data/batch_loader.h"
#include "data/waveform_cache.h"
#include "test_support.h"

#include <ATen/Context.h>

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <numeric>
#include <set>

using namespace gafx;
using namespace gafx::data;

namespace {

constexpr int kRate = 8000;
constexpr int kTracks = 7;

// Distinct, non-periodic content per track, so a wrong file or a wrong offset shows.
audio::Waveform ramp(int track) {
    audio::Waveform w;
    w.sample_rate = kRate;
    w.channels = 1;
    w.frames = kRate; // 1 s
    w.samples.resize(size_t(w.frames));
    for (int64_t i = 0; i < w.frames; ++i)
        w.samples[size_t(i)] = float(((i * (track + 3)) % 7919) / 7919.0 - 0.5) * 0.9f;
    return w;
}

using Key = std::pair<int64_t, int>;
std::vector<Key> keys(BatchLoader& loader) {
    std::vector<Key> out;
    while (auto b = loader.next())
        for (size_t i = 0; i < b->track_ids.size(); ++i) out.emplace_back(b->track_ids[i], b->clips[i]);
    return out;
}

} // namespace

class TestBatchLoader : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;
    std::vector<LoadItem> items_; // per track: clip 0 [0, 0.5 s), clip 1 [0.75, 1.25 s) past the end

    LoaderOptions opts(int threads = 2, uint64_t seed = 7) const {
        LoaderOptions o;
        o.batch_size = 4;
        o.threads = threads;
        o.sample_rate = kRate;
        o.seed = seed;
        o.num_classes = 4;
        return o;
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(tmp_.isValid());
        for (int t = 0; t < kTracks; ++t) {
            const QString p = tmp_.filePath(QString("t%1.wav").arg(t));
            test::write_audio(p, ramp(t));
            items_.push_back({p.toStdString(), 100 + t, 0, 0.0, 0.5, {t % 3}});
            items_.push_back({p.toStdString(), 100 + t, 1, 0.75, 0.5, {t % 3, 3}});
        }
    }

    void everyItemOncePerEpoch() {
        BatchLoader loader(items_, opts(), nullptr);
        QCOMPARE(loader.batches_per_epoch(), int64_t(4));
        QVERIFY(!loader.next()); // nothing before start_epoch
        loader.start_epoch(0);
        std::vector<Key> seen;
        int64_t expect_index = 0;
        while (auto b = loader.next()) {
            QCOMPARE(b->index, expect_index++);
            QCOMPARE(b->audio.size(0), int64_t(b->track_ids.size()));
            for (size_t i = 0; i < b->track_ids.size(); ++i) seen.emplace_back(b->track_ids[i], b->clips[i]);
        }
        QCOMPARE(expect_index, int64_t(4));
        QCOMPARE(int(seen.size()), int(items_.size()));
        QCOMPARE(int(std::set<Key>(seen.begin(), seen.end()).size()), int(items_.size()));
        QVERIFY(loader.wait_seconds() >= 0);

        auto o = opts();
        o.drop_last = true;
        BatchLoader dropping(items_, o, nullptr);
        QCOMPARE(dropping.batches_per_epoch(), int64_t(3));
        dropping.start_epoch(0);
        QCOMPARE(int(keys(dropping).size()), 12);
    }

    // pin_memory builds batches in pinned memory where this libtorch has CUDA, and is ignored
    // where it has none (pinning would throw there); the batches hold the same either way.
    void pinnedBatchesHoldTheSame() {
        auto o = opts();
        o.pin_memory = true;
        BatchLoader pinned(items_, o, nullptr), plain(items_, opts(), nullptr);
        pinned.start_epoch(1);
        plain.start_epoch(1);
        int batches = 0;
        while (auto a = pinned.next()) {
            const auto b = plain.next();
            QVERIFY(b);
            QVERIFY(torch::equal(a->audio, b->audio));
            QVERIFY(torch::equal(a->targets, b->targets));
            QCOMPARE(a->audio.is_pinned(), at::globalContext().hasCUDA());
            QCOMPARE(a->targets.is_pinned(), at::globalContext().hasCUDA());
            ++batches;
        }
        QVERIFY(!plain.next());
        QCOMPARE(batches, 4);
    }

    void orderDependsOnlyOnSeedAndEpoch() {
        BatchLoader one(items_, opts(1), nullptr), three(items_, opts(3), nullptr);
        one.start_epoch(2);
        three.start_epoch(2);
        const auto a = keys(one), b = keys(three);
        QCOMPARE(a, b);

        // Exactly gafx::Rng's shuffle of the item indices, so other tools can reproduce it.
        std::vector<size_t> order(items_.size());
        std::iota(order.begin(), order.end(), size_t(0));
        Rng(mix_seed(7, 2)).shuffle(order);
        for (size_t i = 0; i < order.size(); ++i) {
            QCOMPARE(a[i].first, items_[order[i]].track_id);
            QCOMPARE(a[i].second, items_[order[i]].clip);
        }

        three.start_epoch(3);
        QVERIFY(keys(three) != a);
        BatchLoader other_seed(items_, opts(2, 8), nullptr);
        other_seed.start_epoch(2);
        QVERIFY(keys(other_seed) != a);

        auto o = opts();
        o.shuffle = false;
        BatchLoader plain(items_, o, nullptr);
        plain.start_epoch(5);
        const auto p = keys(plain);
        for (size_t i = 0; i < items_.size(); ++i) QCOMPARE(p[i], Key(items_[i].track_id, items_[i].clip));
    }

    // Data parallelism: rank r of W gets the r-th slice of each global batch, so the ranks
    // together see exactly one process's batches; a short last batch leaves a rank empty.
    void ranksSliceTheGlobalBatches() {
        for (const int world : {2, 3, 4, 5}) {
            BatchLoader whole(items_, opts(), nullptr);
            whole.start_epoch(1);
            std::vector<Batch> global;
            while (auto b = whole.next()) global.push_back(std::move(*b));
            std::vector<std::unique_ptr<BatchLoader>> ranks;
            for (int r = 0; r < world; ++r) {
                auto o = opts();
                o.rank = r;
                o.world = world;
                ranks.push_back(std::make_unique<BatchLoader>(items_, o, nullptr));
                QCOMPARE(ranks.back()->batches_per_epoch(), whole.batches_per_epoch());
                ranks.back()->start_epoch(1);
            }
            for (const Batch& g : global) {
                std::vector<Key> joined;
                std::vector<int64_t> positions;
                for (int r = 0; r < world; ++r) {
                    const auto b = ranks[size_t(r)]->next();
                    QVERIFY(b);
                    QCOMPARE(b->index, g.index);
                    QCOMPARE(b->global_size, g.audio.size(0));
                    QCOMPARE(b->audio.size(0), int64_t(b->track_ids.size()));
                    for (size_t i = 0; i < b->track_ids.size(); ++i) joined.emplace_back(b->track_ids[i], b->clips[i]);
                    positions.insert(positions.end(), b->positions.begin(), b->positions.end());
                    if (b->audio.size(0) > 0)
                        QVERIFY(at::equal(b->audio, g.audio.narrow(0, positions.size() - b->track_ids.size(),
                                                                       b->audio.size(0))));
                }
                std::vector<Key> expected;
                for (size_t i = 0; i < g.track_ids.size(); ++i) expected.emplace_back(g.track_ids[i], g.clips[i]);
                QCOMPARE(joined, expected);
                QCOMPARE(positions, g.positions);
            }
            for (auto& r : ranks) QVERIFY(!r->next());
        }
        auto o = opts();
        o.rank = 2;
        o.world = 2;
        QVERIFY_THROWS_EXCEPTION(Error, BatchLoader(items_, o, nullptr));
    }

    void resumeContinuesTheSameEpoch() {
        BatchLoader loader(items_, opts(3), nullptr);
        loader.start_epoch(4);
        std::vector<Batch> full;
        while (auto b = loader.next()) full.push_back(*b);
        loader.start_epoch(4, 2);
        std::vector<Batch> tail;
        while (auto b = loader.next()) tail.push_back(*b);
        QCOMPARE(int(tail.size()), 2);
        for (size_t i = 0; i < tail.size(); ++i) {
            QCOMPARE(tail[i].index, full[i + 2].index);
            QCOMPARE(tail[i].track_ids, full[i + 2].track_ids);
            QCOMPARE(tail[i].clips, full[i + 2].clips);
            QVERIFY(tail[i].audio.equal(full[i + 2].audio));
        }
        // Restarting mid-stream discards what was prefetched for the abandoned epoch.
        loader.start_epoch(4);
        QVERIFY(loader.next()->track_ids == full[0].track_ids);
        loader.start_epoch(4, 99);
        QVERIFY(!loader.next());
    }

    void cutsAreExactAndPaddedWithSilence() {
        auto o = opts();
        o.shuffle = false;
        o.batch_size = 2; // one track per batch: clip 0 then clip 1
        BatchLoader loader(items_, o, nullptr);
        loader.start_epoch(0);
        for (int t = 0; t < kTracks; ++t) {
            const auto b = loader.next();
            QVERIFY(b);
            QCOMPARE(b->audio.scalar_type(), at::kFloat);
            QCOMPARE(b->audio.sizes().vec(), std::vector<int64_t>({2, 1, 4000}));
            const auto ref = audio::decode(items_[size_t(2 * t)].path, kRate, audio::ChannelMode::Mono);
            const auto a = b->audio.accessor<float, 3>();
            for (int64_t i = 0; i < 4000; ++i) QCOMPARE(a[0][0][i], ref.samples[size_t(i)]);
            for (int64_t i = 0; i < 2000; ++i) QCOMPARE(a[1][0][i], ref.samples[size_t(6000 + i)]);
            for (int64_t i = 2000; i < 4000; ++i) QCOMPARE(a[1][0][i], 0.0f);
            QVERIFY(a[1][0][0] != ref.samples[0]); // the offset matters for this content
        }
    }

    void stereoAndCachedLoadsMatch() {
        auto o = opts();
        o.channels = audio::ChannelMode::Stereo;
        BatchLoader direct(items_, o, nullptr);
        WaveformCache cache(tmp_.filePath("cache").toStdString());
        BatchLoader cached(items_, o, &cache);
        for (int epoch = 0; epoch < 2; ++epoch) {
            direct.start_epoch(epoch);
            cached.start_epoch(epoch);
            while (auto a = direct.next()) {
                auto b = cached.next();
                QVERIFY(b);
                QCOMPARE(a->audio.size(1), int64_t(2));
                QVERIFY(a->audio.equal(b->audio));
            }
            QVERIFY(!cached.next());
        }
        QCOMPARE(cache.stats().misses, int64_t(kTracks)); // one decode per track, ever
        QCOMPARE(cache.stats().hits, int64_t(4 * kTracks - kTracks));
    }

    // A fixed front end (here: frames of 100 samples, their mean and energy) run in the loader:
    // the batch holds exactly what it gives for the plain loader's clips; with a cache each clip
    // is computed once, and other settings (another key) or a random crop are computed anew.
    void frontEndRunsInTheLoaderAndIsKeptByTheCache() {
        std::atomic<int> calls{0};
        auto front_end = [&calls](const torch::Tensor& clip) {
            calls++;
            const auto frames = clip.select(0, 0).narrow(0, 0, clip.size(1) / 100 * 100).view({-1, 100});
            return at::stack({frames.mean(1), frames.square().mean(1)}, 1);
        };
        auto o = opts();
        BatchLoader plain(items_, o, nullptr);
        o.front_end = front_end;
        o.front_end_key = "test front end v1";
        WaveformCache cache(tmp_.filePath("features").toStdString());
        BatchLoader cached(items_, o, &cache);
        for (int epoch = 0; epoch < 2; ++epoch) {
            plain.start_epoch(epoch);
            cached.start_epoch(epoch);
            while (auto a = plain.next()) {
                auto b = cached.next();
                QVERIFY(b);
                QCOMPARE(b->audio.sizes().vec(), std::vector<int64_t>({a->audio.size(0), 40, 2}));
                std::vector<torch::Tensor> want;
                for (int64_t i = 0; i < a->audio.size(0); ++i) want.push_back(front_end(a->audio[i]));
                QVERIFY(b->audio.equal(at::stack(want)));
                QCOMPARE(b->track_ids, a->track_ids);
            }
        }
        QCOMPARE(cache.feature_stats().misses, int64_t(items_.size())); // each clip once, ever
        QCOMPARE(cache.feature_stats().hits, int64_t(items_.size()));

        o.front_end_key = "test front end v2";
        BatchLoader changed(items_, o, &cache);
        changed.start_epoch(0);
        while (changed.next()) {
        }
        QCOMPARE(cache.feature_stats().misses, int64_t(2 * items_.size()));

        o.crop_within_seconds = 1.0;
        BatchLoader cropped(items_, o, &cache);
        const int before = calls.load();
        cropped.start_epoch(0);
        while (cropped.next()) {
        }
        QCOMPARE(cache.feature_stats().misses + cache.feature_stats().hits, int64_t(3 * items_.size())); // not looked up
        QCOMPARE(calls.load() - before, int(items_.size()));
    }

    void frontEndNeedsAFixedRate() {
        auto o = opts();
        o.sample_rate = 0;
        o.front_end = [](const torch::Tensor& clip) { return clip; };
        QVERIFY(!test::error_of([&] { BatchLoader l(items_, o, nullptr); }).isEmpty());
    }

    void targetLayouts() {
        auto o = opts();
        o.shuffle = false;
        BatchLoader single(items_, o, nullptr);
        single.start_epoch(0);
        auto b = single.next();
        QCOMPARE(b->targets.scalar_type(), at::kLong);
        QCOMPARE(b->targets.sizes().vec(), std::vector<int64_t>({4}));
        for (int i = 0; i < 4; ++i) QCOMPARE(b->targets[i].item<int64_t>(), int64_t(items_[size_t(i)].labels[0]));

        o.multi_label = true;
        BatchLoader multi(items_, o, nullptr);
        multi.start_epoch(0);
        b = multi.next();
        QCOMPARE(b->targets.scalar_type(), at::kFloat);
        QCOMPARE(b->targets.sizes().vec(), std::vector<int64_t>({4, 4}));
        for (int i = 0; i < 4; ++i)
            for (int k = 0; k < 4; ++k) {
                const auto& l = items_[size_t(i)].labels;
                const float want = std::find(l.begin(), l.end(), k) != l.end() ? 1.0f : 0.0f;
                QCOMPARE(b->targets[i][k].item<float>(), want);
            }

        o.num_classes = 0;
        QVERIFY_THROWS_EXCEPTION(Error, (void)BatchLoader(items_, o, nullptr));
    }

    void loadErrorsNameTheFile() {
        auto items = items_;
        const std::string bad = tmp_.filePath("missing/nope.wav").toStdString();
        items[5].path = bad;
        for (WaveformCache* cache : {static_cast<WaveformCache*>(nullptr), new WaveformCache(tmp_.filePath("c2").toStdString())}) {
            std::unique_ptr<WaveformCache> owner(cache);
            BatchLoader loader(items, opts(3), cache);
            loader.start_epoch(1);
            bool thrown = false;
            try {
                while (loader.next()) {}
            } catch (const Error& e) {
                thrown = true;
                QCOMPARE(QString::fromStdString(e.path()), QString::fromStdString(bad));
            }
            QVERIFY(thrown);
        } // destroyed with workers possibly mid-batch: must not hang
    }

    void itemsFromCatalogAndPlan() {
        Catalog cat;
        cat.name = "demo";
        cat.classes = {{"blues", "blues"}, {"jazz", "jazz"}, {"rock", "rock"}};
        for (int i = 0; i < 4; ++i) {
            Track t;
            t.id = 10 + i;
            t.path = "/data/t" + std::to_string(i) + ".wav";
            t.labels = {i % 2 ? "jazz" : "rock"};
            cat.tracks.push_back(t);
        }
        ClipPlan plan;
        for (size_t i : {0, 1, 3}) { // track 2 is not in the plan (invalid)
            TrackPlan tp;
            tp.track = i;
            tp.clips = {{0, 0.0, 10.0}, {1, 10.0, 10.0}, {2, 20.0, 10.0}};
            plan.tracks.push_back(tp);
        }
        const auto items = make_load_items(cat, plan, {3, 2, 0});
        QCOMPARE(int(items.size()), 6);
        QCOMPARE(items[0].path, std::string("/data/t3.wav"));
        QCOMPARE(items[0].track_id, int64_t(13));
        QCOMPARE(items[0].labels, std::vector<int>({1}));
        QCOMPARE(items[2].clip, 2);
        QCOMPARE(items[2].start_seconds, 20.0);
        QCOMPARE(items[3].track_id, int64_t(10));
        QCOMPARE(items[3].labels, std::vector<int>({2}));

        cat.tracks[0].labels = {"polka"};
        try {
            make_load_items(cat, plan, {0});
            QFAIL("an unknown label was accepted");
        } catch (const Error& e) {
            QCOMPARE(QString::fromStdString(e.path()), QString("/data/t0.wav"));
        }
    }

    void randomCropMovesClipsEachEpochAndRepeatsPerSeed() {
        // A track whose every sample says its own time: a clip's first sample is where it starts.
        audio::Waveform w;
        w.sample_rate = kRate;
        w.channels = 1;
        w.frames = kRate; // 1 s
        for (int64_t i = 0; i < w.frames; ++i) w.samples.push_back(0.9f * float(i) / float(w.frames));
        const QString p = tmp_.filePath("clock.wav");
        test::write_audio(p, w);
        std::vector<LoadItem> items;
        for (int k = 0; k < 8; ++k) items.push_back({p.toStdString(), k, 0, 0.0, 0.25, {0}});
        const auto starts = [&](double crop, uint64_t seed, int epoch) {
            LoaderOptions o = opts(2, seed);
            o.crop_within_seconds = crop;
            BatchLoader loader(items, o, nullptr);
            loader.start_epoch(epoch);
            std::map<int64_t, double> out; // by item, whatever the shuffle
            while (auto b = loader.next())
                for (int64_t i = 0; i < b->audio.size(0); ++i)
                    out[b->track_ids[size_t(i)]] = b->audio[i][0][0].item<float>() / 0.9;
            return out;
        };
        const auto tiles = starts(0, 7, 0);
        for (const auto& [k, s] : tiles) QVERIFY2(std::abs(s) < 1e-3, qPrintable(QString::number(s)));
        const auto e0 = starts(1.0, 7, 0), e1 = starts(1.0, 7, 1);
        QCOMPARE(e0.size(), size_t(8));
        std::set<long> distinct;
        int moved = 0;
        for (const auto& [k, s] : e0) {
            QVERIFY2(s >= 0 && s <= 0.75 + 1e-3, qPrintable(QString::number(s))); // the clip stays in the track
            distinct.insert(std::lround(s * 1000));
            moved += std::abs(s - e1.at(k)) > 1e-3;
        }
        QVERIFY(distinct.size() >= 6); // items crop at their own places
        QVERIFY(moved >= 6);           // and elsewhere the next epoch
        QCOMPARE(starts(1.0, 7, 1), e1); // a function of (seed, epoch, item): resumes crop the same
        QVERIFY(starts(1.0, 8, 1) != e1);
    }
};

QTEST_GUILESS_MAIN(TestBatchLoader)
#include "test_batch_loader.moc"
