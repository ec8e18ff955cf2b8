#include "feature_service.h"

#include "audio/audio_file.h"
#include "audio/fbank.h"
#include "core/error.h"
#include "models/mel_extractor.h"

#include <QFutureWatcher>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>

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

FeatureService::FeatureService(QObject* parent)
    : QObject(parent), models_(std::make_shared<train::RunModelCache>(kKeepModels)) {
    track_pool_.setMaxThreadCount(1);
    model_pool_.setMaxThreadCount(1);
}

FeatureService::~FeatureService() {
    cancel_all();
    track_pool_.waitForDone();
    model_pool_.waitForDone();
}

const TrackMaps* FeatureService::track_maps(qint64 track) const {
    auto it = tracks_.find(Key(0, track));
    return it == tracks_.end() ? nullptr : &*it;
}

const RunMaps* FeatureService::run_maps(const train::FeatureMapRequest& job) const {
    auto it = runs_.find(Key(job.run, job.track.id));
    if (it == runs_.end() || it->weights_stamp != train::file_stamp(job.weights)) return nullptr;
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

void FeatureService::request_run(const train::FeatureMapRequest& job) {
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
        // Before the work: weights rewritten meanwhile leave this result stale.
        m.weights_stamp = train::file_stamp(job.weights);
        try {
            m.map = train::run_feature_map(job, models.get(), feedback.get());
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

void FeatureService::finish(const Key& key) {
    jobs_.remove(key);
    Q_EMIT pendingChanged(pending_count());
}

} // namespace gafx::app
