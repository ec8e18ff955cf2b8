#pragma once
// A run's learned feature map of one track and its prediction there, cached beside the run:
// <run folder>/features/<entry>.npy (the map), <entry>.probs.npy (each clip's probabilities) and
// <entry>.key.json (what they were computed from). The cache counts only while that key matches
// by content: the xxh64 of the weights file and of the track's audio, the run config, the class
// count; and the arrays' own hashes match what is read. Anything else (stale, damaged, truncated)
// is recomputed and rewritten; a cache that cannot be written only costs time next call.
#include "core/feedback.h"
#include "data/catalog.h"
#include "data/clip_plan.h"

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace gafx::store {
struct RunRecord;
class RunStore;
} // namespace gafx::store

namespace gafx::train {

struct RunModel;

struct FeatureMapRequest {
    int64_t run = 0;
    std::string config;    // the run's stored RunConfig JSON
    int classes = 0;       // its dataset's
    bool multi_label = false;
    std::string weights;   // store::run_paths(...).best
    std::string cache_dir; // store::run_paths(...).dir + "/features"; empty: no disk cache
    data::Track track;     // id 0: an audio file outside the datasets (cached by its content hash)
    std::vector<std::string> class_names; // the dataset's, for showing the prediction
};

// The request for `run` (trained on `dataset`) on `track`, its files where store::run_paths puts them.
FeatureMapRequest feature_map_request(const std::string& db_path, const store::RunRecord& run,
                                      const data::Catalog& dataset, const data::Track& track);

// The same from the store, the track named as a user names it: a track key of the run's dataset
// ("blues/blues.00000.wav"), else the path of an audio file (one of the dataset's own files is
// that track; any other file is probed and cached by its content). Throws gafx::Error when the
// run, its dataset or the track is not there, or the file does not probe as audio.
FeatureMapRequest feature_map_request(store::RunStore& store, int64_t run, const std::string& track);

struct FeatureMap {
    int64_t run = 0, track = 0;
    std::vector<data::Clip> clips;          // the run's clips, where they lie in the track
    int64_t frames_per_clip = 0, bins = 0;
    std::vector<float> features;            // [clips * frames_per_clip, bins], clips in time order
    int64_t classes = 0;
    std::vector<float> clip_probabilities;  // [clips, classes]
    std::vector<float> probabilities;       // [classes]: the clips' averaged, as track accuracy is computed
    bool from_cache = false;
    uint64_t weights_hash = 0;              // file_content_hash of the weights it was computed with
};

// Models loaded once and reused, the most recently used `keep`, by run and weights content.
// Thread-safe; a model is used by one thread at a time (the caller's to arrange).
class RunModelCache {
public:
    explicit RunModelCache(size_t keep = 3) : keep_(keep) {}
    std::shared_ptr<RunModel> get(const FeatureMapRequest& request, uint64_t weights_hash);

private:
    struct Entry {
        int64_t run = 0;
        uint64_t weights_hash = 0;
        std::shared_ptr<RunModel> model;
    };
    size_t keep_;
    std::mutex mutex_;
    std::list<Entry> entries_;
};

// From the cache when it is current, else computed (loading the model through `models` when
// given) and cached. Throws gafx::Error as load_run_model and track_features do (no weights,
// undecodable audio), Cancelled when `feedback` asks.
FeatureMap run_feature_map(const FeatureMapRequest& request, RunModelCache* models = nullptr,
                           const Feedback* feedback = nullptr);

// xxh64 of a file's bytes, remembered per file_stamp: asking again about an unchanged file costs
// one stat, and any rewrite hashes again. 0 when the file cannot be read.
uint64_t file_content_hash(const std::string& path);

// The file as stat sees it (device, inode, size, mtime, ctime), hashed; 0 when it is missing.
// Any rewrite changes it (ctime moves even when mtime is set back), so in-memory caches use it
// to ask again cheaply; whether a result is stale is then decided by content, above.
uint64_t file_stamp(const std::string& path);

} // namespace gafx::train
