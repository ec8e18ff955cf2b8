// A run's map is the whole track as the run sees it: fitted to its track_seconds and cut into its
// clips, each clip's normalised features placed where the clip lies in the track (the .npy holds
// them concatenated in time, [clips x frames, 128]); the probabilities are the clips' softmax
// averaged, as track accuracy is computed.
#include "inspector_controller.h"

#include "playback_bar.h"

#include "audio_player.h"
#include "workspace.h"

#include "core/error.h"
#include "core/npy.h"
#include "experiments/experiment.h"

#include <QDir>
#include <QEvent>
#include <QFileInfo>
#include <QStatusBar>

#include <algorithm>
#include <cmath>
#include <iterator>

namespace gafx::app {
namespace {

using widgets::InspectorView;

QString qs(const std::string& s) { return QString::fromStdString(s); }

QString run_title(const store::RunRecord& r, const std::optional<experiments::RunConfig>& c) {
    const QString what = c ? qs(c->extractor + " + " + c->classifier + " · " + c->dataset)
                           : QStringLiteral("unreadable config");
    QString title = QStringLiteral("#%1  %2 · %3").arg(r.id).arg(what, QString::fromLatin1(store::to_string(r.status)));
    if (std::isfinite(r.test_track_accuracy))
        title += QStringLiteral(" · test %1 % (epoch %2, selected on val)").arg(100 * r.test_track_accuracy, 0, 'f', 1).arg(r.selected_epoch);
    return title;
}

QStringList true_labels(const store::StoredDataset& d, const data::Track& t) {
    QStringList out;
    for (const auto& id : t.labels) {
        const int k = d.catalog.class_index(id);
        out << qs(k >= 0 ? d.catalog.classes[size_t(k)].display_name : id);
    }
    return out;
}

} // namespace

InspectorController::InspectorController(AppContext& ctx, InspectorView* view)
    : QObject(view), ctx_(ctx), view_(view), service_(new FeatureService(this)) {
    connect(view_, &InspectorView::selectionChanged, this, [this] { selection_changed(); });
    connect(view_, &InspectorView::cancelRequested, this, [this] {
        held_ = true; // until the user picks again: workspace changes must not restart the work
        service_->cancel_all();
    });
    connect(view_, &InspectorView::exportRequested, this,
            [this](const QString& dir, bool png) { export_to(dir, png); });
    connect(service_, &FeatureService::pendingChanged, view_, &InspectorView::set_pending);
    connect(service_, &FeatureService::trackReady, this, [this](const TrackMaps& m) { track_ready(m); });
    connect(service_, &FeatureService::runReady, this, [this](const RunMaps& m) { run_ready(m); });
    connect(ctx_.workspace, &Workspace::changed, this, [this] {
        if (!view_->isVisible()) {
            stale_ = true; // while hidden there is nothing to keep current
            return;
        }
        refresh_tracks();
        update(); // a run that finished an epoch since may have weights now
    });
    connect(ctx_.workspace, &Workspace::runsListed, this, [this] {
        if (view_->isVisible()) refresh_runs();
        else stale_ = true;
    });
    connect(ctx_.workspace, &Workspace::listFailed, this,
            [this](const QString& reason) { view_->set_note(tr("Could not read the runs: %1").arg(reason)); });
    view_->installEventFilter(this);
    refresh();
    wire_playback();
}

void InspectorController::wire_playback() {
    AudioPlayer* player = ctx_.player;
    widgets::PlaybackBar* bar = view_->playback();
    if (!player) { // a page made without the main window's services
        bar->set_unavailable(tr("No player in this window."));
        return;
    }
    bar->set_unavailable(player->unavailable());
    // The player is shared: the playhead shows only while it holds this page's track.
    const auto mine = [this, player] { return track_ && player->track() == track_ && player->loaded(); };
    connect(view_, &InspectorView::playToggled, this, [this, player, mine] {
        if (mine()) player->toggle();
        else play_track(track_);
    });
    connect(view_, &InspectorView::seekRequested, this, [player, mine](double s) {
        if (mine()) player->seek(s);
    });
    connect(view_, &InspectorView::loopRequested, this, [player, mine](double a, double b) {
        if (mine()) player->set_loop(a, b);
    });
    connect(player, &AudioPlayer::positionChanged, this, [this, bar, player, mine](double s) {
        view_->set_playhead(mine() ? s : std::nan(""));
        if (mine()) bar->set_position(s, player->duration());
    });
    connect(player, &AudioPlayer::stateChanged, this, [bar, mine](bool playing) { bar->set_playing(mine() && playing); });
    connect(player, &AudioPlayer::loopChanged, this, [this, bar, mine](double a, double b) {
        view_->set_loop_span(mine() ? a : 0, mine() ? b : 0);
        bar->set_loop(mine() ? a : 0, mine() ? b : 0);
    });
    connect(player, &AudioPlayer::loadedChanged, this, [this, bar, player, mine] {
        bar->set_ready(track_ != 0);
        if (player->track() == track_ && !player->error().isEmpty()) view_->set_note(player->error());
        if (mine()) bar->set_position(player->position(), player->duration());
    });
    ctx_.play = [this](qint64 track) { play_track(track); };
    connect(view_, &QObject::destroyed, [&ctx = ctx_] { ctx.play = nullptr; });
}

void InspectorController::play_track(qint64 track) {
    if (!ctx_.player || !tracks_.contains(track)) return;
    const data::Track& t = tracks_[track].track();
    ctx_.player->load(track, qs(t.path), true);
}

void InspectorController::inspect(const QList<qint64>& runs, qint64 track) {
    for (qint64 r : runs)
        if (!extra_runs_.contains(r)) extra_runs_ << r;
    const auto listed = ctx_.workspace->runs();
    for (qint64 r : runs)
        if (std::none_of(listed->begin(), listed->end(), [r](const ListedRun& l) { return l.record.id == r; })) {
            ctx_.workspace->list_runs_now(); // newer than the last listing
            break;
        }
    refresh();
    view_->set_checked_runs(runs);
    if (track) view_->select_track(track);
    selection_changed();
    if (ctx_.show_page) ctx_.show_page(InspectorPage);
}

store::RunStore& InspectorController::store() { return ctx_.workspace->store(); }

bool InspectorController::eventFilter(QObject* watched, QEvent* event) {
    if (watched == view_ && event->type() == QEvent::Show && stale_) {
        refresh();
        update();
    }
    return QObject::eventFilter(watched, event);
}

// Datasets reload only when one changed (the changed() signal fires every few seconds while
// a run trains); runs come from the workspace's listing, read on a worker thread.
void InspectorController::refresh() {
    stale_ = false;
    try {
        refresh_tracks();
        refresh_runs();
    } catch (const std::exception& e) { // a slot's edge: nothing may escape into Qt's event loop
        view_->set_note(qs(e.what()));
    }
}

void InspectorController::refresh_tracks() {
    std::string signature;
    const auto summaries = store().list_datasets();
    for (const auto& d : summaries)
        signature += d.name + '\x1f' + d.updated_at + '\x1f' + std::to_string(d.tracks) + '\n';
    if (signature == dataset_signature_) return;
    dataset_signature_ = signature;
    datasets_.clear();
    tracks_.clear();
    QList<widgets::TrackEntry> entries;
    for (const auto& d : summaries) {
        auto ds = store().load_dataset(d.name);
        if (!ds) continue;
        const auto& stored = datasets_.emplace(d.name, std::move(*ds)).first->second;
        for (size_t i = 0; i < stored.catalog.tracks.size(); ++i) {
            const data::Track& t = stored.catalog.tracks[i];
            if (t.status != data::TrackStatus::Valid) continue;
            tracks_.insert(t.id, TrackRef{&stored, i});
            const QString labels = true_labels(stored, t).join(QStringLiteral(", "));
            widgets::TrackEntry e;
            e.id = t.id;
            e.title = QStringLiteral("%1  ·  %2  ·  %3").arg(qs(t.key), labels, qs(d.name));
            e.search = e.title;
            entries << e;
        }
    }
    view_->set_tracks(entries);
}

// Runs with best weights (finished, or stopped after an epoch), and any run asked for by name.
void InspectorController::refresh_runs() {
    runs_.clear();
    titles_.clear();
    QList<widgets::RunEntry> entries;
    QStringList titles;
    for (const ListedRun& l : *ctx_.workspace->runs()) {
        const store::RunRecord& r = l.record;
        if (r.status != store::RunStatus::Finished && r.epochs_done == 0 && !extra_runs_.contains(r.id)) continue;
        widgets::RunEntry e;
        e.id = r.id;
        e.title = run_title(r, l.config);
        entries << e;
        titles << e.title;
        titles_.insert(r.id, e.title);
        runs_.insert(r.id, r);
    }
    // Rebuilt only when something shows differently, so the list does not flicker while a run trains.
    if (titles == run_titles_) return;
    run_titles_ = titles;
    view_->set_runs(entries);
}

QList<widgets::RunEntry> InspectorController::checked_entries() const {
    QList<widgets::RunEntry> out;
    for (qint64 id : view_->checked_runs())
        if (runs_.contains(id)) out << widgets::RunEntry{id, titles_.value(id)};
    return out;
}

void InspectorController::selection_changed() {
    held_ = false;
    const qint64 track = view_->current_track();
    if (track != track_) {
        track_ = track;
        const bool mine = ctx_.player && track && ctx_.player->track() == track && ctx_.player->loaded();
        view_->playback()->set_ready(track != 0);
        view_->playback()->set_playing(mine && ctx_.player->playing());
        view_->playback()->set_position(mine ? ctx_.player->position() : 0.0, mine ? ctx_.player->duration() : 0.0);
        view_->set_playhead(mine ? ctx_.player->position() : std::nan(""));
        const auto loop = mine ? ctx_.player->loop() : QPair<double, double>{0, 0};
        view_->set_loop_span(loop.first, loop.second);
        view_->playback()->set_loop(loop.first, loop.second);
        shown_.clear();
        shown_track_ = 0;
        if (!tracks_.contains(track)) {
            view_->clear();
            return;
        }
        const TrackRef& ref = tracks_[track];
        const data::Track& t = ref.track();
        const QString title = qs(t.key) + QStringLiteral(" (") + qs(ref.dataset->catalog.name) + QLatin1Char(')');
        view_->show_track(title, true_labels(*ref.dataset, t).join(QStringLiteral(", ")), t.duration);
    }
    if (!track_) return;
    view_->set_run_panels(checked_entries());
    const QList<qint64> checked = view_->checked_runs();
    for (auto it = shown_.begin(); it != shown_.end();) // a run ticked again gets a fresh panel
        it = checked.contains(it.key()) ? std::next(it) : shown_.erase(it);
    update();
}

// Brings every plot to the current track and runs: cached maps at once, the rest requested.
void InspectorController::update() {
    if (!track_ || !tracks_.contains(track_)) return;
    const TrackRef& ref = tracks_[track_];
    if (shown_track_ != track_) {
        if (const TrackMaps* m = service_->track_maps(track_)) track_ready(*m);
        else if (!held_ && !service_->pending(0, track_)) service_->request_track(ref.track());
    }
    for (qint64 run : view_->checked_runs()) {
        if (!runs_.contains(run)) continue;
        train::FeatureMapRequest job;
        QString problem = make_job(runs_[run], ref, job);
        if (!problem.isEmpty()) {
            view_->set_run_message(run, problem);
            continue;
        }
        const Shown now{track_, train::file_stamp(job.weights)};
        if (shown_.value(run) == now) continue;
        if (const RunMaps* m = service_->run_maps(job)) run_ready(*m);
        else if (!held_ && !service_->pending(run, track_)) {
            view_->set_run_message(run, tr("computing…"));
            service_->request_run(job);
        }
    }
}

QString InspectorController::make_job(const store::RunRecord& r, const TrackRef& ref, train::FeatureMapRequest& job) {
    experiments::RunConfig c;
    try {
        c = experiments::parse_run_config(r.config);
    } catch (const std::exception& e) {
        return tr("Run %1 has an unreadable config: %2").arg(r.id).arg(qs(e.what()));
    }
    auto ds = datasets_.find(c.dataset);
    if (ds == datasets_.end())
        return tr("Run %1 was trained on dataset '%2', which is no longer in this workspace.")
            .arg(r.id)
            .arg(qs(c.dataset));
    job = train::feature_map_request(store().path(), r, ds->second.catalog, ref.track());
    return {};
}

void InspectorController::track_ready(const TrackMaps& m) {
    if (m.track != track_ || !tracks_.contains(m.track)) return;
    if (!m.error.isEmpty()) {
        if (!m.cancelled) shown_track_ = m.track; // a cancelled one is computed on the next pick
        view_->set_track_error(readable(m));
        return;
    }
    shown_track_ = m.track;
    view_->set_waveform(m.env_min, m.env_max, m.seconds);
    if (m.mel_frames > 0)
        view_->set_mel(m.mel, m.mel_bins, widgets::MapSegment{m.mel_start, m.mel_seconds, m.mel_frames}, m.seconds);
    else
        view_->mel()->show_message(tr("The track is shorter than one 25 ms frame."));
}

void InspectorController::run_ready(const RunMaps& m) {
    if (m.track != track_ || !tracks_.contains(m.track) || !runs_.contains(m.run) ||
        !view_->checked_runs().contains(m.run))
        return;
    if (!m.cancelled) shown_.insert(m.run, Shown{m.track, m.weights_stamp});
    if (!m.error.isEmpty()) {
        view_->set_run_message(m.run, tr("Run %1: %2").arg(m.run).arg(readable(m)));
        return;
    }
    const train::FeatureMap& map = m.map;
    std::vector<widgets::MapSegment> clips;
    for (const auto& c : map.clips) clips.push_back({c.start_seconds, c.seconds, int(map.frames_per_clip)});
    view_->set_run_map(m.run, map.features, int(map.bins), clips, tracks_[m.track].track().duration);
    // Class names come from the run's dataset (a run may be shown on another dataset's track).
    QList<widgets::ClassProbability> probs;
    const auto ds = datasets_.find(experiments::parse_run_config(runs_[m.run].config).dataset);
    if (ds == datasets_.end()) return; // gone since the job started; the next refresh says so
    const auto& classes = ds->second.catalog.classes;
    for (size_t k = 0; k < map.probabilities.size() && k < classes.size(); ++k)
        probs << widgets::ClassProbability{qs(classes[k].display_name), map.probabilities[k]};
    const TrackRef& ref = tracks_[m.track];
    view_->set_run_prediction(m.run, probs, true_labels(*ref.dataset, ref.track()));
}

template <class Maps>
QString InspectorController::readable(const Maps& m) const {
    return m.cancelled ? tr("Cancelled. Pick a track or tick a run to compute again.") : m.error;
}

void InspectorController::export_to(const QString& dir, bool png) {
    if (!track_ || !tracks_.contains(track_)) return;
    const QString stem = QFileInfo(qs(tracks_[track_].track().key)).completeBaseName();
    const QDir out(dir);
    QStringList written;
    try {
        if (png) {
            auto save = [&](widgets::TimePlot* plot, const QString& name) {
                if (!plot->message().isEmpty()) return;
                const QString path = out.filePath(stem + name + QStringLiteral(".png"));
                if (!plot->save_png(path))
                    throw Error(path.toStdString(), "could not be written", "check the folder is writable");
                written << path;
            };
            save(view_->waveform(), QStringLiteral("_waveform"));
            save(view_->mel(), QStringLiteral("_mel"));
            for (qint64 run : view_->run_panels()) save(view_->run_view(run), QStringLiteral("_run%1").arg(run));
        } else {
            if (const TrackMaps* m = service_->track_maps(track_); m && m->mel_frames > 0) {
                const QString path = out.filePath(stem + QStringLiteral("_mel.npy"));
                write_npy_f32(path.toStdString(), m->mel.data(), {m->mel_frames, m->mel_bins});
                written << path;
            }
            for (qint64 run : view_->run_panels()) {
                train::FeatureMapRequest job;
                if (!runs_.contains(run) || !make_job(runs_[run], tracks_[track_], job).isEmpty()) continue;
                const RunMaps* m = service_->run_maps(job);
                if (!m) continue;
                const QString path = out.filePath(stem + QStringLiteral("_run%1.npy").arg(run));
                write_npy_f32(path.toStdString(), m->map.features.data(),
                              {int64_t(m->map.clips.size()) * m->map.frames_per_clip, m->map.bins});
                written << path;
            }
        }
        view_->set_note(written.isEmpty() ? tr("Nothing to export yet: the maps are still computing.")
                                          : tr("Exported %1 file(s) to %2").arg(written.size()).arg(dir));
    } catch (const std::exception& e) {
        view_->set_note(qs(e.what()));
    }
    if (ctx_.status && !written.isEmpty()) ctx_.status->showMessage(view_->note(), 8000);
}

QWidget* create_inspector_page(AppContext& ctx, QWidget* parent) {
    auto* view = new InspectorView(parent);
    auto* inspector = new InspectorController(ctx, view); // owned by the view
    ctx.inspect = [inspector](const QList<qint64>& runs, qint64 track) { inspector->inspect(runs, track); };
    QObject::connect(view, &QObject::destroyed, [&ctx] { ctx.inspect = nullptr; });
    return view;
}

} // namespace gafx::app
