#include "fuzz_inputs.h"

#include "audio/audio_file.h"
#include "core/error.h"
#include "core/npy.h"
#include "data/csv.h"
#include "data/waveform_cache.h"
#include "experiments/experiment.h"
#include "models/safetensors.h"
#include "models/torch_zip.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace gafx::fuzz {
namespace {

// The readers that take a path get the bytes through an anonymous in-memory file: nothing
// touches the disk, and libsndfile sees a real seekable file.
class MemFile {
public:
    MemFile(const uint8_t* data, size_t size) : fd_(::memfd_create("gafx-fuzz", MFD_CLOEXEC)) {
        if (fd_ < 0) std::abort();
        for (size_t done = 0; done < size;) {
            const ssize_t w = ::write(fd_, data + done, size - done);
            if (w <= 0) std::abort();
            done += size_t(w);
        }
        ::lseek(fd_, 0, SEEK_SET);
        path_ = "/proc/self/fd/" + std::to_string(fd_);
    }
    ~MemFile() { ::close(fd_); }
    MemFile(const MemFile&) = delete;
    MemFile& operator=(const MemFile&) = delete;
    const std::string& path() const { return path_; }

private:
    int fd_;
    std::string path_;
};

std::vector<char> bytes(const uint8_t* data, size_t size) {
    return std::vector<char>(reinterpret_cast<const char*>(data),
                             reinterpret_cast<const char*>(data) + size);
}

std::string text(const uint8_t* data, size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
}

void torch_zip(const uint8_t* data, size_t size) {
    try {
        models::read_torch_zip_state(bytes(data, size), "fuzz.pt");
    } catch (const Error&) {
    }
}

void safetensors(const uint8_t* data, size_t size) {
    try {
        std::map<std::string, std::string> metadata;
        models::parse_safetensors(bytes(data, size), "fuzz.safetensors", &metadata);
    } catch (const Error&) {
    }
}

void npy(const uint8_t* data, size_t size) {
    MemFile f(data, size);
    try {
        read_npy_f32(f.path());
    } catch (const Error&) {
    }
}

void experiment(const uint8_t* data, size_t size) {
    try {
        experiments::parse_experiment(text(data, size), "fuzz.json");
    } catch (const Error&) {
    }
}

void csv(const uint8_t* data, size_t size) {
    const std::string t = text(data, size);
    for (const bool trim : {true, false}) {
        try {
            data::CsvOptions options;
            options.trim = trim;
            const auto rows = data::parse_csv(t, "fuzz.csv", options);
            for (const auto& row : rows)
                for (const auto& field : row.fields) data::split_list(field);
        } catch (const Error&) {
        }
    }
}

void audio(const uint8_t* data, size_t size) {
    MemFile f(data, size);
    try {
        const audio::AudioInfo info = audio::probe(f.path());
        // A valid header may still claim hours of audio; decode only what a track could be.
        if (info.frames * int64_t(info.channels) <= int64_t(1) << 22)
            audio::decode(f.path(), 16000, audio::ChannelMode::Mono);
    } catch (const Error&) {
    }
}

void waveform_cache_entry(const uint8_t* data, size_t size) {
    MemFile f(data, size);
    audio::Waveform w;
    data::WaveformCache::read_entry(f.path(), 0, 0, w);
    data::WaveformCache::read_entry(f.path(), 16000, 1, w);
}

void feature_cache_entry(const uint8_t* data, size_t size) {
    MemFile f(data, size);
    data::WaveformCache::Features m;
    data::WaveformCache::read_feature_entry(f.path(), kFeatureFuzzKey, m);
}

} // namespace

const std::vector<Target>& targets() {
    static const std::vector<Target> all = {
        {"torch_zip", torch_zip},   {"safetensors", safetensors}, {"npy", npy},
        {"experiment", experiment}, {"csv", csv},                 {"audio", audio},
        {"waveform_cache", waveform_cache_entry}, {"feature_cache", feature_cache_entry},
    };
    return all;
}

const Target* find_target(const std::string& name) {
    for (const auto& t : targets())
        if (name == t.name) return &t;
    return nullptr;
}

} // namespace gafx::fuzz
