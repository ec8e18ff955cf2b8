#include "data/waveform_cache.h"

#include "core/error.h"

#include <xxhash.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

namespace fs = std::filesystem;

namespace gafx::data {
namespace {

constexpr char kMagic[8] = {'G', 'A', 'F', 'X', 'W', 'A', 'V', 'E'};
constexpr uint32_t kVersion = 2; // 2: payload checked with XXH3 (faster than XXH64)
constexpr const char* kSuffix = ".wf";
constexpr char kFeatureMagic[8] = {'G', 'A', 'F', 'X', 'F', 'B', 'N', 'K'};
constexpr uint32_t kFeatureVersion = 1;
constexpr const char* kFeatureSuffix = ".fb";
constexpr const char* kTempPrefix = ".tmp-";

// Native byte order: the cache is private to one machine. The payload hash catches a flipped
// or zeroed block that a size check alone would accept.
struct Header {
    char magic[8];
    uint32_t version;
    int32_t sample_rate;
    int32_t channels;
    int32_t reserved;
    int64_t frames;
    uint64_t payload_hash;
};
static_assert(sizeof(Header) == 40, "entry header layout is part of the file format");

struct FeatureHeader {
    char magic[8];
    uint32_t version;
    uint32_t reserved;
    int64_t rows, cols;
    uint64_t key_hash; // the front-end settings, against a name collision of the file
    uint64_t payload_hash;
};
static_assert(sizeof(FeatureHeader) == 48, "feature entry header layout is part of the file format");

bool read_all(int fd, void* buf, size_t n) {
    auto* p = static_cast<char*>(buf);
    while (n > 0) {
        const ssize_t r = ::read(fd, p, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        p += r;
        n -= size_t(r);
    }
    return true;
}

bool write_all(int fd, const void* buf, size_t n) {
    const auto* p = static_cast<const char*>(buf);
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= size_t(w);
    }
    return true;
}

struct Fd {
    int fd = -1;
    ~Fd() { if (fd >= 0) ::close(fd); }
};

// The channel mode in an entry's file name, for audio and feature entries alike.
char mode_letter(audio::ChannelMode mode) {
    return mode == audio::ChannelMode::Mono ? 'm' : mode == audio::ChannelMode::Stereo ? 's' : 'k';
}

int expected_channels(audio::ChannelMode mode) {
    switch (mode) {
    case audio::ChannelMode::Mono: return 1;
    case audio::ChannelMode::Stereo: return 2;
    case audio::ChannelMode::Keep: return 0;
    }
    return 0;
}

} // namespace

bool WaveformCache::read_entry(const std::string& file, int rate, int channels,
                               audio::Waveform& out) {
    Fd f{::open(file.c_str(), O_RDONLY | O_CLOEXEC)};
    if (f.fd < 0) return false;
    struct stat st {};
    Header h{};
    if (::fstat(f.fd, &st) != 0 || !read_all(f.fd, &h, sizeof h)) return false;
    if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0 || h.version != kVersion) return false;
    if ((rate > 0 && h.sample_rate != rate) || h.sample_rate <= 0) return false;
    if ((channels > 0 && h.channels != channels) || h.channels <= 0 || h.frames < 0) return false;
    const int64_t payload = int64_t(st.st_size) - int64_t(sizeof h);
    if (payload < 0 || h.frames > payload / 4 / h.channels ||
        h.frames * h.channels * 4 != payload)
        return false;
    out.sample_rate = h.sample_rate;
    out.channels = h.channels;
    out.frames = h.frames;
    out.samples.resize(size_t(h.frames) * size_t(h.channels));
    const size_t bytes = out.samples.size() * sizeof(float);
    if (!read_all(f.fd, out.samples.data(), bytes)) return false;
    return XXH3_64bits(out.samples.data(), bytes) == h.payload_hash;
}

namespace {

// A unique temp file renamed into place: readers in any thread or process see either no entry
// or a whole one, and a killed writer leaves only a temp file that prune() removes.
void write_file(const std::string& dir, const std::string& file, const void* header, size_t header_bytes,
                const std::vector<float>& payload) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    std::string tmpl = dir + "/" + kTempPrefix + fs::path(file).filename().string() + "-XXXXXX";
    Fd f{::mkstemp(tmpl.data())};
    if (f.fd < 0) return;
    const bool ok = write_all(f.fd, header, header_bytes) &&
                    write_all(f.fd, payload.data(), payload.size() * sizeof(float)) && ::fsync(f.fd) == 0;
    ::close(f.fd);
    f.fd = -1;
    if (!ok || std::rename(tmpl.c_str(), file.c_str()) != 0) ::unlink(tmpl.c_str());
}

void write_entry(const std::string& dir, const std::string& file, const audio::Waveform& w) {
    Header h{};
    std::memcpy(h.magic, kMagic, sizeof kMagic);
    h.version = kVersion;
    h.sample_rate = w.sample_rate;
    h.channels = w.channels;
    h.frames = w.frames;
    h.payload_hash = XXH3_64bits(w.samples.data(), w.samples.size() * sizeof(float));
    write_file(dir, file, &h, sizeof h, w.samples);
}

void write_features(const std::string& dir, const std::string& file, uint64_t key_hash,
                    const WaveformCache::Features& m) {
    FeatureHeader h{};
    std::memcpy(h.magic, kFeatureMagic, sizeof kFeatureMagic);
    h.version = kFeatureVersion;
    h.rows = m.rows;
    h.cols = m.cols;
    h.key_hash = key_hash;
    h.payload_hash = XXH3_64bits(m.values.data(), m.values.size() * sizeof(float));
    write_file(dir, file, &h, sizeof h, m.values);
}

} // namespace

// Sizes are checked against the file's before anything is allocated; anything unexpected is a
// miss.
bool WaveformCache::read_feature_entry(const std::string& file, uint64_t key_hash, Features& out) {
    Fd f{::open(file.c_str(), O_RDONLY | O_CLOEXEC)};
    if (f.fd < 0) return false;
    struct stat st {};
    FeatureHeader h{};
    if (::fstat(f.fd, &st) != 0 || !read_all(f.fd, &h, sizeof h)) return false;
    if (std::memcmp(h.magic, kFeatureMagic, sizeof kFeatureMagic) != 0 || h.version != kFeatureVersion ||
        h.key_hash != key_hash || h.rows < 0 || h.cols <= 0)
        return false;
    const int64_t payload = int64_t(st.st_size) - int64_t(sizeof h);
    if (payload < 0 || h.rows > payload / 4 / h.cols || h.rows * h.cols * 4 != payload) return false;
    out.rows = h.rows;
    out.cols = h.cols;
    out.values.resize(size_t(h.rows) * size_t(h.cols));
    const size_t bytes = out.values.size() * sizeof(float);
    if (!read_all(f.fd, out.values.data(), bytes)) return false;
    return XXH3_64bits(out.values.data(), bytes) == h.payload_hash;
}

WaveformCache::WaveformCache(std::string dir) : dir_(std::move(dir)) {}

std::string WaveformCache::default_dir() {
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/') return std::string(xdg) + "/gafx/waveforms";
    const char* home = std::getenv("HOME");
    if (home && home[0]) return std::string(home) + "/.cache/gafx/waveforms";
    // Never a shared /tmp: another user could plant entries there that a run would trust.
    return {};
}

uint64_t WaveformCache::hash_file(const std::string& path) {
    Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (f.fd < 0) throw Error(path, std::string("cannot open: ") + std::strerror(errno));
    std::unique_ptr<XXH64_state_t, decltype(&XXH64_freeState)> st(XXH64_createState(),
                                                                   &XXH64_freeState);
    XXH64_reset(st.get(), 0);
    std::vector<char> buf(1 << 20);
    for (;;) {
        const ssize_t r = ::read(f.fd, buf.data(), buf.size());
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) throw Error(path, std::string("cannot read: ") + std::strerror(errno));
        if (r == 0) break;
        XXH64_update(st.get(), buf.data(), size_t(r));
    }
    return XXH64_digest(st.get());
}

std::string WaveformCache::entry_path(uint64_t hash, int rate, audio::ChannelMode mode) const {
    const char m = mode_letter(mode);
    char name[64];
    std::snprintf(name, sizeof name, "%016llx-%d-%c%s", static_cast<unsigned long long>(hash),
                  rate, m, kSuffix);
    return dir_ + "/" + name;
}

std::shared_ptr<std::mutex> WaveformCache::key_lock(const std::string& key) {
    std::lock_guard<std::mutex> g(inflight_mutex_);
    auto& slot = inflight_[key];
    if (!slot) slot = std::make_shared<std::mutex>();
    return slot;
}

void WaveformCache::release_key(const std::string& key, std::shared_ptr<std::mutex>& lock) {
    std::lock_guard<std::mutex> g(inflight_mutex_);
    lock.reset();
    auto it = inflight_.find(key);
    if (it != inflight_.end() && it->second.use_count() == 1) inflight_.erase(it);
}

audio::Waveform WaveformCache::load(const std::string& path, int sample_rate,
                                    audio::ChannelMode mode) {
    uint64_t hash = 0;
    try {
        hash = hash_file(path);
    } catch (const Error&) {
        // decode() words a missing or unreadable file better than the hash does.
        misses_++;
        return audio::decode(path, sample_rate, mode);
    }
    const std::string file = entry_path(hash, sample_rate, mode);
    auto lock = key_lock(file);
    struct Release {
        WaveformCache* self;
        const std::string& key;
        std::shared_ptr<std::mutex>& lock;
        ~Release() { self->release_key(key, lock); }
    } release{this, file, lock};
    std::lock_guard<std::mutex> g(*lock);

    audio::Waveform w;
    if (read_entry(file, sample_rate, expected_channels(mode), w)) {
        hits_++;
        ::utimensat(AT_FDCWD, file.c_str(), nullptr, 0); // LRU order for prune()
        return w;
    }
    misses_++;
    w = audio::decode(path, sample_rate, mode);
    // An edit during the decode would file new samples under the old content's key.
    try {
        if (hash_file(path) == hash) write_entry(dir_, file, w);
    } catch (const Error&) {
    }
    return w;
}

WaveformCache::Features WaveformCache::load_features(const std::string& path, int sample_rate,
                                                     audio::ChannelMode mode, int64_t start, int64_t length,
                                                     const std::string& front_end, const FrontEnd& compute) {
    uint64_t hash = 0;
    try {
        hash = hash_file(path);
    } catch (const Error&) {
        feature_misses_++;
        return compute(load(path, sample_rate, mode)); // load() words the error
    }
    const uint64_t key_hash = XXH64(front_end.data(), front_end.size(), 0);
    const char m = mode_letter(mode);
    char name[128];
    std::snprintf(name, sizeof name, "%016llx-%d-%c-%lld-%lld-%016llx%s", static_cast<unsigned long long>(hash),
                  sample_rate, m, static_cast<long long>(start), static_cast<long long>(length),
                  static_cast<unsigned long long>(key_hash), kFeatureSuffix);
    const std::string file = dir_ + "/" + name;
    Features out;
    if (read_feature_entry(file, key_hash, out)) {
        feature_hits_++;
        ::utimensat(AT_FDCWD, file.c_str(), nullptr, 0); // LRU order for prune()
        return out;
    }
    feature_misses_++;
    out = compute(load(path, sample_rate, mode));
    if (out.rows * out.cols != int64_t(out.values.size()) || out.cols <= 0) return out;
    // An edit during the work would file the new content's features under the old key.
    try {
        if (hash_file(path) == hash) write_features(dir_, file, key_hash, out);
    } catch (const Error&) {
    }
    return out;
}

int64_t WaveformCache::prune(int64_t max_bytes) {
    struct Entry {
        fs::path path;
        int64_t size;
        fs::file_time_type mtime;
    };
    std::vector<Entry> entries;
    int64_t total = 0, freed = 0;
    const auto stale = fs::file_time_type::clock::now() - std::chrono::hours(1);
    std::error_code ec;
    for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code e2;
        if (!it->is_regular_file(e2)) continue;
        const std::string name = it->path().filename().string();
        const int64_t size = int64_t(it->file_size(e2));
        const auto mtime = it->last_write_time(e2);
        if (e2) continue;
        if (name.rfind(kTempPrefix, 0) == 0) {
            // Only old ones: a young temp file may belong to a writer still at work.
            if (mtime < stale && fs::remove(it->path(), e2)) freed += size;
        } else if (name.size() > 3 && (name.compare(name.size() - 3, 3, kSuffix) == 0 ||
                                       name.compare(name.size() - 3, 3, kFeatureSuffix) == 0)) {
            entries.push_back({it->path(), size, mtime});
            total += size;
        }
    }
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.mtime < b.mtime; });
    for (const auto& e : entries) {
        if (total <= max_bytes) break;
        std::error_code e2;
        if (fs::remove(e.path, e2)) {
            total -= e.size;
            freed += e.size;
        }
    }
    return freed;
}

} // namespace gafx::data
