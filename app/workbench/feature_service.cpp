#include "feature_service.h"

#include "audio/audio_file.h"
#include "audio/fbank.h"
#include "core/error.h"
#include "core/npy.h"
#include "models/mel_extractor.h"
#include "train/run_model.h"

#include <QFutureWatcher>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <list>
#include <mutex>

namespace fs = std::filesystem;

namespace gafx::app {
namespace {

constexpr int kEnvelopeBuckets = 4000; // more than a screen is wide
constexpr int kKeepTracks = 8, kKeepRuns = 32, kKeepModels = 3;

QString message_of(const std::exception& e) {
    // torch's own errors carry a C++ backtrace after the first line.
    const QString what = QString::fromStdString(e.what());
    return what.section(QLatin1Char('\n'), 0, 0);
}

TrackMaps compute_track(const data::Track& t, const Feedback& feedback) {
    TrackMaps m;
    m.track = t.id;
    feedback.throw_if_cancelled(t.path);
    const models::MelConfig mel_config; // the mel baseline's own: 22050 Hz, 128 bins
    const audio::Waveform w = audio::decode(t.path, mel_config.sample_rate, audio::ChannelMode::Mono);
    m.seconds = double(w.frames) / w.sample_rate;
    const int64_t buckets = std::min<int64_t>(kEnvelopeBuckets, std::max<int64_t>(1, w.frames));
    m.env_min.assign(size_t(buckets), 0.f);
    m.env_max.assign(size_t(buckets), 0.f);
    for (int64_t b = 0; b < buckets && w.frames > 0; ++b) {
        const int64_t lo = b * w.frames / buckets, hi = std::max(lo + 1, (b + 1) * w.frames / buckets);
        const auto [mn, mx] = std::minmax_element(w.channel(0) + lo, w.channel(0) + hi);
        m.env_min[size_t(b)] = *mn;
        m.env_max[size_t(b)] = *mx;
    }
    feedback.throw_if_cancelled(t.path);
    const audio::FbankOptions o = mel_config.fbank();
    if (audio::fbank_frames(w.frames, o) > 0) {
        torch::NoGradGuard no_grad;
        const torch::Tensor wave = torch::from_blob(const_cast<float*>(w.samples.data()), {w.frames}, torch::kFloat32);
        const torch::Tensor mel = audio::kaldi_fbank(wave, o).contiguous();
        m.mel_frames = int(mel.size(0));
        m.mel_bins = int(mel.size(1));
        m.mel.assign(mel.data_ptr<float>(), mel.data_ptr<float>() + mel.numel());
        // Frame i covers [i * shift, i * shift + window): its centre is window / 2 later.
        const double shift = double(audio::fbank_window_shift(o)) / o.sample_rate;
        const double window = double(audio::fbank_window_size(o)) / o.sample_rate;
        m.mel_start = window / 2 - shift / 2;
        m.mel_seconds = shift * m.mel_frames;
    }
    return m;
}

} // namespace

// Models by run, most recently used first; touched only from model_pool_'s one thread, the
// mutex is there so that stays true if the pool ever grows.
struct RunModelCache {
    struct Entry {
        qint64 run = 0;
        int64_t mtime = 0;
        std::shared_ptr<train::RunModel> model;
    };
    std::mutex mutex;
    std::list<Entry> entries;

    std::shared_ptr<train::RunModel> get(const RunJob& job, int64_t mtime) {
        std::lock_guard<std::mutex> lock(mutex);
        for (auto it = entries.begin(); it != entries.end(); ++it)
            if (it->run == job.run && it->mtime == mtime) {
                entries.splice(entries.begin(), entries, it);
                return it->model;
            }
        entries.remove_if([&](const Entry& e) { return e.run == job.run; }); // older weights
        auto m = std::make_shared<train::RunModel>(
            train::load_run_model(job.config, job.classes, job.multi_label, job.weights));
        entries.push_front({job.run, mtime, m});
        if (entries.size() > size_t(kKeepModels)) entries.pop_back();
        return m;
    }
};

namespace {

RunMaps compute_run(const RunJob& job, RunModelCache& models, const Feedback& feedback) {
    RunMaps m;
    m.run = job.run;
    m.track = job.track.id;
    m.weights_mtime = FeatureService::file_mtime(job.weights);
    const std::string id = std::to_string(job.track.id);
    const std::string npy = job.cache_dir + "/" + id + ".npy", probs_npy = job.cache_dir + "/" + id + ".probs.npy";
    std::vector<float> clip_probs;
    int64_t classes = 0;
    // The disk cache counts while it is at least as new as the weights it came from.
    const int64_t none = FeatureService::kNoFile;
    const int64_t npy_mtime = FeatureService::file_mtime(npy), probs_mtime = FeatureService::file_mtime(probs_npy);
    if (m.weights_mtime != none && npy_mtime != none && probs_mtime != none && npy_mtime >= m.weights_mtime &&
        probs_mtime >= m.weights_mtime) {
        try {
            const NpyArray f = read_npy_f32(npy), p = read_npy_f32(probs_npy);
            m.clips = train::run_clips(experiments::parse_run_config(job.config));
            const int64_t n = int64_t(m.clips.size());
            if (f.shape.size() == 2 && p.shape.size() == 2 && p.shape[0] == n && p.shape[1] == job.classes &&
                f.shape[0] % n == 0 && f.shape[0] > 0) {
                m.frames_per_clip = int(f.shape[0] / n);
                m.bins = int(f.shape[1]);
                m.features = f.data;
                clip_probs = p.data;
                classes = p.shape[1];
                m.from_disk = true;
            }
        } catch (const Error&) {
            // A damaged cache file is recomputed and overwritten below.
        }
    }
    if (!m.from_disk) {
        feedback.throw_if_cancelled(job.track.path);
        const auto model = models.get(job, m.weights_mtime);
        train::TrackFeatures t = train::track_features(*model, job.track, &feedback);
        m.clips = t.clips;
        m.frames_per_clip = int(t.frames_per_clip);
        m.bins = int(t.bins);
        m.features = std::move(t.features);
        clip_probs = std::move(t.probabilities);
        classes = t.classes;
        try {
            fs::create_directories(job.cache_dir);
            write_npy_f32(npy, m.features.data(), {int64_t(m.clips.size()) * m.frames_per_clip, m.bins});
            write_npy_f32(probs_npy, clip_probs.data(), {int64_t(m.clips.size()), classes});
        } catch (const std::exception&) {
            // Only a cache: a read-only run folder costs a recomputation next time.
        }
    }
    // The track's prediction as evaluation makes it: clip probabilities averaged.
    m.probabilities.assign(size_t(classes), 0.f);
    const size_t n = m.clips.size();
    for (size_t c = 0; c < n; ++c)
        for (int64_t k = 0; k < classes; ++k)
            m.probabilities[size_t(k)] += clip_probs[c * size_t(classes) + size_t(k)] / float(n);
    return m;
}

} // namespace

FeatureService::FeatureService(QObject* parent) : QObject(parent), models_(std::make_shared<RunModelCache>()) {
    track_pool_.setMaxThreadCount(1);
    model_pool_.setMaxThreadCount(1);
}

FeatureService::~FeatureService() {
    cancel_all();
    track_pool_.waitForDone();
    model_pool_.waitForDone();
}

int64_t FeatureService::file_mtime(const std::string& path) {
    std::error_code ec;
    const auto t = fs::last_write_time(path, ec);
    if (ec) return kNoFile;
    return int64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

const TrackMaps* FeatureService::track_maps(qint64 track) const {
    auto it = tracks_.find(Key(0, track));
    return it == tracks_.end() ? nullptr : &*it;
}

const RunMaps* FeatureService::run_maps(const RunJob& job) const {
    auto it = runs_.find(Key(job.run, job.track.id));
    if (it == runs_.end() || it->weights_mtime != file_mtime(job.weights)) return nullptr;
    return &*it;
}

bool FeatureService::pending(qint64 run, qint64 track) const { return jobs_.contains(Key(run, track)); }

void FeatureService::cancel_all() {
    for (auto& f : jobs_) f->cancel();
}

template <class T>
void FeatureService::remember(QList<Key>& order, QHash<Key, T>& cache, const Key& key, T value, int keep) {
    order.removeAll(key);
    order.append(key);
    cache.insert(key, std::move(value));
    while (order.size() > keep) cache.remove(order.takeFirst());
}

void FeatureService::request_track(const data::Track& track) {
    const Key key(0, track.id);
    if (jobs_.contains(key)) return;
    auto feedback = std::make_shared<Feedback>();
    jobs_.insert(key, feedback);
    auto* watcher = new QFutureWatcher<TrackMaps>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, key] {
        const TrackMaps m = watcher->result();
        watcher->deleteLater();
        if (m.error.isEmpty()) remember(track_order_, tracks_, key, m, kKeepTracks);
        finish(key);
        Q_EMIT trackReady(m);
    });
    watcher->setFuture(QtConcurrent::run(&track_pool_, [track, feedback] {
        TrackMaps m;
        m.track = track.id;
        try {
            return compute_track(track, *feedback);
        } catch (const Cancelled& e) {
            m.cancelled = true;
            m.error = message_of(e);
        } catch (const std::exception& e) {
            m.error = message_of(e);
        }
        return m;
    }));
    Q_EMIT pendingChanged(pending_count());
}

void FeatureService::request_run(const RunJob& job) {
    const Key key(job.run, job.track.id);
    if (jobs_.contains(key)) return;
    auto feedback = std::make_shared<Feedback>();
    jobs_.insert(key, feedback);
    auto* watcher = new QFutureWatcher<RunMaps>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, key] {
        const RunMaps m = watcher->result();
        watcher->deleteLater();
        if (m.error.isEmpty()) remember(run_order_, runs_, key, m, kKeepRuns);
        finish(key);
        Q_EMIT runReady(m);
    });
    watcher->setFuture(QtConcurrent::run(&model_pool_, [job, feedback, models = models_] {
        RunMaps m;
        m.run = job.run;
        m.track = job.track.id;
        try {
            return compute_run(job, *models, *feedback);
        } catch (const Cancelled& e) {
            m.cancelled = true;
            m.error = message_of(e);
        } catch (const std::exception& e) {
            m.error = message_of(e);
        }
        m.weights_mtime = file_mtime(job.weights);
        return m;
    }));
    Q_EMIT pendingChanged(pending_count());
}

void FeatureService::finish(const Key& key) {
    jobs_.remove(key);
    Q_EMIT pendingChanged(pending_count());
}

} // namespace gafx::app
