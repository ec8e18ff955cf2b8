#include "data/batch_loader.h"

#include "core/error.h"
#include "core/rng.h"
#include "data/waveform_cache.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>
#include <unordered_map>

namespace gafx::data {

std::vector<LoadItem> make_load_items(const Catalog& catalog, const ClipPlan& plan,
                                      const std::vector<size_t>& track_indices) {
    std::unordered_map<size_t, const TrackPlan*> planned;
    for (const auto& tp : plan.tracks) planned[tp.track] = &tp;
    // class_index is a linear scan; AudioSet has hundreds of classes and many labelled tracks.
    std::unordered_map<std::string, int> class_of;
    std::vector<LoadItem> items;
    for (size_t idx : track_indices) {
        if (idx >= catalog.tracks.size())
            throw Error({}, "track index " + std::to_string(idx) + " is outside the catalogue");
        const auto it = planned.find(idx);
        if (it == planned.end()) continue;
        const Track& t = catalog.tracks[idx];
        std::vector<int> labels;
        for (const auto& id : t.labels) {
            auto c = class_of.find(id);
            if (c == class_of.end()) c = class_of.emplace(id, catalog.class_index(id)).first;
            if (c->second < 0)
                throw Error(t.path.empty() ? t.key : t.path,
                            "label '" + id + "' is not a class of catalogue '" + catalog.name + "'",
                            "re-import the dataset");
            labels.push_back(c->second);
        }
        for (const Clip& clip : it->second->clips)
            items.push_back({t.path, t.id, clip.index, clip.start_seconds, clip.seconds, labels});
    }
    return items;
}

BatchLoader::BatchLoader(std::vector<LoadItem> items, LoaderOptions options, WaveformCache* cache)
    : items_(std::move(items)), opt_(options), cache_(cache) {
    if (opt_.batch_size < 1) throw Error({}, "batch size must be at least 1");
    if (opt_.sample_rate < 0) throw Error({}, "sample rate must not be negative");
    if (opt_.world < 1 || opt_.rank < 0 || opt_.rank >= opt_.world)
        throw Error({}, "rank " + std::to_string(opt_.rank) + " is outside a world of " + std::to_string(opt_.world));
    if (opt_.multi_label && opt_.num_classes < 1)
        throw Error({}, "multi-label batches need the number of classes");
    if (opt_.front_end && opt_.sample_rate <= 0)
        throw Error({}, "a loader that runs the front end needs a fixed sample rate");
    opt_.threads = std::max(1, opt_.threads);
    opt_.prefetch_batches = std::max(1, opt_.prefetch_batches);
}

BatchLoader::~BatchLoader() { stop(); }

int64_t BatchLoader::batches_per_epoch() const {
    const int64_t n = int64_t(items_.size()), b = opt_.batch_size;
    return opt_.drop_last ? n / b : (n + b - 1) / b;
}

double BatchLoader::wait_seconds() const {
    std::lock_guard<std::mutex> g(mutex_);
    return wait_seconds_;
}

void BatchLoader::stop() {
    {
        std::lock_guard<std::mutex> g(mutex_);
        stopping_ = true;
    }
    produced_.notify_all();
    consumed_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
    std::lock_guard<std::mutex> g(mutex_);
    ready_.clear();
    started_ = false;
}

void BatchLoader::start_epoch(int epoch, int64_t first_batch) {
    stop();
    epoch_ = epoch;
    order_.resize(items_.size());
    std::iota(order_.begin(), order_.end(), size_t(0));
    if (opt_.shuffle) Rng(mix_seed(opt_.seed, uint64_t(int64_t(epoch)))).shuffle(order_);
    {
        std::lock_guard<std::mutex> g(mutex_);
        end_ = batches_per_epoch();
        next_out_ = next_claim_ = std::clamp<int64_t>(first_batch, 0, end_);
        stopping_ = false;
        started_ = true;
        wait_seconds_ = 0;
    }
    const int64_t n = std::min<int64_t>(opt_.threads, end_ - next_out_);
    for (int64_t i = 0; i < n; ++i) workers_.emplace_back([this] { work(); });
}

void BatchLoader::work() {
    for (;;) {
        int64_t b;
        {
            std::unique_lock<std::mutex> lk(mutex_);
            consumed_.wait(lk, [&] {
                return stopping_ || next_claim_ >= end_ ||
                       next_claim_ < next_out_ + opt_.prefetch_batches;
            });
            if (stopping_ || next_claim_ >= end_) return;
            b = next_claim_++;
        }
        Slot s;
        try {
            s.batch = build(b);
        } catch (...) {
            s.error = std::current_exception();
        }
        {
            std::lock_guard<std::mutex> g(mutex_);
            if (stopping_) return;
            ready_[b] = std::move(s);
        }
        produced_.notify_all();
    }
}

std::optional<Batch> BatchLoader::next() {
    Slot s;
    {
        std::unique_lock<std::mutex> lk(mutex_);
        if (!started_ || next_out_ >= end_) return std::nullopt;
        const auto t0 = std::chrono::steady_clock::now();
        produced_.wait(lk, [&] { return ready_.count(next_out_) > 0; });
        wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        auto it = ready_.find(next_out_);
        s = std::move(it->second);
        ready_.erase(it);
        ++next_out_;
    }
    consumed_.notify_all();
    if (s.error) std::rethrow_exception(s.error);
    return std::move(s.batch);
}

namespace {

struct Cut {
    int channels = 0, rate = 0; // known once decoded (ChannelMode::Keep, the file's own rate)
    int64_t frames = 0;
    std::vector<float> samples; // planar
};

// One clip of a decoded file: [start, start + seconds) at the file's rate, planar, silence past
// its end.
Cut cut(const audio::Waveform& w, const LoadItem& item, double start_seconds) {
    Cut c;
    c.channels = w.channels;
    c.rate = w.sample_rate;
    const int64_t start = std::llround(start_seconds * w.sample_rate);
    c.frames = std::max<int64_t>(0, std::llround(item.seconds * w.sample_rate));
    c.samples.assign(size_t(c.frames) * size_t(c.channels), 0.0f);
    const int64_t lo = std::clamp<int64_t>(start, 0, w.frames);
    const int64_t hi = std::clamp<int64_t>(start + c.frames, 0, w.frames);
    for (int ch = 0; ch < c.channels && hi > lo; ++ch)
        std::memcpy(c.samples.data() + ch * c.frames + (lo - start), w.channel(ch) + lo, size_t(hi - lo) * sizeof(float));
    return c;
}

} // namespace

Batch BatchLoader::build(int64_t index) const {
    const size_t global_begin = size_t(index) * size_t(opt_.batch_size);
    const size_t global_count = std::min(global_begin + size_t(opt_.batch_size), items_.size()) - global_begin;
    const size_t begin = global_begin + global_count * size_t(opt_.rank) / size_t(opt_.world);
    const size_t end = global_begin + global_count * size_t(opt_.rank + 1) / size_t(opt_.world);
    const int64_t count = int64_t(end - begin);

    std::vector<Cut> cuts(static_cast<size_t>(count));
    std::vector<WaveformCache::Features> maps(opt_.front_end ? size_t(count) : 0);
    for (int64_t i = 0; i < count; ++i) {
        {
            std::lock_guard<std::mutex> g(mutex_); // so stop() need not wait for a whole batch
            if (stopping_) return {};
        }
        const LoadItem& item = items_[order_[begin + size_t(i)]];
        double start_seconds = item.start_seconds;
        if (opt_.crop_within_seconds > item.seconds) {
            const uint64_t stream = mix_seed(mix_seed(opt_.seed, 0x63726f70ULL), uint64_t(int64_t(epoch_)));
            start_seconds = Rng(mix_seed(stream, order_[begin + size_t(i)])).uniform(0, opt_.crop_within_seconds - item.seconds);
        }
        auto decoded = [&] {
            return cache_ ? cache_->load(item.path, opt_.sample_rate, opt_.channels)
                          : audio::decode(item.path, opt_.sample_rate, opt_.channels);
        };
        if (!opt_.front_end) {
            cuts[size_t(i)] = cut(decoded(), item, start_seconds);
            const Cut& c = cuts[size_t(i)];
            if (c.channels != cuts[0].channels)
                throw Error(item.path, "has " + std::to_string(c.channels) + " channels where the batch has " +
                                           std::to_string(cuts[0].channels),
                            "load mono or stereo");
            if (c.rate != cuts[0].rate)
                throw Error(item.path, "is at " + std::to_string(c.rate) + " Hz where the batch is at " +
                                           std::to_string(cuts[0].rate) + " Hz",
                            "set a sample rate to resample to");
            continue;
        }
        const WaveformCache::FrontEnd run = [&](const audio::Waveform& w) {
            Cut c = cut(w, item, start_seconds);
            const auto clip = at::from_blob(c.samples.data(), {c.channels, c.frames}, at::kFloat);
            const auto out = opt_.front_end(clip).to(at::kFloat).contiguous();
            if (out.dim() != 2) throw Error(item.path, "the front end gave " + std::to_string(out.dim()) + " dimensions, not 2");
            WaveformCache::Features f;
            f.rows = out.size(0);
            f.cols = out.size(1);
            f.values.assign(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
            return f;
        };
        // Random crops land anywhere: kept, they would fill the disk with clips seen once.
        const bool planned = start_seconds == item.start_seconds;
        maps[size_t(i)] = cache_ && planned && !opt_.front_end_key.empty()
                              ? cache_->load_features(item.path, opt_.sample_rate, opt_.channels,
                                                      std::llround(start_seconds * opt_.sample_rate),
                                                      std::llround(item.seconds * opt_.sample_rate), opt_.front_end_key, run)
                              : run(decoded());
        if (maps[size_t(i)].rows != maps[0].rows || maps[size_t(i)].cols != maps[0].cols)
            throw Error(item.path, "gives a " + std::to_string(maps[size_t(i)].rows) + " x " +
                                       std::to_string(maps[size_t(i)].cols) + " feature map where the batch has " +
                                       std::to_string(maps[0].rows) + " x " + std::to_string(maps[0].cols),
                        "give every clip the same length");
    }

    Batch b;
    b.index = index;
    b.global_size = int64_t(global_count);
    // Built in place rather than pinned afterwards: one copy less per batch.
    const auto host = at::TensorOptions().pinned_memory(opt_.pin_memory && at::globalContext().hasCUDA());
    if (opt_.front_end) {
        const int64_t rows = count ? maps[0].rows : 0, cols = count ? maps[0].cols : 0;
        b.audio = at::empty({count, rows, cols}, host.dtype(at::kFloat));
        for (int64_t i = 0; i < count; ++i)
            std::memcpy(b.audio.data_ptr<float>() + i * rows * cols, maps[size_t(i)].values.data(),
                        size_t(rows * cols) * sizeof(float));
    } else {
        const int64_t channels = count ? cuts[0].channels : 0;
        int64_t frames = 0;
        for (const auto& c : cuts) frames = std::max(frames, c.frames);
        b.audio = at::zeros({count, channels, frames}, host.dtype(at::kFloat));
        float* dst = b.audio.data_ptr<float>();
        for (int64_t i = 0; i < count; ++i)
            for (int64_t ch = 0; ch < channels; ++ch) {
                const Cut& c = cuts[size_t(i)];
                std::memcpy(dst + (i * channels + ch) * frames, c.samples.data() + ch * c.frames,
                            size_t(c.frames) * sizeof(float));
            }
    }

    const int k = opt_.num_classes;
    b.targets = opt_.multi_label ? at::zeros({count, k}, host.dtype(at::kFloat)) : at::full({count}, -1, host.dtype(at::kLong));
    for (int64_t i = 0; i < count; ++i) {
        const LoadItem& item = items_[order_[begin + size_t(i)]];
        b.track_ids.push_back(item.track_id);
        b.clips.push_back(item.clip);
        b.positions.push_back(int64_t(begin) + i);
        for (int label : item.labels)
            if (k > 0 && (label < 0 || label >= k))
                throw Error(item.path, "class index " + std::to_string(label) + " is outside 0.." +
                                           std::to_string(k - 1));
        if (opt_.multi_label) {
            float* row = b.targets.data_ptr<float>() + i * k;
            for (int label : item.labels) row[label] = 1.0f;
        } else if (!item.labels.empty()) {
            b.targets.data_ptr<int64_t>()[i] = item.labels[0];
        }
    }
    return b;
}

} // namespace gafx::data
