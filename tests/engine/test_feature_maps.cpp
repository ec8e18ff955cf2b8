// A run's feature map of a track through the engine's cache beside the run: the second call reads
// the cache; other weights (even with an older date), another config or other audio make it stale;
// a truncated, altered or unreadable cache file is recomputed; .npy sizes are checked against the
// file before anything is allocated.
#include "core/npy.h"
#include "store/run_paths.h"
#include "store/run_store.h"
#include "test_support.h"
#include "train/feature_maps.h"
#include "train/trainer.h"

#include <QTemporaryDir>
#include <QtTest>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

using namespace gafx;
namespace fs = std::filesystem;

namespace {

std::string config(int seed) {
    return R"({"dataset": "tiny", "extractor": "mel", "classifier": "ast-tiny", "preset": "small",
               "track_seconds": 4, "clips_per_track": 2, "clip_seconds": 1.5, "epochs": 1, "batch_size": 8,
               "lr": 0.0005, "warmup_steps": 5, "lr_halving_epochs": [2], "precision": "fp32", "seed": )" +
           std::to_string(seed) + "}";
}

// Kaldi fbank frames at 22050 Hz: a 25 ms window is 551 samples, a 10 ms shift 220.
int64_t mel_frames(double seconds) { return 1 + (std::lround(seconds * 22050) - 551) / 220; }

// Recomputing on the same machine gives the same numbers up to float rounding.
bool same(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::abs(a[i] - b[i]) > 1e-5f) return false;
    return true;
}

void set_older(const std::string& path, const std::string& than) {
    fs::last_write_time(path, fs::last_write_time(than) - std::chrono::hours(24));
}

} // namespace

class TestFeatureMaps : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string db_;
    int64_t run_ = 0, other_run_ = 0;
    train::FeatureMapRequest request_;
    train::FeatureMap first_;

    std::string cache(const char* suffix) const {
        return request_.cache_dir + "/" + std::to_string(request_.track.id) + suffix;
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        db_ = test::make_demo_workspace(dir_.path(), 5, 4.0);
        store::RunStore s(db_);
        train::TrainOptions o;
        o.threads = 1;
        for (int seed : {3, 4}) {
            const int64_t id = s.create_run(0, config(seed), seed);
            train::TrainControl control;
            const auto r = train::train_run(s, id, o, control);
            QVERIFY2(r.status == store::RunStatus::Finished, r.message.c_str());
            (seed == 3 ? run_ : other_run_) = id;
        }
        const auto ds = s.load_dataset("tiny");
        request_ = train::feature_map_request(s, run_, ds->catalog.tracks[0].key);
        QCOMPARE(request_.track.id, ds->catalog.tracks[0].id);
        QCOMPARE(request_.weights, store::run_paths(db_, *s.run(run_)).best);
        QCOMPARE(request_.classes, 10);
        QCOMPARE(request_.class_names.size(), size_t(10));
    }

    void computesThenReadsTheCache() {
        first_ = train::run_feature_map(request_);
        QVERIFY(!first_.from_cache);
        QCOMPARE(int64_t(first_.clips.size()), int64_t(2));
        QCOMPARE(first_.frames_per_clip, mel_frames(1.5));
        QCOMPARE(first_.bins, int64_t(128));
        QCOMPARE(int64_t(first_.features.size()), 2 * mel_frames(1.5) * 128);
        QCOMPARE(first_.classes, int64_t(10));
        double sum = 0;
        for (float p : first_.probabilities) sum += p;
        QVERIFY(std::abs(sum - 1.0) < 1e-4);
        // The track's prediction is the mean of its clips'.
        QVERIFY(std::abs(first_.probabilities[3] - (first_.clip_probabilities[3] + first_.clip_probabilities[13]) / 2) < 1e-6);
        QCOMPARE(read_npy_f32(cache(".npy")).shape, (std::vector<int64_t>{2 * mel_frames(1.5), 128}));
        QVERIFY(fs::exists(cache(".key.json")));

        const auto before = fs::last_write_time(cache(".npy"));
        train::RunModelCache models;
        const train::FeatureMap again = train::run_feature_map(request_, &models);
        QVERIFY(again.from_cache);
        QCOMPARE(again.features, first_.features);
        QCOMPARE(again.probabilities, first_.probabilities);
        QCOMPARE(again.frames_per_clip, first_.frames_per_clip);
        QCOMPARE(again.clips.size(), first_.clips.size());
        QVERIFY(fs::last_write_time(cache(".npy")) == before); // read, not rewritten
    }

    void otherWeightsWithAnOlderDateAreStale() {
        // The other run's weights: the same model and file size, other content, dated a day
        // before the cache (a date rule would take the cache as current).
        store::RunStore s(db_);
        const std::string other = store::run_paths(db_, *s.run(other_run_)).best;
        const std::string saved = dir_.path().toStdString() + "/weights.saved";
        fs::copy_file(request_.weights, saved);
        fs::copy_file(other, request_.weights, fs::copy_options::overwrite_existing);
        set_older(request_.weights, cache(".npy"));
        const train::FeatureMap m = train::run_feature_map(request_);
        QVERIFY(!m.from_cache);
        QVERIFY(!same(m.probabilities, first_.probabilities));
        QVERIFY(train::run_feature_map(request_).from_cache); // cached again, for these weights

        // The first weights back, dated later than anything: recomputed to the first map.
        fs::copy_file(saved, request_.weights, fs::copy_options::overwrite_existing);
        const train::FeatureMap back = train::run_feature_map(request_);
        QVERIFY(!back.from_cache);
        QVERIFY(same(back.probabilities, first_.probabilities));
    }

    void anotherConfigOrOtherAudioIsStale() {
        train::FeatureMapRequest r = request_;
        r.config += " "; // the stored config is what the key covers
        QVERIFY(!train::run_feature_map(r).from_cache);
        QVERIFY(!train::run_feature_map(request_).from_cache); // the entry now holds r's key
        QVERIFY(train::run_feature_map(request_).from_cache);

        // The track's audio rewritten with other samples (same size, older date).
        const std::string audio = request_.track.path, saved = dir_.path().toStdString() + "/track.saved";
        fs::copy_file(audio, saved);
        fs::copy_file(store::RunStore(db_).load_dataset("tiny")->catalog.tracks[1].path, audio,
                      fs::copy_options::overwrite_existing);
        set_older(audio, cache(".npy"));
        const train::FeatureMap m = train::run_feature_map(request_);
        QVERIFY(!m.from_cache);
        fs::copy_file(saved, audio, fs::copy_options::overwrite_existing);
        QVERIFY(!train::run_feature_map(request_).from_cache);
        QVERIFY(train::run_feature_map(request_).from_cache);
    }

    void damagedCacheFilesAreRecomputed() {
        // Truncated: half the map.
        fs::resize_file(cache(".npy"), fs::file_size(cache(".npy")) / 2);
        train::FeatureMap m = train::run_feature_map(request_);
        QVERIFY(!m.from_cache);
        QVERIFY(same(m.features, first_.features));
        QCOMPARE(read_npy_f32(cache(".npy")).shape, (std::vector<int64_t>{2 * mel_frames(1.5), 128}));
        QVERIFY(train::run_feature_map(request_).from_cache);

        // Whole but altered: one value of the probabilities changed in place.
        {
            std::fstream f(cache(".probs.npy"), std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(-4, std::ios::end);
            const float one = 1.0f;
            f.write(reinterpret_cast<const char*>(&one), 4);
        }
        m = train::run_feature_map(request_);
        QVERIFY(!m.from_cache);
        QVERIFY(same(m.probabilities, first_.probabilities));

        // A key that is not JSON, then none at all.
        test::write_bytes(QString::fromStdString(cache(".key.json")), "{\"version\": 1, ");
        QVERIFY(!train::run_feature_map(request_).from_cache);
        fs::remove(cache(".key.json"));
        QVERIFY(!train::run_feature_map(request_).from_cache);
        QVERIFY(train::run_feature_map(request_).from_cache);
    }

    void anAudioFileOutsideTheDatasetIsCachedByContent() {
        const QString path = dir_.path() + "/outside.wav";
        test::write_audio(path, test::sine(440, 4.0, 22050));
        store::RunStore s(db_);
        const auto r = train::feature_map_request(s, run_, path.toStdString());
        QCOMPARE(r.track.id, int64_t(0));
        const train::FeatureMap m = train::run_feature_map(r);
        QVERIFY(!m.from_cache);
        QCOMPARE(int64_t(m.features.size()), 2 * mel_frames(1.5) * 128);
        QVERIFY(train::run_feature_map(r).from_cache);
        int entries = 0;
        for (const auto& e : fs::directory_iterator(request_.cache_dir))
            entries += e.path().filename().string().rfind("file-", 0) == 0;
        QCOMPARE(entries, 3); // .npy, .probs.npy, .key.json

        // A dataset track named by its path is that track.
        QCOMPARE(train::feature_map_request(s, run_, request_.track.path).track.id, request_.track.id);
        QVERIFY(test::error_of([&] { train::feature_map_request(s, run_, "no/such/track.wav"); }).contains("neither"));
        QVERIFY(test::error_of([&] { train::feature_map_request(s, 999, request_.track.key); }).contains("no run 999"));
    }

    void aRunWithoutWeightsSaysSo() {
        store::RunStore s(db_);
        const int64_t bare = s.create_run(0, config(9), 9);
        const auto r = train::feature_map_request(s, bare, request_.track.key);
        QVERIFY(test::error_of([&] { train::run_feature_map(r); }).contains("never finished an epoch"));
    }

    void npySizesAreCheckedBeforeAllocating() {
        const std::string path = dir_.path().toStdString() + "/big.npy";
        const float v[4] = {1, 2, 3, 4};
        write_npy_f32(path, v, {2, 2});
        QCOMPARE(read_npy_f32(path).data, (std::vector<float>{1, 2, 3, 4}));
        // The header claims 10^12 x 10^6 floats; the file holds four.
        std::string bytes;
        {
            std::ifstream in(path, std::ios::binary);
            bytes.assign(std::istreambuf_iterator<char>(in), {});
        }
        const size_t at = bytes.find("(2, 2)");
        QVERIFY(at != std::string::npos);
        std::string big = bytes;
        big.replace(at, 6, "(1000000000000, 1000000)");
        big.erase(big.find('}', at) + 1, 18); // the header keeps its length: the padding gives way
        test::write_bytes(QString::fromStdString(path), QByteArray::fromStdString(big));
        QVERIFY(test::error_of([&] { read_npy_f32(path); }).contains("needs more than"));
        // Truncated data and trailing bytes.
        test::write_bytes(QString::fromStdString(path), QByteArray::fromStdString(bytes.substr(0, bytes.size() - 2)));
        QVERIFY(test::error_of([&] { read_npy_f32(path); }).contains("truncated"));
        test::write_bytes(QString::fromStdString(path), QByteArray::fromStdString(bytes + "xx"));
        QVERIFY(test::error_of([&] { read_npy_f32(path); }).contains("trailing"));
    }
};

QTEST_GUILESS_MAIN(TestFeatureMaps)
#include "test_feature_maps.moc"
