// The Datasets page: wires widgets::DatasetPage to the workspace. Imports, demo writing and
// re-splits run on QtConcurrent with their own RunStore connection (the same engine calls as
// `gafx dataset`), report progress through a QPromise and stop through a gafx::Feedback; the
// GUI thread only reads the dataset list and the chosen dataset through the Workspace.
#include "pages.h"
#include "workspace.h"

#include "dataset_page.h"

#include "core/error.h"
#include "core/feedback.h"
#include "data/audioset.h"
#include "data/audioset_demo.h"
#include "data/demo.h"
#include "data/gtzan.h"
#include "data/split.h"
#include "store/run_store.h"

#include <QDir>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QPromise>
#include <QStatusBar>
#include <QtConcurrent>

#include <filesystem>
#include <map>
#include <memory>

namespace gafx::app {
namespace {

struct Job {
    enum Kind { Import, Demo, Resplit } kind = Import;
    std::string db;
    std::string data_kind; // "gtzan" | "audioset"
    std::string source;    // folder (or AudioSet JSON); the demo's target folder
    std::string name;      // import: dataset name ("" = folder name); re-split: the dataset
    int demo_tracks = 10;
    double demo_seconds = 30;
    bool demo_needs_empty_folder = true; // false for the default folder beside the workspace
    data::SplitOptions split;
};

struct JobResult {
    QString dataset, message, error;
};

// Where a job's progress goes: set on the pool thread before each phase, read by the Feedback's
// callback on that same thread. Maps engine progress (done / total) into [from, to] per mille of
// the whole job, since a QPromise's progress may only grow.
struct ProgressSink {
    QPromise<JobResult>* promise = nullptr;
    int from = 0, to = 1000;
    QString what;
    void operator()(int64_t done, int64_t total, const std::string& item) const {
        if (!promise) return;
        const int permille = from + int(total > 0 ? (to - from) * done / total : 0);
        promise->setProgressValueAndText(permille, what + QString::fromStdString(item.empty() ? "" : ": " + item));
    }
};

void report_into(ProgressSink& sink, QPromise<JobResult>& promise, int from, int to, const QString& what) {
    sink = ProgressSink{&promise, from, to, what};
}

data::Groups read_groups(const Job& job, const data::Catalog& catalog, QString& note) {
    if (job.split.groups_file.empty()) return {};
    data::Groups g = data::read_groups_csv(job.split.groups_file, catalog);
    if (!g.unmatched.empty())
        note = QObject::tr(" Groups: %1 row(s) name no track of this dataset (first: %2).")
                   .arg(g.unmatched.size())
                   .arg(QString::fromStdString(g.unmatched.front()));
    return g;
}

JobResult import(QPromise<JobResult>& promise, const Job& job, Feedback& fb, ProgressSink& sink, int from) {
    report_into(sink, promise, from, 1000, QObject::tr("probing"));
    data::Catalog catalog = job.data_kind == "gtzan"
                                ? data::import_gtzan(job.source, data::GtzanOptions{job.name}, &fb)
                                : data::import_audioset(job.source, data::AudioSetOptions{job.name}, &fb);
    sink.promise = nullptr;
    const int64_t valid = catalog.count(data::TrackStatus::Valid);
    if (valid == 0)
        throw Error(job.source, "no valid audio among " + std::to_string(catalog.tracks.size()) + " tracks; nothing stored",
                    "check the folder layout (GTZAN: <folder>/<genre>/<track>.wav)");
    QString note;
    const data::Groups groups = read_groups(job, catalog, note);
    const data::Split split = data::make_split(catalog, job.split, groups);
    fb.throw_if_cancelled(job.source);
    promise.setProgressValueAndText(999, QObject::tr("storing %1 tracks").arg(catalog.tracks.size()));
    store::RunStore db(job.db);
    const int64_t id = db.save_catalog(catalog);
    db.save_split(id, catalog, split);
    JobResult r;
    r.dataset = QString::fromStdString(catalog.name);
    r.message = QObject::tr("Imported '%1': %2 tracks, %3 valid, %4 invalid, %5 missing; split %6 train / %7 test.%8")
                    .arg(r.dataset)
                    .arg(catalog.tracks.size())
                    .arg(valid)
                    .arg(catalog.count(data::TrackStatus::Invalid))
                    .arg(catalog.count(data::TrackStatus::Missing))
                    .arg(split.count(data::Subset::Train))
                    .arg(split.count(data::Subset::Test))
                    .arg(note);
    return r;
}

JobResult resplit(const Job& job) {
    store::RunStore db(job.db);
    auto d = db.load_dataset(job.name);
    if (!d) throw Error(job.db, "no dataset named '" + job.name + "'", "choose one from the list");
    QString note;
    const data::Groups groups = read_groups(job, d->catalog, note);
    const data::Split split = data::make_split(d->catalog, job.split, groups);
    db.save_split(d->id, d->catalog, split);
    JobResult r;
    r.dataset = QString::fromStdString(job.name);
    r.message = QObject::tr("Re-split '%1' with seed %2: %3 train / %4 test.%5")
                    .arg(r.dataset)
                    .arg(job.split.seed)
                    .arg(split.count(data::Subset::Train))
                    .arg(split.count(data::Subset::Test))
                    .arg(note);
    return r;
}

// On a pool thread. Every failure comes back as a message, never as an exception.
void run_job(QPromise<JobResult>& promise, const Job& job, Feedback& fb, ProgressSink& sink) {
    promise.setProgressRange(0, 1000);
    JobResult r;
    try {
        if (job.kind == Job::Resplit) {
            r = resplit(job);
        } else if (job.kind == Job::Demo) {
            std::error_code ec;
            if (job.demo_needs_empty_folder && std::filesystem::exists(job.source, ec) &&
                !std::filesystem::is_empty(job.source, ec))
                throw Error(job.source, "the folder is not empty",
                            "choose a new or empty folder for the demo set, or leave the folder empty for the default");
            report_into(sink, promise, 0, 400, QObject::tr("writing demo"));
            if (job.data_kind == "gtzan") {
                data::DemoOptions o;
                o.tracks_per_genre = job.demo_tracks;
                o.seconds = job.demo_seconds;
                data::write_gtzan_demo(job.source, o, &fb);
            } else {
                data::AudioSetDemoOptions o;
                o.clips = job.demo_tracks;
                o.seconds = job.demo_seconds;
                data::write_audioset_demo(job.source, o, &fb);
            }
            fb.throw_if_cancelled(job.source);
            r = import(promise, job, fb, sink, 400);
        } else {
            r = import(promise, job, fb, sink, 0);
        }
    } catch (const Cancelled&) {
        r.error = job.kind == Job::Demo ? QObject::tr("Demo writing cancelled.") : QObject::tr("Import cancelled.");
    } catch (const Error& e) {
        r.error = QString::fromStdString(e.what());
    } catch (const std::exception& e) {
        r.error = QString::fromStdString(e.what());
    }
    sink.promise = nullptr; // it refers to this promise
    promise.addResult(r);
}

// Lives as a child of the page; holds the running job, if any.
class DatasetsController : public QObject {
public:
    DatasetsController(AppContext& ctx, widgets::DatasetPage* page)
        : QObject(page), workspace_(ctx.workspace), status_(ctx.status), page_(page) {
        watcher_ = new QFutureWatcher<JobResult>(this);
        connect(watcher_, &QFutureWatcherBase::progressValueChanged, page_,
                [this](int v) { page_->set_progress(v, {}); });
        connect(watcher_, &QFutureWatcherBase::progressTextChanged, page_,
                [this](const QString& t) { page_->set_progress(watcher_->progressValue(), t); });
        connect(watcher_, &QFutureWatcherBase::finished, this, &DatasetsController::job_finished);
        connect(page_, &widgets::DatasetPage::importRequested, this, [this] { start_import(Job::Import); });
        connect(page_, &widgets::DatasetPage::demoRequested, this, [this] { start_import(Job::Demo); });
        connect(page_, &widgets::DatasetPage::resplitRequested, this, &DatasetsController::start_resplit);
        connect(page_, &widgets::DatasetPage::cancelRequested, this, [this] {
            if (feedback_) feedback_->cancel();
            page_->show_message(tr("Cancelling..."), false);
        });
        connect(page_, &widgets::DatasetPage::datasetSelected, this, &DatasetsController::load);
        // Other pages and processes commit all the time while training; catch up only when seen.
        connect(workspace_, &Workspace::changed, this, [this] {
            if (page_->isVisible()) refresh(false);
            else stale_ = true;
        });
        connect(page_, &widgets::DatasetPage::shown, this, [this] {
            if (stale_) refresh(false);
        });
        refresh(false);
    }

    ~DatasetsController() override {
        // A job still running finishes on its own thread; asking it to stop is all we can do.
        if (feedback_) feedback_->cancel();
    }

private:
    static QString signature(const store::DatasetSummary& d) {
        return QStringLiteral("%1 %2 %3 %4 %5 %6 %7 %8")
            .arg(d.id).arg(QString::fromStdString(d.updated_at)).arg(d.tracks).arg(d.valid)
            .arg(d.invalid).arg(d.missing).arg(d.train).arg(d.test);
    }

    void refresh(bool force) {
        stale_ = false;
        try {
            QStringList names;
            signatures_.clear();
            for (const auto& d : workspace_->store().list_datasets()) {
                names << QString::fromStdString(d.name);
                signatures_[names.back()] = signature(d);
            }
            const int loads = loads_;
            page_->set_datasets(names, wanted_); // loads the selection itself when it changed
            wanted_.clear();
            const QString current = page_->current_dataset();
            if (current.isEmpty()) loaded_.clear();
            else if (loads == loads_ && (force || current != loaded_ || signatures_[current] != loaded_signature_))
                load(current);
        } catch (const std::exception& e) {
            page_->show_message(QString::fromStdString(e.what()), true);
        }
    }

    void load(const QString& name) {
        ++loads_;
        try {
            const auto d = workspace_->store().load_dataset(name.toStdString());
            if (!d) {
                page_->clear_dataset();
                return;
            }
            page_->show_dataset(d->catalog, d->split);
            loaded_ = name;
            loaded_signature_ = signatures_[name];
        } catch (const std::exception& e) {
            page_->show_message(QString::fromStdString(e.what()), true);
        }
    }

    void start_import(Job::Kind kind) {
        Job job;
        job.kind = kind;
        job.data_kind = page_->import_kind().toStdString();
        QString source = page_->import_path();
        // The demo goes to the folder typed, which must be new or empty (never mixed into a real
        // dataset), or by default to demo/ beside the workspace, which it may write over.
        const QString default_demo = QFileInfo(workspace_->path()).absoluteDir().filePath(QStringLiteral("demo"));
        if (kind == Job::Demo && source.isEmpty()) {
            source = default_demo;
            page_->set_import_path(source);
        }
        job.demo_needs_empty_folder = QDir::cleanPath(source) != QDir::cleanPath(default_demo);
        if (source.isEmpty()) {
            page_->show_message(tr("Choose the folder to import first."), true);
            return;
        }
        job.source = QDir::cleanPath(source).toStdString();
        job.name = page_->import_name().toStdString();
        job.demo_tracks = page_->demo_tracks_per_genre();
        job.demo_seconds = page_->demo_seconds();
        start(job, kind == Job::Demo ? tr("Writing the demo set to %1...").arg(source) : tr("Importing %1...").arg(source));
    }

    void start_resplit() {
        Job job;
        job.kind = Job::Resplit;
        job.name = page_->current_dataset().toStdString();
        if (job.name.empty()) {
            page_->show_message(tr("Import a dataset first."), true);
            return;
        }
        start(job, tr("Re-splitting %1...").arg(page_->current_dataset()));
    }

    void start(Job job, const QString& what) {
        if (watcher_->isRunning()) return;
        job.db = workspace_->path().toStdString();
        job.split.seed = page_->split_seed();
        job.split.train_fraction = page_->train_fraction();
        // Groups name one dataset's tracks, so only a re-split of the chosen dataset uses them.
        if (job.kind == Job::Resplit) job.split.groups_file = page_->groups_path().toStdString();
        auto sink = std::make_shared<ProgressSink>();
        feedback_ = std::make_shared<Feedback>([sink](int64_t d, int64_t t, const std::string& item) { (*sink)(d, t, item); });
        page_->set_busy(true, what);
        watcher_->setFuture(QtConcurrent::run([job, fb = feedback_, sink](QPromise<JobResult>& promise) {
            run_job(promise, job, *fb, *sink);
        }));
    }

    void job_finished() {
        page_->set_busy(false);
        feedback_.reset();
        const JobResult r = watcher_->future().resultCount() ? watcher_->result() : JobResult{{}, {}, tr("the job ended without a result")};
        if (!r.error.isEmpty()) {
            page_->show_message(r.error, true);
            if (status_) status_->showMessage(r.error, 10000);
            return;
        }
        page_->show_message(r.message, false);
        if (status_) status_->showMessage(r.message, 10000);
        wanted_ = r.dataset;
        refresh(true);
        workspace_->poll(); // tells the other pages; ours finds nothing new left to load

    }

    Workspace* workspace_;
    QStatusBar* status_;
    widgets::DatasetPage* page_;
    QFutureWatcher<JobResult>* watcher_ = nullptr;
    std::shared_ptr<Feedback> feedback_;
    std::map<QString, QString> signatures_; // dataset name -> its summary at the last refresh
    QString wanted_;                        // select this one at the next refresh
    QString loaded_, loaded_signature_;     // what the table shows
    int loads_ = 0;
    bool stale_ = false;
};

} // namespace

QWidget* create_datasets_page(AppContext& ctx, QWidget* parent) {
    auto* page = new widgets::DatasetPage(parent);
    new DatasetsController(ctx, page);
    return page;
}

} // namespace gafx::app
