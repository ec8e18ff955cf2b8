// The Datasets page: DatasetsController (see datasets_controller.h) and create_datasets_page.
#include "datasets_controller.h"
#include "audio_player.h"
#include "workspace.h"

#include "datasets_view.h"
#include "track_table_model.h"
#include "playback_bar.h"

#include "core/error.h"
#include "core/feedback.h"
#include "store/run_store.h"
#include "workflows/demo_dataset.h"
#include "workflows/import_dataset.h"

#include <QDir>
#include <QFileInfo>
#include <QItemSelectionModel>
#include <QPromise>
#include <QStatusBar>
#include <QTableView>
#include <QtConcurrent>

namespace gafx::app {

struct DatasetsController::Job {
    enum Kind { Import, Demo, Resplit } kind = Import;
    std::string db;
    workflows::ImportRequest import; // a re-split: import.name and import.split
    workflows::DemoRequest demo;     // Demo: written first, then imported
};

namespace {

// Where a job's progress goes: set on the pool thread before each phase, read by the Feedback's
// callback on that same thread. Maps engine progress (done / total) into [from, to] per mille of
// the whole job, since a QPromise's progress may only grow.
struct ProgressSink {
    QPromise<DatasetJobResult>* promise = nullptr;
    int from = 0, to = 1000;
    QString what;
    void operator()(int64_t done, int64_t total, const std::string& item) const {
        if (!promise) return;
        const int permille = from + int(total > 0 ? (to - from) * done / total : 0);
        promise->setProgressValueAndText(permille, what + QString::fromStdString(item.empty() ? "" : ": " + item));
    }
};

// The report's warnings, a few of them, for the one-line message.
QString warnings_note(const std::vector<std::string>& warnings, const std::string& dataset) {
    constexpr size_t kShown = 3;
    QString note;
    for (size_t i = 0; i < warnings.size() && i < kShown; ++i)
        note += QObject::tr(" Warning: %1.").arg(QString::fromStdString(warnings[i]));
    if (warnings.size() > kShown)
        note += QObject::tr(" %1 more warning(s): see gafx dataset show %2.")
                    .arg(warnings.size() - kShown)
                    .arg(QString::fromStdString(dataset));
    return note;
}

QString split_note(const data::SplitCounts& n, const std::vector<int64_t>& folds, const std::vector<std::string>& missing) {
    QString out = folds.empty() ? QObject::tr("split %1 train / %2 val / %3 test").arg(n.train).arg(n.val).arg(n.test)
                                : QObject::tr("split into %1 folds").arg(folds.size());
    if (n.excluded) out += QObject::tr(", %1 excluded").arg(n.excluded);
    if (!missing.empty())
        out += QObject::tr(" (%1 listed track(s) not found, first %2)").arg(missing.size()).arg(QString::fromStdString(missing.front()));
    return out;
}

DatasetJobResult describe(const workflows::ImportReport& r) {
    DatasetJobResult out;
    out.dataset = QString::fromStdString(r.dataset);
    out.message = QObject::tr("Imported '%1': %2 tracks, %3 valid, %4 invalid, %5 missing; %6.%7")
                      .arg(out.dataset)
                      .arg(r.tracks)
                      .arg(r.valid)
                      .arg(r.invalid)
                      .arg(r.missing)
                      .arg(split_note(r.counts, r.fold_sizes, r.missing_listed))
                      .arg(warnings_note(r.warnings, r.dataset));
    return out;
}

DatasetJobResult describe(const workflows::ResplitReport& r) {
    DatasetJobResult out;
    out.dataset = QString::fromStdString(r.dataset);
    out.message = QObject::tr("Re-split '%1' (%2, seed %3): %4.%5")
                      .arg(out.dataset)
                      .arg(QString::fromStdString(r.split.describe_kind()))
                      .arg(r.split.seed)
                      .arg(split_note(r.counts, r.fold_sizes, r.missing_listed))
                      .arg(warnings_note(r.warnings, r.dataset));
    return out;
}

// The first few files that made a source unusable, after the error itself.
QString no_valid_audio_message(const workflows::NoValidAudio& e) {
    constexpr size_t kShown = 5;
    QString text = QString::fromStdString(e.what());
    const auto& bad = e.tracks();
    for (size_t i = 0; i < bad.size() && i < kShown; ++i)
        text += QStringLiteral("\n  %1: %2").arg(QString::fromStdString(bad[i].path), QString::fromStdString(bad[i].error));
    if (bad.size() > kShown) text += QObject::tr("\n  ... and %1 more").arg(bad.size() - kShown);
    return text;
}

// On a pool thread. Every failure comes back as a message, never as an exception.
template <class Job>
void run_job(QPromise<DatasetJobResult>& promise, const Job& job, Feedback& fb, ProgressSink& sink) {
    promise.setProgressRange(0, 1000);
    DatasetJobResult r;
    try {
        store::RunStore db(job.db);
        if (job.kind == Job::Resplit) {
            r = describe(workflows::resplit_dataset(db, job.import.name, job.import.split, &fb));
        } else {
            int from = 0;
            if (job.kind == Job::Demo) {
                sink = ProgressSink{&promise, 0, 400, QObject::tr("writing demo")};
                workflows::write_demo(job.demo, &fb);
                from = 400;
            }
            sink = ProgressSink{&promise, from, 1000, QObject::tr("probing")};
            r = describe(workflows::import_dataset(db, job.import, &fb));
        }
    } catch (const Cancelled&) {
        r.error = job.kind == Job::Demo      ? QObject::tr("Demo writing cancelled.")
                  : job.kind == Job::Resplit ? QObject::tr("Re-split cancelled.")
                                             : QObject::tr("Import cancelled.");
    } catch (const workflows::NoValidAudio& e) {
        r.error = no_valid_audio_message(e);
    } catch (const std::exception& e) {
        r.error = QString::fromStdString(e.what());
    }
    sink.promise = nullptr; // it refers to this promise
    promise.addResult(r);
}

} // namespace

DatasetsController::DatasetsController(AppContext& ctx, widgets::DatasetsView* view)
    : QObject(view), workspace_(ctx.workspace), status_(ctx.status), view_(view) {
    watcher_ = new QFutureWatcher<DatasetJobResult>(this);
    connect(watcher_, &QFutureWatcherBase::progressValueChanged, view_, [this](int v) { view_->set_progress(v, {}); });
    connect(watcher_, &QFutureWatcherBase::progressTextChanged, view_,
            [this](const QString& t) { view_->set_progress(watcher_->progressValue(), t); });
    connect(watcher_, &QFutureWatcherBase::finished, this, &DatasetsController::job_finished);
    connect(view_, &widgets::DatasetsView::importRequested, this, [this] { start_import(false); });
    connect(view_, &widgets::DatasetsView::demoRequested, this, [this] { start_import(true); });
    connect(view_, &widgets::DatasetsView::resplitRequested, this, &DatasetsController::start_resplit);
    connect(view_, &widgets::DatasetsView::cancelRequested, this, [this] {
        if (feedback_) feedback_->cancel();
        view_->show_message(tr("Cancelling..."), false);
    });
    connect(view_, &widgets::DatasetsView::datasetSelected, this, &DatasetsController::load);
    // Other pages and processes commit all the time while training; catch up only when seen.
    connect(workspace_, &Workspace::changed, this, [this] {
        if (view_->isVisible()) refresh(false);
        else stale_ = true;
    });
    connect(view_, &widgets::DatasetsView::shown, this, [this] {
        if (stale_) refresh(false);
    });
    refresh(false);
    // Listening to the current track through the shared player.
    wire_playback(ctx.player);
}

void DatasetsController::wire_playback(AudioPlayer* player) {
    widgets::PlaybackBar* bar = view_->playback();
    if (!player) { // a page made without the main window's services
        bar->set_unavailable(tr("No player in this window."));
        return;
    }
    bar->set_unavailable(player->unavailable());
    const auto mine = [this, player] {
        const int row = view_->current_track_row();
        return row >= 0 && player->track() == view_->track_model()->track(row).id;
    };
    connect(view_, &widgets::DatasetsView::playToggled, this, [this, player, mine] {
        const int row = view_->current_track_row();
        if (row < 0) return;
        const data::Track& t = view_->track_model()->track(row);
        if (t.path.empty() || t.status != data::TrackStatus::Valid) {
            view_->show_message(tr("%1 cannot be played: %2").arg(QString::fromStdString(t.key),
                                                                 QString::fromStdString(t.error.empty() ? "its file is missing" : t.error)),
                                true);
            return;
        }
        if (mine() && player->loaded()) player->toggle();
        else player->load(t.id, QString::fromStdString(t.path), true);
    });
    connect(view_->track_table()->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [bar, mine, player] {
                bar->set_ready(true);
                bar->set_playing(mine() && player->playing());
            });
    connect(player, &AudioPlayer::stateChanged, bar, [bar, mine](bool playing) { bar->set_playing(mine() && playing); });
    connect(player, &AudioPlayer::positionChanged, bar, [bar, mine, player](double s) {
        if (mine()) bar->set_position(s, player->duration());
    });
    connect(player, &AudioPlayer::loadedChanged, this, [this, player, mine] {
        if (mine() && !player->error().isEmpty()) view_->show_message(player->error(), true);
    });
}

DatasetsController::~DatasetsController() {
    if (feedback_) feedback_->cancel();
}

QString DatasetsController::signature(const store::DatasetSummary& d) {
    return QStringLiteral("%1 %2 %3 %4 %5 %6 %7 %8 %9")
        .arg(d.id).arg(QString::fromStdString(d.updated_at)).arg(d.tracks).arg(d.valid)
        .arg(d.invalid).arg(d.missing)
        .arg(QStringLiteral("%1/%2/%3/%4").arg(d.train).arg(d.val).arg(d.test).arg(d.excluded))
        .arg(QString::fromStdString(d.split_kind)).arg(d.folds);
}

void DatasetsController::refresh(bool force) {
    stale_ = false;
    try {
        QStringList names;
        signatures_.clear();
        for (const auto& d : workspace_->store().list_datasets()) {
            names << QString::fromStdString(d.name);
            signatures_[names.back()] = signature(d);
        }
        const int loads = loads_;
        view_->set_datasets(names, wanted_); // loads the selection itself when it changed
        wanted_.clear();
        const QString current = view_->current_dataset();
        if (current.isEmpty()) loaded_.clear();
        else if (loads == loads_ && (force || current != loaded_ || signatures_[current] != loaded_signature_))
            load(current);
    } catch (const std::exception& e) {
        view_->show_message(QString::fromStdString(e.what()), true);
    }
}

void DatasetsController::load(const QString& name) {
    ++loads_;
    try {
        const auto d = workspace_->store().load_dataset(name.toStdString());
        if (!d) {
            view_->clear_dataset();
            return;
        }
        view_->show_dataset(d->catalog, d->split);
        loaded_ = name;
        loaded_signature_ = signatures_[name];
    } catch (const std::exception& e) {
        view_->show_message(QString::fromStdString(e.what()), true);
    }
}

void DatasetsController::start_import(bool demo) {
    Job job;
    job.kind = demo ? Job::Demo : Job::Import;
    QString source = view_->import_path();
    // The demo goes to the folder typed, which must be new or empty (never mixed into a real
    // dataset), or by default to demo/ beside the workspace, which it may write over.
    const QString default_demo = QFileInfo(workspace_->path()).absoluteDir().filePath(QStringLiteral("demo"));
    if (demo && source.isEmpty()) {
        source = default_demo;
        view_->set_import_path(source);
    }
    if (source.isEmpty()) {
        view_->show_message(tr("Choose the folder to import first."), true);
        return;
    }
    job.import.kind = view_->import_kind().toStdString();
    job.import.source = QDir::cleanPath(source).toStdString();
    job.import.name = view_->import_name().toStdString();
    job.demo.kind = job.import.kind;
    job.demo.dir = job.import.source;
    job.demo.tracks = view_->demo_tracks_per_genre();
    job.demo.seconds = view_->demo_seconds();
    job.demo.must_be_empty = QDir::cleanPath(source) != QDir::cleanPath(default_demo);
    start(std::move(job), demo ? tr("Writing the demo set to %1...").arg(source) : tr("Importing %1...").arg(source));
}

void DatasetsController::start_resplit() {
    Job job;
    job.kind = Job::Resplit;
    job.import.name = view_->current_dataset().toStdString();
    if (job.import.name.empty()) {
        view_->show_message(tr("Import a dataset first."), true);
        return;
    }
    start(std::move(job), tr("Re-splitting %1...").arg(view_->current_dataset()));
}

void DatasetsController::start(Job job, const QString& what) {
    if (watcher_->isRunning()) return;
    job.db = workspace_->path().toStdString();
    job.import.split = view_->split_options();
    // A groups CSV names tracks the user has: a demo set about to be written has none yet.
    if (job.kind != Job::Demo) job.import.split.groups_file = view_->groups_path().toStdString();
    auto sink = std::make_shared<ProgressSink>();
    feedback_ = std::make_shared<Feedback>([sink](int64_t d, int64_t t, const std::string& item) { (*sink)(d, t, item); });
    view_->set_busy(true, what);
    watcher_->setFuture(QtConcurrent::run([job = std::move(job), fb = feedback_, sink](QPromise<DatasetJobResult>& promise) {
        run_job(promise, job, *fb, *sink);
    }));
}

void DatasetsController::job_finished() {
    view_->set_busy(false);
    feedback_.reset();
    const DatasetJobResult r = watcher_->future().resultCount()
                                   ? watcher_->result()
                                   : DatasetJobResult{{}, {}, tr("the job ended without a result")};
    if (!r.error.isEmpty()) {
        view_->show_message(r.error, true);
        if (status_) status_->showMessage(r.error, 10000);
        return;
    }
    view_->show_message(r.message, false);
    if (status_) status_->showMessage(r.message, 10000);
    wanted_ = r.dataset;
    refresh(true);
    workspace_->poll(); // tells the other pages; ours finds nothing new left to load
}

QWidget* create_datasets_page(AppContext& ctx, QWidget* parent) {
    auto* view = new widgets::DatasetsView(parent);
    new DatasetsController(ctx, view);
    return view;
}

} // namespace gafx::app
