#pragma once
// The Inspector page's controller: a track and some runs in, the track's waveform and log-mel and
// each run's learned feature map and prediction out. widgets::InspectorView draws; this reads the
// workspace (datasets, runs) on the GUI thread and leaves decoding and models to FeatureService,
// which computes run maps through the engine (train::run_feature_map) and its disk cache.
#include "feature_service.h"
#include "inspector_view.h"
#include "pages.h"

#include "store/run_store.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

#include <map>
#include <string>

namespace gafx::app {

class InspectorController : public QObject {
    Q_OBJECT
public:
    // Owned by `view`; fills it from ctx.workspace and keeps it current.
    InspectorController(AppContext& ctx, widgets::InspectorView* view);

    // Adds `runs` to the list (even without weights), checks them, picks `track` (0: keep the
    // current one) and shows the page.
    void inspect(const QList<qint64>& runs, qint64 track);

private:
    struct TrackRef {
        const store::StoredDataset* dataset = nullptr;
        size_t index = 0;
        const data::Track& track() const { return dataset->catalog.tracks[index]; }
    };
    struct Shown {
        qint64 track = 0;
        uint64_t weights_stamp = 0;
        bool operator==(const Shown& o) const { return track == o.track && weights_stamp == o.weights_stamp; }
    };

    bool eventFilter(QObject* watched, QEvent* event) override; // the page shown: catch up
    store::RunStore& store();
    void refresh();
    void refresh_tracks();
    void refresh_runs();
    QList<widgets::RunEntry> checked_entries() const;
    void selection_changed();
    void update();
    QString make_job(const store::RunRecord& r, const TrackRef& ref, train::FeatureMapRequest& job);
    void track_ready(const TrackMaps& m);
    // The play bar, the space bar and clicks on the plots drive the shared player.
    void wire_playback();
    void play_track(qint64 track);
    void run_ready(const RunMaps& m);
    template <class Maps> QString readable(const Maps& m) const;
    void export_to(const QString& dir, bool png);

    AppContext& ctx_;
    widgets::InspectorView* view_;
    FeatureService* service_;
    std::string dataset_signature_;
    std::map<std::string, store::StoredDataset> datasets_; // by name; TrackRefs point into it
    QHash<qint64, TrackRef> tracks_;
    QHash<qint64, store::RunRecord> runs_;
    QHash<qint64, QString> titles_;
    bool stale_ = false; // the workspace changed while the page was hidden
    QStringList run_titles_;
    QList<qint64> extra_runs_; // asked for by inspect() though without weights
    qint64 track_ = 0, shown_track_ = 0;
    bool held_ = false;          // cancelled: compute nothing new until the user picks again
    QHash<qint64, Shown> shown_; // per run: what its panel shows (map or error)
};

} // namespace gafx::app
