#pragma once
// Clips to tensors on worker threads. The order of an epoch depends only on (seed, epoch),
// never on the thread count or timing, so a run is reproducible and can resume mid-epoch.
#include "audio/audio_file.h"
#include "data/catalog.h"
#include "data/clip_plan.h"

#include <torch/types.h>

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace gafx::data {

class WaveformCache;

struct LoadItem {
    std::string path;
    int64_t track_id = 0;
    int clip = 0;
    double start_seconds = 0;
    double seconds = 0;
    std::vector<int> labels; // class indices
};

struct LoaderOptions {
    int batch_size = 4;
    int threads = 2;
    int sample_rate = 22050;
    audio::ChannelMode channels = audio::ChannelMode::Mono;
    bool shuffle = true;
    uint64_t seed = 0;
    bool drop_last = false;
    int num_classes = 0; // required for multi_label; bounds-checks single labels when > 0
    bool multi_label = false;
    int prefetch_batches = 4;
    // > 0 (training with a random crop): each clip starts anywhere in [0, this - its length)
    // instead of its planned place, drawn anew each epoch from (seed, epoch, item) alone, so a
    // resumed epoch crops the same. 0: the planned tiles.
    double crop_within_seconds = 0;
    // Data parallelism: batch k is still the global batch k of the epoch's order (batch_size
    // items), of which rank r of `world` gets the r-th of `world` contiguous, near-equal slices.
    int rank = 0, world = 1;
    // A fixed front end run on each clip in the loader's threads, [C, T] -> [frames, bins]: the
    // batch then holds its outputs instead of audio. With a cache and a non-empty
    // front_end_key (every setting that decides the output), clips at their planned place are
    // kept on disk beside the audio; random crops are computed afresh. Needs a sample rate.
    std::function<torch::Tensor(const torch::Tensor& clip)> front_end;
    std::string front_end_key;
    // Build each batch in page-locked (pinned) host memory, so its copy to a GPU can run while
    // the host goes on (non_blocking). Ignored where this libtorch has no CUDA.
    bool pin_memory = false;
};

struct Batch {
    // float32 [B, C, T]; T fits the longest clip, shorter ones zero-padded. With
    // LoaderOptions::front_end, its output per clip instead: [B, frames, bins].
    torch::Tensor audio;
    torch::Tensor targets; // int64 [B] (first label, -1 if none) or float32 multi-hot [B, K]
    std::vector<int64_t> track_ids;
    std::vector<int> clips;
    int64_t index = 0; // batch number within the epoch
    int64_t global_size = 0; // clips of the global batch this rank's slice is part of
    std::vector<int64_t> positions; // each clip's place in the epoch's order
};

// One item per planned clip of each listed track (catalogue indices), labels mapped through
// Catalog::class_index. Listed tracks the plan skipped (invalid, missing) yield nothing; a
// label the catalogue does not know throws gafx::Error naming the track.
std::vector<LoadItem> make_load_items(const Catalog& catalog, const ClipPlan& plan,
                                      const std::vector<size_t>& track_indices);

class BatchLoader {
public:
    // `cache` may be null (decode every time); it must outlive the loader. Throws gafx::Error
    // on inconsistent options.
    BatchLoader(std::vector<LoadItem> items, LoaderOptions options, WaveformCache* cache);
    ~BatchLoader();
    BatchLoader(const BatchLoader&) = delete;
    BatchLoader& operator=(const BatchLoader&) = delete;

    // Stops any running epoch and starts prefetching `epoch` from batch `first_batch`.
    void start_epoch(int epoch, int64_t first_batch = 0);

    // The next batch in order; nullopt at the end of the epoch (or before start_epoch). A
    // failure to load an item of this batch is rethrown here as the gafx::Error naming the file.
    std::optional<Batch> next();

    int64_t batches_per_epoch() const;
    // Seconds next() spent blocked since start_epoch.
    double wait_seconds() const;

private:
    struct Slot {
        std::optional<Batch> batch;
        std::exception_ptr error;
    };
    void stop();
    void work();
    Batch build(int64_t index) const;

    std::vector<LoadItem> items_;
    LoaderOptions opt_;
    WaveformCache* cache_;

    std::vector<size_t> order_;
    int epoch_ = 0;
    mutable std::mutex mutex_;
    std::condition_variable produced_, consumed_;
    std::map<int64_t, Slot> ready_;
    int64_t next_claim_ = 0, next_out_ = 0, end_ = 0;
    bool stopping_ = false, started_ = false;
    double wait_seconds_ = 0;
    std::vector<std::thread> workers_;
};

} // namespace gafx::data
