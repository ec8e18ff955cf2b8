#pragma once
// Feature maps for the inspector, computed on worker threads (QtConcurrent) and kept in memory
// (the last few): a track's waveform envelope and log-mel; a run's feature map and class
// probabilities on a track through train::run_feature_map, which owns the disk cache and decides
// by content whether it is current. Each run's model is loaded once and kept (the last few).
// Results come back as signals on the GUI thread; failures as readable text.
#include "core/feedback.h"
#include "data/catalog.h"
#include "train/feature_maps.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QPair>
#include <QString>
#include <QThreadPool>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gafx::app {

struct TrackMaps {
    qint64 track = 0;
    QString error;                       // instead of the data when it failed
    bool cancelled = false;              // stopped on request (error says so)
    double seconds = 0;                  // decoded length
    std::vector<float> env_min, env_max; // waveform envelope, one pair per bucket
    std::vector<float> mel;              // [mel_frames, mel_bins] Kaldi log-mel at 22050 Hz
    int mel_frames = 0, mel_bins = 0;
    double mel_start = 0, mel_seconds = 0; // where the frames' centres span on the time axis
};

struct RunMaps {
    qint64 run = 0, track = 0;
    QString error;
    bool cancelled = false;   // stopped on request (error says so)
    train::FeatureMap map;    // when there is no error
    uint64_t weights_stamp = 0; // train::file_stamp of the weights when the work started
};

class FeatureService : public QObject {
    Q_OBJECT
public:
    explicit FeatureService(QObject* parent = nullptr);
    ~FeatureService() override; // cancels what is pending and waits for it

    // Cached results, or nullptr: then request_*() computes and announces them.
    const TrackMaps* track_maps(qint64 track) const;
    // Only while the weights file is as it was (file_stamp); a rewritten one asks the engine
    // again, which reads its disk cache when the content is the same.
    const RunMaps* run_maps(const train::FeatureMapRequest& job) const;
    void request_track(const data::Track& track);
    void request_run(const train::FeatureMapRequest& job);
    bool pending(qint64 run, qint64 track) const; // run 0: the track's own maps
    int pending_count() const { return int(jobs_.size()); }
    void cancel_all();

Q_SIGNALS:
    void trackReady(const gafx::app::TrackMaps& maps); // also on failure (maps.error)
    void runReady(const gafx::app::RunMaps& maps);
    void pendingChanged(int jobs);

private:
    using Key = QPair<qint64, qint64>; // (run, track); run 0 for the track's own maps
    void finish(const Key& key);
    template <class T> static void remember(QList<Key>& order, QHash<Key, T>& cache, const Key& key, T value, int keep);

    QThreadPool track_pool_, model_pool_; // model work one at a time: torch and the model cache
    std::shared_ptr<train::RunModelCache> models_;
    QHash<Key, std::shared_ptr<Feedback>> jobs_;
    QHash<Key, TrackMaps> tracks_;
    QHash<Key, RunMaps> runs_;
    QList<Key> track_order_, run_order_; // least recently stored first
};

} // namespace gafx::app
