#pragma once
// Feature maps for the inspector, computed on worker threads (QtConcurrent) and cached: a
// track's waveform envelope and log-mel in memory; a run's feature map and class probabilities
// on a track in memory and on disk (<run folder>/features/<track id>.npy and .probs.npy),
// reused while newer than the run's best weights. Each run's model is loaded once and kept
// (the last few). Results come back as signals on the GUI thread; failures as readable text.
#include "core/feedback.h"
#include "data/catalog.h"
#include "data/clip_plan.h"

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

struct RunModelCache; // feature_service.cpp

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

// What a run's map needs; the page reads it from the workspace on the GUI thread.
struct RunJob {
    qint64 run = 0;
    std::string config;    // the run's RunConfig JSON
    int classes = 0;       // its dataset's
    bool multi_label = false;
    std::string weights;   // <run folder>/best.safetensors
    std::string cache_dir; // <run folder>/features
    data::Track track;
};

struct RunMaps {
    qint64 run = 0, track = 0;
    QString error;
    bool cancelled = false; // stopped on request (error says so)
    std::vector<data::Clip> clips;    // the run's clips, where they lie in the track
    int frames_per_clip = 0, bins = 0;
    std::vector<float> features;      // [clips * frames_per_clip, bins], clips in time order
    std::vector<float> probabilities; // [classes], averaged over the clips
    bool from_disk = false;
    int64_t weights_mtime = 0;        // of the weights it was computed with
};

class FeatureService : public QObject {
    Q_OBJECT
public:
    explicit FeatureService(QObject* parent = nullptr);
    ~FeatureService() override; // cancels what is pending and waits for it

    // Cached results, or nullptr: then request_*() computes and announces them.
    const TrackMaps* track_maps(qint64 track) const;
    const RunMaps* run_maps(const RunJob& job) const; // only when computed with today's weights
    void request_track(const data::Track& track);
    void request_run(const RunJob& job);
    bool pending(qint64 run, qint64 track) const; // run 0: the track's own maps
    int pending_count() const { return int(jobs_.size()); }
    void cancel_all();

    // Last-modified time of a file in ns on std::filesystem's file clock (whose epoch may lie in
    // the future: values can be negative), or kNoFile when it does not exist.
    static constexpr int64_t kNoFile = INT64_MIN;
    static int64_t file_mtime(const std::string& path);

Q_SIGNALS:
    void trackReady(const gafx::app::TrackMaps& maps); // also on failure (maps.error)
    void runReady(const gafx::app::RunMaps& maps);
    void pendingChanged(int jobs);

private:
    using Key = QPair<qint64, qint64>; // (run, track); run 0 for the track's own maps
    void finish(const Key& key);
    template <class T> static void remember(QList<Key>& order, QHash<Key, T>& cache, const Key& key, T value, int keep);

    QThreadPool track_pool_, model_pool_; // model work one at a time: torch and the model cache
    std::shared_ptr<RunModelCache> models_;
    QHash<Key, std::shared_ptr<Feedback>> jobs_;
    QHash<Key, TrackMaps> tracks_;
    QHash<Key, RunMaps> runs_;
    QList<Key> track_order_, run_order_; // least recently stored first
};

} // namespace gafx::app
