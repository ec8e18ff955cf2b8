#pragma once
// Decoded, resampled audio kept on disk, so an epoch costs a read instead of a decode and a
// soxr pass. Entries are keyed by the file's content (xxh64), the rate and the channel mode:
// an edited file misses by construction, identical copies share one entry, and moving a
// dataset keeps its cache. Safe to share between threads and between processes.
// Beside the audio it keeps a fixed front end's output per clip (the mel baseline's fbank), keyed
// by the same content plus the clip's place and every front-end setting, so epochs after the
// first skip the front end too; prune() bounds both kinds together.
#include "audio/audio_file.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace gafx::data {

class WaveformCache {
public:
    explicit WaveformCache(std::string dir);

    // As audio::decode(path, sample_rate, mode), bit for bit; decode errors propagate as
    // gafx::Error naming `path`. A cache that cannot be read or written only costs speed.
    audio::Waveform load(const std::string& path, int sample_rate, audio::ChannelMode mode);

    struct Stats {
        int64_t hits = 0, misses = 0;
    };
    Stats stats() const { return {hits_.load(), misses_.load()}; }

    // A front end's output for one clip: rows x cols float32, row-major.
    struct Features {
        int64_t rows = 0, cols = 0;
        std::vector<float> values;
    };
    using FrontEnd = std::function<Features(const audio::Waveform& decoded)>;
    // The clip [start, start + length) samples of `path` decoded at (sample_rate, mode), through
    // the front end whose settings `front_end` names: read back when a whole entry for the
    // file's content, the clip and those settings exists, else `compute` gets the decoded file
    // (through load()) and its output is stored. Errors as load(); `compute`'s propagate.
    Features load_features(const std::string& path, int sample_rate, audio::ChannelMode mode, int64_t start,
                           int64_t length, const std::string& front_end, const FrontEnd& compute);
    Stats feature_stats() const { return {feature_hits_.load(), feature_misses_.load()}; }

    const std::string& dir() const { return dir_; }

    // Deletes least recently used entries (hits refresh an entry's mtime) until the entries
    // total at most max_bytes, plus temp files an interrupted writer left behind. Returns the
    // bytes freed.
    int64_t prune(int64_t max_bytes);

    // $XDG_CACHE_HOME/gafx/waveforms, else ~/.cache/gafx/waveforms; "" (no cache) when neither
    // is set, rather than a folder other users can write to.
    static std::string default_dir();

    // xxh64 of the file's bytes; throws gafx::Error when it cannot be read.
    static uint64_t hash_file(const std::string& path);

    // One entry file into `out`, when it is whole and matches `rate` and `channels` (0: any).
    // Anything unexpected (short, foreign, corrupt, wrong shape) is false, never an error.
    static bool read_entry(const std::string& file, int rate, int channels, audio::Waveform& out);
    // One feature entry (.fb) into `out`, when it is whole and was written for the front-end
    // settings whose hash is `key_hash`; anything else is false, never an error.
    static bool read_feature_entry(const std::string& file, uint64_t key_hash, Features& out);

private:
    std::string entry_path(uint64_t hash, int rate, audio::ChannelMode mode) const;
    std::shared_ptr<std::mutex> key_lock(const std::string& key);
    void release_key(const std::string& key, std::shared_ptr<std::mutex>& lock);

    std::string dir_;
    std::atomic<int64_t> hits_{0}, misses_{0}, feature_hits_{0}, feature_misses_{0};
    // Threads wanting the same entry wait for the first to decode it rather than all decoding.
    std::mutex inflight_mutex_;
    std::unordered_map<std::string, std::shared_ptr<std::mutex>> inflight_;
};

} // namespace gafx::data
