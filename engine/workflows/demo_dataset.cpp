#include "workflows/demo_dataset.h"

#include "data/audioset_demo.h"
#include "data/demo.h"
#include "store/run_store.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace gafx::workflows {
namespace {

bool holds_anything(const std::string& dir) {
    std::error_code ec;
    return fs::exists(dir, ec) && !fs::is_empty(dir, ec);
}

bool holds_a_genre_folder(const std::string& dir) {
    std::error_code ec;
    for (const auto& g : data::gtzan_genres())
        if (fs::is_directory(fs::path(dir) / g, ec)) return true;
    return false;
}

} // namespace

std::vector<std::string> write_demo(const DemoRequest& r, Feedback* feedback) {
    if (r.kind != "gtzan" && r.kind != "audioset")
        throw Error(r.dir, "demo kind must be gtzan or audioset, got '" + r.kind + "'", {}, ErrorField{{}, "kind"});
    if (r.must_be_empty && holds_anything(r.dir))
        throw Error(r.dir, "the folder is not empty", "choose a new or empty folder for the demo set");
    std::vector<std::string> files;
    if (r.kind == "gtzan") {
        data::DemoOptions o;
        if (r.tracks) o.tracks_per_genre = *r.tracks;
        if (r.seconds) o.seconds = *r.seconds;
        o.seed = r.seed;
        files = data::write_gtzan_demo(r.dir, o, feedback).files;
    } else {
        data::AudioSetDemoOptions o;
        if (r.tracks) o.clips = *r.tracks;
        if (r.seconds) o.seconds = *r.seconds;
        o.seed = r.seed;
        files = data::write_audioset_demo(r.dir, o, feedback);
    }
    throw_if_cancelled(feedback, r.dir);
    return files;
}

std::optional<ImportReport> ensure_demo_dataset(store::RunStore& store, const std::string& dir, Feedback* feedback) {
    if (store.load_dataset(kDemoDatasetName)) return std::nullopt;
    if (!holds_a_genre_folder(dir)) {
        DemoRequest demo;
        demo.dir = dir;
        write_demo(demo, feedback);
    }
    ImportRequest import;
    import.kind = "gtzan";
    import.source = dir;
    import.name = kDemoDatasetName;
    return import_dataset(store, import, feedback);
}

} // namespace gafx::workflows
