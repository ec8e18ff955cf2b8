// Per-track embeddings of a trained run (train/embeddings.h) on the tiny demo workspace: one row
// per track of the asked side, `features` is the time-mean of the map the Inspector shows, `pooled`
// is what the head classifies and repeats itself, and the predicted class is the one the run's
// stored test predictions give.
#include "core/npy.h"
#include "data/csv.h"
#include "store/run_store.h"
#include "test_support.h"
#include "train/embeddings.h"
#include "train/feature_maps.h"
#include "train/run_model.h"
#include "train/trainer.h"

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <map>

using namespace gafx;

namespace {

const std::string kConfig = R"({"dataset": "tiny", "extractor": "mel", "classifier": "ast-tiny", "preset": "small",
    "track_seconds": 4, "clips_per_track": 2, "clip_seconds": 1.5, "epochs": 1, "batch_size": 8, "lr": 0.0005,
    "warmup_steps": 5, "lr_halving_epochs": [2], "precision": "fp32", "seed": 3})";

} // namespace

class TestEmbeddings : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string db_;
    int64_t run_ = 0;
    train::Embeddings pooled_;

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        db_ = test::make_demo_workspace(dir_.path(), 5, 4.0);
        store::RunStore s(db_);
        run_ = s.create_run(0, kConfig, 3);
        train::TrainOptions o;
        o.threads = 1;
        train::TrainControl control;
        const auto r = train::train_run(s, run_, o, control);
        QVERIFY2(r.status == store::RunStatus::Finished, r.message.c_str());
    }

    void oneRowPerTrackOfTheSplit() {
        store::RunStore s(db_);
        const train::EmbeddingJob job = train::embedding_job(s, run_);
        const auto ds = s.load_dataset("tiny");
        const int64_t used = ds->split.count(data::Subset::Train) + ds->split.count(data::Subset::Val) +
                             ds->split.count(data::Subset::Test);
        QCOMPARE(int64_t(job.tracks.size()), used);
        QVERIFY(job.skipped.empty());
        int64_t progress_calls = 0;
        Feedback fb([&](int64_t done, int64_t total, const std::string&) {
            QCOMPARE(total, used);
            QCOMPARE(done, ++progress_calls);
        });
        pooled_ = train::compute_embeddings(job, train::EmbeddingKind::Pooled, &fb);
        QCOMPARE(progress_calls, used);
        QCOMPARE(pooled_.rows(), used);
        QCOMPARE(pooled_.dim, int64_t(192)); // ast-tiny's width
        QCOMPARE(int64_t(pooled_.matrix.size()), used * 192);
        QCOMPARE(pooled_.class_names.size(), size_t(10));
        for (int64_t r = 0; r < used; ++r) {
            const data::Track& t = job.tracks[size_t(r)];
            QCOMPARE(pooled_.track_ids[size_t(r)], t.id);
            QCOMPARE(pooled_.track_keys[size_t(r)], t.key);
            QCOMPARE(pooled_.true_class[size_t(r)], ds->catalog.class_index(t.labels.at(0)));
            QVERIFY(pooled_.predicted_class[size_t(r)] >= 0 && pooled_.predicted_class[size_t(r)] < 10);
        }
        for (float v : pooled_.matrix) QVERIFY(std::isfinite(v));

        const train::EmbeddingJob test = train::embedding_job(s, run_, data::Subset::Test);
        QCOMPARE(int64_t(test.tracks.size()), ds->split.count(data::Subset::Test));
        for (auto side : test.subsets) QCOMPARE(side, data::Subset::Test);
    }

    void pooledIsWhatTheHeadClassifiesAndRepeats() {
        store::RunStore s(db_);
        const train::EmbeddingJob job = train::embedding_job(s, run_);
        const train::Embeddings again = train::compute_embeddings(job, train::EmbeddingKind::Pooled, nullptr, 1);
        QCOMPARE(again.matrix, pooled_.matrix);
        QCOMPARE(again.predicted_class, pooled_.predicted_class);

        // forward() is the head over pooled(), bit for bit.
        train::RunModel m = train::load_run_model(job.config, 10, false, job.weights);
        torch::NoGradGuard no_grad;
        const torch::Tensor f = torch::randn({2, m.model->classifier->config().frames, 128});
        const torch::Tensor pooled = m.model->classifier->pooled(f);
        QCOMPARE(pooled.sizes().vec(), (std::vector<int64_t>{2, 192}));
        QVERIFY(torch::equal(m.model->classifier->mlp_head->forward(pooled), m.model->classifier->forward(f)));
    }

    void featuresAreTheMapsTimeMean() {
        store::RunStore s(db_);
        train::EmbeddingJob job = train::embedding_job(s, run_, data::Subset::Test);
        job.tracks.resize(3);
        job.subsets.resize(3);
        job.true_class.resize(3);
        const train::Embeddings e = train::compute_embeddings(job, train::EmbeddingKind::Features);
        QCOMPARE(e.rows(), int64_t(3));
        QCOMPARE(e.dim, int64_t(128));
        train::RunModel m = train::load_run_model(job.config, 10, false, job.weights);
        for (size_t r = 0; r < 3; ++r) {
            const train::TrackFeatures t = train::track_features(m, job.tracks[r]);
            const int64_t frames = int64_t(t.clips.size()) * t.frames_per_clip;
            for (int64_t b = 0; b < 128; ++b) {
                double sum = 0;
                for (int64_t i = 0; i < frames; ++i) sum += t.features[size_t(i * 128 + b)];
                const double want = sum / double(frames), got = e.matrix[r * 128 + size_t(b)];
                QVERIFY2(std::abs(got - want) < 1e-4 * (1 + std::abs(want)),
                         qPrintable(QStringLiteral("track %1 bin %2: %3 vs %4").arg(r).arg(b).arg(got).arg(want)));
            }
            // The prediction is the clips' averaged one, as the Inspector shows it.
            std::vector<double> p(10, 0.0);
            for (size_t c = 0; c < t.clips.size(); ++c)
                for (size_t k = 0; k < 10; ++k) p[k] += t.probabilities[c * 10 + k];
            QCOMPARE(e.predicted_class[r], int(std::max_element(p.begin(), p.end()) - p.begin()));
        }
    }

    void predictionsMatchTheStoredOnes() {
        store::RunStore s(db_);
        std::map<int64_t, std::vector<double>> sums;
        for (const auto& p : s.predictions(run_)) {
            auto& sum = sums[p.track_id];
            sum.resize(p.probabilities.size(), 0.0);
            for (size_t k = 0; k < p.probabilities.size(); ++k) sum[k] += p.probabilities[k];
        }
        QVERIFY(!sums.empty());
        int64_t checked = 0;
        for (int64_t r = 0; r < pooled_.rows(); ++r) {
            if (pooled_.subsets[size_t(r)] != data::Subset::Test) continue;
            // Evaluation batched the clips otherwise: equal up to float rounding, so a class
            // within rounding of the stored arg-max (a near tie after one epoch) counts too.
            const auto& sum = sums.at(pooled_.track_ids[size_t(r)]);
            const double best = *std::max_element(sum.begin(), sum.end());
            QVERIFY(sum.at(size_t(pooled_.predicted_class[size_t(r)])) >= best - 1e-5);
            ++checked;
        }
        QCOMPARE(checked, int64_t(sums.size()));
    }

    void cancelStopsBetweenTracks() {
        store::RunStore s(db_);
        const train::EmbeddingJob job = train::embedding_job(s, run_);
        int64_t last = 0;
        Feedback* self = nullptr;
        Feedback fb([&](int64_t done, int64_t, const std::string&) {
            last = done;
            if (done == 2) self->cancel();
        });
        self = &fb;
        bool cancelled = false;
        try {
            train::compute_embeddings(job, train::EmbeddingKind::Features, &fb);
        } catch (const Cancelled&) {
            cancelled = true;
        }
        QVERIFY(cancelled);
        QCOMPARE(last, int64_t(2));
    }

    void aRunWithoutWeightsOrUnknownIsAnError() {
        store::RunStore s(db_);
        QVERIFY(test::error_of([&] { train::embedding_job(s, 999); }).contains(QStringLiteral("no run 999")));
        const int64_t queued = s.create_run(0, kConfig, 4);
        const train::EmbeddingJob job = train::embedding_job(s, queued);
        const QString e = test::error_of([&] { train::compute_embeddings(job, train::EmbeddingKind::Pooled); });
        QVERIFY2(e.contains(QStringLiteral("no best weights")), qPrintable(e));
        QCOMPARE(train::parse_embedding_kind("features"), std::optional(train::EmbeddingKind::Features));
        QVERIFY(!train::parse_embedding_kind("mean"));
    }

    void writesTheMatrixAndItsTracks() {
        const std::string npy = dir_.path().toStdString() + "/emb.npy";
        QCOMPARE(train::tracks_csv_path(npy), dir_.path().toStdString() + "/emb.tracks.csv");
        QCOMPARE(train::tracks_csv_path("out"), std::string("out.tracks.csv"));
        train::write_embeddings(pooled_, npy, train::tracks_csv_path(npy));
        const NpyArray a = read_npy_f32(npy);
        QCOMPARE(a.shape, (std::vector<int64_t>{pooled_.rows(), 192}));
        QCOMPARE(a.data, pooled_.matrix);
    }

    void severalRunsStackInOneFile() {
        // The explorer's panels exported together: rows stacked in order, each naming its run.
        train::Embeddings other = pooled_;
        other.run = pooled_.run + 100;
        for (float& v : other.matrix) v = -v;
        const std::string npy = dir_.path().toStdString() + "/two.npy", csv = train::tracks_csv_path(npy);
        train::write_embeddings(std::vector<const train::Embeddings*>{&pooled_, &other}, npy, csv);
        const NpyArray a = read_npy_f32(npy);
        QCOMPARE(a.shape, (std::vector<int64_t>{2 * pooled_.rows(), 192}));
        QCOMPARE(std::vector<float>(a.data.begin(), a.data.begin() + long(pooled_.matrix.size())), pooled_.matrix);
        QCOMPARE(a.data.back(), other.matrix.back());
        const auto rows = data::read_csv(csv);
        QCOMPARE(int64_t(rows.size()), 2 * pooled_.rows() + 1);
        QCOMPARE(rows[1].fields.at(1), std::to_string(pooled_.run));
        QCOMPARE(rows.back().fields.at(0), std::to_string(2 * pooled_.rows() - 1));
        QCOMPARE(rows.back().fields.at(1), std::to_string(other.run));
        QCOMPARE(rows.back().fields.at(2), std::to_string(other.track_ids.back()));
        // Each layout in its own run's coordinates.
        std::vector<float> xy1(size_t(2 * pooled_.rows()), 1.5f), xy2(size_t(2 * other.rows()), -2.0f);
        const std::string layout = dir_.path().toStdString() + "/two.csv";
        train::write_layout_csv({&pooled_, &other}, {&xy1, &xy2}, layout);
        const auto l = data::read_csv(layout);
        QCOMPARE(l[1].fields.at(4), std::string("1.5"));
        QCOMPARE(l.back().fields.at(5), std::string("-2"));
        // Matrices of different widths cannot share one .npy: the error names the file and both.
        train::Embeddings narrow = other;
        narrow.dim = 128;
        narrow.matrix.resize(size_t(narrow.rows() * 128));
        const QString e = test::error_of(
            [&] { train::write_embeddings(std::vector<const train::Embeddings*>{&pooled_, &narrow}, npy, csv); });
        QVERIFY2(e.contains(QString::fromStdString(npy)) && e.contains(QStringLiteral("192")) &&
                     e.contains(QStringLiteral("128")),
                 qPrintable(e));
        QCOMPARE(read_npy_f32(npy).shape[0], 2 * pooled_.rows()); // the file written before is whole
    }
};

QTEST_GUILESS_MAIN(TestEmbeddings)
#include "test_embeddings.moc"
