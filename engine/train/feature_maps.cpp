#include "train/feature_maps.h"

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/npy.h"
#include "data/scan.h"
#include "data/waveform_cache.h"
#include "experiments/experiment.h"
#include "store/run_paths.h"
#include "store/run_store.h"
#include "train/run_model.h"

#include <nlohmann/json.hpp>
#include <xxhash.h>

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace gafx::train {
namespace {

constexpr int kKeyVersion = 1;
constexpr std::uintmax_t kMaxKeyBytes = 64 * 1024; // a key is a few hundred bytes

std::string hex(uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

uint64_t hash_floats(const std::vector<float>& v) { return XXH3_64bits(v.data(), v.size() * sizeof(float)); }

// What the cached arrays were computed from; the arrays' own hashes are added when written.
Json source_key(const FeatureMapRequest& r, uint64_t weights_hash, uint64_t track_hash) {
    return {{"version", kKeyVersion},
            {"weights", hex(weights_hash)},
            {"config", hex(XXH3_64bits(r.config.data(), r.config.size()))},
            {"track", hex(track_hash)},
            {"classes", r.classes},
            {"multi_label", r.multi_label}};
}

struct CachePaths {
    std::string features, probabilities, key;
};

CachePaths cache_paths(const FeatureMapRequest& r, uint64_t track_hash) {
    const std::string entry = r.track.id > 0 ? std::to_string(r.track.id) : "file-" + hex(track_hash);
    const std::string stem = r.cache_dir + "/" + entry;
    return {stem + ".npy", stem + ".probs.npy", stem + ".key.json"};
}

// The cached map when its key matches `source` and the arrays are whole; anything else is a miss.
bool read_cache(const CachePaths& p, const Json& source, const std::vector<data::Clip>& clips, int classes,
                FeatureMap& m) {
    try {
        std::error_code ec;
        const auto size = fs::file_size(p.key, ec);
        if (ec || size > kMaxKeyBytes) return false;
        std::ifstream in(p.key, std::ios::binary);
        const Json key = Json::parse(in);
        for (auto it = source.begin(); it != source.end(); ++it)
            if (!key.contains(it.key()) || key.at(it.key()) != it.value()) return false;
        NpyArray f = read_npy_f32(p.features), probs = read_npy_f32(p.probabilities);
        const int64_t n = int64_t(clips.size());
        if (n == 0 || f.shape.size() != 2 || probs.shape.size() != 2 || probs.shape[0] != n ||
            probs.shape[1] != classes || f.shape[0] % n != 0 || f.shape[0] == 0)
            return false;
        if (key.at("features").get<std::string>() != hex(hash_floats(f.data)) ||
            key.at("probabilities").get<std::string>() != hex(hash_floats(probs.data)))
            return false;
        m.clips = clips;
        m.frames_per_clip = f.shape[0] / n;
        m.bins = f.shape[1];
        m.features = std::move(f.data);
        m.classes = probs.shape[1];
        m.clip_probabilities = std::move(probs.data);
        return true;
    } catch (const std::exception&) {
        return false; // unreadable, damaged, truncated: only a cache, recomputed
    }
}

void write_cache(const CachePaths& p, const std::string& dir, Json key, const FeatureMap& m) {
    try {
        fs::create_directories(dir);
        write_npy_f32(p.features, m.features.data(), {int64_t(m.clips.size()) * m.frames_per_clip, m.bins});
        write_npy_f32(p.probabilities, m.clip_probabilities.data(), {int64_t(m.clips.size()), m.classes});
        // The key last: until it names these arrays' hashes, a reader takes them for stale.
        key["features"] = hex(hash_floats(m.features));
        key["probabilities"] = hex(hash_floats(m.clip_probabilities));
        const std::string text = key.dump(2) + "\n";
        write_file_atomic(p.key, [&](const auto& write) { write(text.data(), text.size()); });
    } catch (const std::exception&) {
        // Only a cache: a read-only run folder costs a recomputation next time.
    }
}

} // namespace

FeatureMapRequest feature_map_request(const std::string& db_path, const store::RunRecord& run,
                                      const data::Catalog& dataset, const data::Track& track) {
    const store::RunPaths paths = store::run_paths(db_path, run);
    FeatureMapRequest r;
    r.run = run.id;
    r.config = run.config;
    r.classes = int(dataset.classes.size());
    r.multi_label = dataset.multi_label;
    r.weights = paths.best;
    r.cache_dir = paths.dir + "/features";
    r.track = track;
    for (const auto& c : dataset.classes) r.class_names.push_back(c.display_name.empty() ? c.id : c.display_name);
    return r;
}

FeatureMapRequest feature_map_request(store::RunStore& store, int64_t run_id, const std::string& what) {
    const auto run = store.run(run_id);
    if (!run) throw Error(store.path(), "there is no run " + std::to_string(run_id), "`gafx runs` lists them");
    const auto config = experiments::parse_run_config(run->config);
    const auto dataset = store.load_dataset(config.dataset);
    if (!dataset)
        throw Error(store.path(), "run " + std::to_string(run_id) + " was trained on dataset '" + config.dataset +
                                      "', which this workspace no longer has",
                    "import it again under that name");
    const data::Catalog& cat = dataset->catalog;
    for (const auto& t : cat.tracks)
        if (t.key == what) return feature_map_request(store.path(), *run, cat, t);
    std::error_code ec;
    if (!fs::is_regular_file(what, ec))
        throw Error(what, "is neither a track of '" + cat.name + "' nor an audio file",
                    "give a track key as `gafx dataset show " + cat.name + "` lists it, or a file's path");
    const fs::path wanted = fs::weakly_canonical(what, ec);
    for (const auto& t : cat.tracks) {
        std::error_code ec2;
        if (!t.path.empty() && fs::weakly_canonical(t.path, ec2) == wanted && !ec2)
            return feature_map_request(store.path(), *run, cat, t);
    }
    data::Track outside;
    outside.path = ec ? what : wanted.string();
    outside.key = fs::path(what).filename().string();
    data::probe_track(outside);
    if (outside.status != data::TrackStatus::Valid) throw Error(outside.path, outside.error);
    return feature_map_request(store.path(), *run, cat, outside);
}

std::shared_ptr<RunModel> RunModelCache::get(const FeatureMapRequest& r, uint64_t weights_hash) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
        if (it->run == r.run && it->weights_hash == weights_hash) {
            entries_.splice(entries_.begin(), entries_, it);
            return it->model;
        }
    entries_.remove_if([&](const Entry& e) { return e.run == r.run; }); // older weights
    auto m = std::make_shared<RunModel>(load_run_model(r.config, r.classes, r.multi_label, r.weights));
    entries_.push_front({r.run, weights_hash, m});
    while (entries_.size() > keep_) entries_.pop_back();
    return m;
}

uint64_t file_stamp(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return 0;
    const int64_t fields[] = {int64_t(st.st_dev),        int64_t(st.st_ino),         int64_t(st.st_size),
                              int64_t(st.st_mtim.tv_sec), int64_t(st.st_mtim.tv_nsec), int64_t(st.st_ctim.tv_sec),
                              int64_t(st.st_ctim.tv_nsec)};
    const uint64_t h = XXH3_64bits(fields, sizeof fields);
    return h ? h : 1;
}

uint64_t file_content_hash(const std::string& path) {
    const uint64_t stamp = file_stamp(path);
    if (!stamp) return 0;
    static std::mutex mutex;
    static std::map<std::string, std::pair<uint64_t, uint64_t>> known; // path -> (stamp, hash)
    {
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = known.find(path);
        if (it != known.end() && it->second.first == stamp) return it->second.second;
    }
    uint64_t h = 0;
    try {
        h = data::WaveformCache::hash_file(path);
    } catch (const Error&) {
        return 0;
    }
    std::lock_guard<std::mutex> lock(mutex);
    known[path] = {stamp, h};
    return h;
}

FeatureMap run_feature_map(const FeatureMapRequest& r, RunModelCache* models, const Feedback* feedback) {
    throw_if_cancelled(feedback, r.track.path);
    FeatureMap m;
    m.run = r.run;
    m.track = r.track.id;
    m.weights_hash = file_content_hash(r.weights);
    const uint64_t track_hash = file_content_hash(r.track.path);
    // Unreadable weights or audio: no cache to trust; computing says what is wrong.
    const bool cacheable = !r.cache_dir.empty() && m.weights_hash != 0 && track_hash != 0;
    const Json source = source_key(r, m.weights_hash, track_hash);
    const CachePaths paths = cache_paths(r, track_hash);
    if (cacheable)
        m.from_cache = read_cache(paths, source, run_clips(experiments::parse_run_config(r.config)), r.classes, m);
    if (!m.from_cache) {
        throw_if_cancelled(feedback, r.track.path);
        std::shared_ptr<RunModel> model =
            models ? models->get(r, m.weights_hash)
                   : std::make_shared<RunModel>(load_run_model(r.config, r.classes, r.multi_label, r.weights));
        TrackFeatures t = track_features(*model, r.track, feedback);
        m.clips = std::move(t.clips);
        m.frames_per_clip = t.frames_per_clip;
        m.bins = t.bins;
        m.features = std::move(t.features);
        m.classes = t.classes;
        m.clip_probabilities = std::move(t.probabilities);
        if (cacheable) write_cache(paths, r.cache_dir, source, m);
    }
    m.probabilities.assign(size_t(m.classes), 0.f);
    const size_t n = m.clips.size();
    for (size_t c = 0; c < n; ++c)
        for (int64_t k = 0; k < m.classes; ++k)
            m.probabilities[size_t(k)] += m.clip_probabilities[c * size_t(m.classes) + size_t(k)] / float(n);
    return m;
}

} // namespace gafx::train
