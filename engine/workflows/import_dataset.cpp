#include "workflows/import_dataset.h"

#include "data/audioset.h"
#include "data/gtzan.h"
#include "store/run_store.h"

namespace gafx::workflows {
namespace {

std::string no_valid_audio_fix(const std::string& kind) {
    return kind == "gtzan" ? "check the folder layout (GTZAN: <folder>/<genre>/<track>.wav)"
                           : "check that the audio is below the folder, named by YouTube id (<YTID>.wav)";
}

BadTrack bad_track(const data::Track& t) { return BadTrack{t.path.empty() ? t.key : t.path, t.status, t.error}; }

// Reads the groups CSV named in `split` (if any); its rows naming no track become a warning.
data::Groups read_groups(const data::SplitOptions& split, const data::Catalog& catalog,
                         std::vector<std::string>& warnings, std::vector<std::string>& unmatched) {
    if (split.groups_file.empty()) return {};
    data::Groups g = data::read_groups_csv(split.groups_file, catalog);
    unmatched = g.unmatched;
    if (!unmatched.empty())
        warnings.push_back(split.groups_file + ": " + std::to_string(unmatched.size()) +
                           " row(s) name no track of this dataset (first: " + unmatched.front() + ")");
    return g;
}

data::Catalog catalogue(const ImportRequest& r, Feedback* feedback) {
    if (r.kind == "gtzan") return data::import_gtzan(r.source, data::GtzanOptions{r.name}, feedback);
    return data::import_audioset(r.source, data::AudioSetOptions{r.name}, feedback);
}

} // namespace

NoValidAudio::NoValidAudio(const std::string& source, const std::string& kind, std::vector<BadTrack> tracks,
                           int64_t catalogued)
    : Error(source, "no valid audio among " + std::to_string(catalogued) + " tracks; nothing stored",
            no_valid_audio_fix(kind)),
      tracks_(std::move(tracks)) {}

void check_request(const ImportRequest& r) {
    if (r.kind != "gtzan" && r.kind != "audioset")
        throw Error(r.source, "import kind must be gtzan or audioset, got '" + r.kind + "'", {}, ErrorField{{}, "kind"});
    try {
        data::check_split_options(r.split);
    } catch (const Error& e) {
        throw Error(r.source, e.reason(), e.fix(), e.field());
    }
}

ImportReport import_dataset(store::RunStore& store, const ImportRequest& request, Feedback* feedback) {
    check_request(request);
    data::Catalog catalog = catalogue(request, feedback);
    const int64_t valid = catalog.count(data::TrackStatus::Valid);
    if (valid == 0) {
        std::vector<BadTrack> bad;
        for (const auto& t : catalog.tracks) bad.push_back(bad_track(t));
        throw NoValidAudio(request.source, request.kind, std::move(bad), int64_t(catalog.tracks.size()));
    }
    ImportReport r;
    r.warnings = catalog.warnings;
    const data::Groups groups = read_groups(request.split, catalog, r.warnings, r.unmatched_group_rows);
    const data::Split split = data::make_split(catalog, request.split, groups);
    // The last chance to stop: after this the dataset is in the workspace.
    throw_if_cancelled(feedback, request.source);
    const int64_t id = store.save_catalog(catalog);
    store.save_split(id, catalog, split);

    r.dataset = catalog.name;
    r.kind = catalog.kind;
    r.source = request.source;
    r.database = store.path();
    r.tracks = int64_t(catalog.tracks.size());
    r.valid = valid;
    r.invalid = catalog.count(data::TrackStatus::Invalid);
    r.missing = catalog.count(data::TrackStatus::Missing);
    r.classes = int64_t(catalog.classes.size());
    r.counts = split.counts();
    r.fold_sizes = split.fold_sizes();
    r.missing_listed = split.missing;
    r.split_method = split.method;
    r.split = split.options;
    for (const auto& t : catalog.tracks)
        if (t.status == data::TrackStatus::Invalid) r.invalid_tracks.push_back(bad_track(t));
    r.skipped_non_audio = int64_t(catalog.skipped_non_audio.size());
    r.skipped_hidden = catalog.skipped_hidden;
    return r;
}

ResplitReport resplit_dataset(store::RunStore& store, const std::string& name, const data::SplitOptions& options,
                              Feedback* feedback) {
    try {
        data::check_split_options(options);
    } catch (const Error& e) {
        throw Error(name, e.reason(), e.fix(), e.field());
    }
    const auto d = store.load_dataset(name);
    if (!d) throw Error(store.path(), "no dataset named '" + name + "'", "choose one of the workspace's datasets");
    ResplitReport r;
    const data::Groups groups = read_groups(options, d->catalog, r.warnings, r.unmatched_group_rows);
    const data::Split split = data::make_split(d->catalog, options, groups);
    throw_if_cancelled(feedback, name);
    store.save_split(d->id, d->catalog, split);
    r.dataset = name;
    r.counts = split.counts();
    r.fold_sizes = split.fold_sizes();
    r.missing_listed = split.missing;
    r.split_method = split.method;
    r.split = split.options;
    return r;
}

} // namespace gafx::workflows
