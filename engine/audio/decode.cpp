#include "audio/audio_file.h"
#include "core/error.h"

#include <sndfile.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

namespace gafx::audio {
namespace {

namespace fs = std::filesystem;

const char* kSkipFix = "re-download or delete the file; the import skips it";
// What one file may decode to (docs/formats.md): 2^30 float samples (4 GiB), e.g. 3.4 hours of
// 44.1 kHz stereo; libsndfile's own channel limit is 1024.
constexpr sf_count_t kMaxSamples = sf_count_t(1) << 30;
constexpr int kMaxChannels = 64;

struct SndCloser {
    void operator()(SNDFILE* f) const { sf_close(f); }
};
using SndHandle = std::unique_ptr<SNDFILE, SndCloser>;

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

uint32_t load32(const unsigned char* p, bool big_endian) {
    return big_endian ? (uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3])
                      : (uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0]);
}

// libsndfile quietly shortens a WAV/AIFF/AU whose header promises more audio than the file
// holds (it only notes it in its log), so the declared length is checked here against the
// bytes actually present. Sizes of 0 or 0xFFFFFFFF mean "unknown" (streamed writers) and pass.
bool header_promises_more_than_present(std::FILE* f, int64_t file_size) {
    unsigned char h[12];
    if (std::fseek(f, 0, SEEK_SET) != 0 || std::fread(h, 1, 12, f) != 12) return false;
    auto unknown = [](uint32_t size) { return size == 0 || size == 0xFFFFFFFFu; };

    if (std::memcmp(h, ".snd", 4) == 0 || std::memcmp(h, "dns.", 4) == 0) {
        const bool be = h[0] == '.';
        const uint32_t offset = load32(h + 4, be), size = load32(h + 8, be);
        return !unknown(size) && int64_t(offset) + size > file_size;
    }

    const bool riff = std::memcmp(h, "RIFF", 4) == 0 || std::memcmp(h, "RIFX", 4) == 0;
    const bool form = std::memcmp(h, "FORM", 4) == 0;
    if (!(riff && std::memcmp(h + 8, "WAVE", 4) == 0) &&
        !(form && (std::memcmp(h + 8, "AIFF", 4) == 0 || std::memcmp(h + 8, "AIFC", 4) == 0)))
        return false;
    const bool be = h[3] == 'X' || form;
    const char* audio_chunk = riff ? "data" : "SSND";

    int64_t pos = 12;
    for (int guard = 0; guard < 1000 && pos + 8 <= file_size; ++guard) {
        unsigned char c[8];
        if (std::fseek(f, long(pos), SEEK_SET) != 0 || std::fread(c, 1, 8, f) != 8) return false;
        const uint32_t size = load32(c + 4, be);
        if (std::memcmp(c, audio_chunk, 4) == 0)
            return !unknown(size) && int64_t(size) > file_size - (pos + 8);
        pos += 8 + int64_t(size) + (size & 1);
    }
    return false;
}

Error truncated(const std::string& path, const std::string& detail) {
    return Error(path, "truncated",
                 detail + "; the file was probably cut off while copying or downloading: " +
                     kSkipFix);
}

std::string format_name(const SF_INFO& info) {
    auto name_of = [](int format) {
        SF_FORMAT_INFO fi{};
        fi.format = format;
        return sf_command(nullptr, SFC_GET_FORMAT_INFO, &fi, sizeof fi) == 0 && fi.name
                   ? std::string(fi.name)
                   : std::string("?");
    };
    return name_of(info.format & SF_FORMAT_TYPEMASK) + " / " + name_of(info.format & SF_FORMAT_SUBMASK);
}

struct Opened {
    SndHandle file;
    SF_INFO info{};
};

// Every check probe() promises, leaving the file open at its first frame for decode().
Opened open_checked(const std::string& path) {
    std::error_code ec;
    const auto st = fs::status(path, ec);
    if (ec || !fs::is_regular_file(st))
        throw Error(path, "not a file",
                    fs::is_directory(st) ? "this is a folder; give the path of an audio file"
                                         : "check the path; the file does not exist");

    errno = 0;
    std::unique_ptr<std::FILE, FileCloser> raw(std::fopen(path.c_str(), "rb"));
    if (!raw)
        throw Error(path, "unreadable",
                    std::string(std::strerror(errno)) + ": check the file's permissions");
    const int64_t size = int64_t(fs::file_size(path, ec));
    if (ec) throw Error(path, "unreadable", ec.message() + ": check the disk and permissions");
    if (size == 0) throw Error(path, "empty", std::string("the file has 0 bytes: ") + kSkipFix);
    const bool header_truncated = header_promises_more_than_present(raw.get(), size);
    raw.reset();
    if (header_truncated)
        throw truncated(path, "the header declares more audio data than the file holds");

    Opened o;
    o.file.reset(sf_open(path.c_str(), SFM_READ, &o.info));
    if (!o.file)
        throw Error(path, "unsupported format",
                    std::string(sf_strerror(nullptr)) +
                        "; convert it to WAV, FLAC, OGG, MP3, AIFF or AU, or delete it");
    // libsndfile falls back to header-less RAW (8 kHz u-law for .au/.snd) for a file whose
    // header it does not recognise: that is a guess, not audio.
    if ((o.info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_RAW)
        throw Error(path, "no audio header",
                    std::string("the file has no header libsndfile recognises (it could only be read as raw bytes): it is "
                                "damaged or not audio; ") + kSkipFix);
    if (o.info.frames <= 0 || o.info.channels <= 0)
        throw Error(path, "empty", std::string("the file holds no audio frames: ") + kSkipFix);
    // The header's claims bound what decode allocates: refuse the absurd before any of it.
    if (o.info.channels > kMaxChannels || o.info.frames > kMaxSamples / o.info.channels)
        throw Error(path, "implausible header",
                    "it claims " + std::to_string(o.info.channels) + " channels of " + std::to_string(o.info.frames) +
                        " frames (more than " + std::to_string(kMaxSamples) + " samples or " +
                        std::to_string(kMaxChannels) + " channels); " + kSkipFix);

    // Formats whose length comes from a header or index (FLAC STREAMINFO, ...) show a cut-off
    // file only when the last frames are actually read.
    if (o.info.seekable) {
        const sf_count_t tail = std::min<sf_count_t>(o.info.frames, 1024);
        std::vector<float> buf(size_t(tail) * o.info.channels);
        if (sf_seek(o.file.get(), o.info.frames - tail, SEEK_SET) < 0 ||
            sf_readf_float(o.file.get(), buf.data(), tail) != tail)
            throw truncated(path, "the last frames the header promises cannot be read");
        if (sf_seek(o.file.get(), 0, SEEK_SET) != 0)
            throw Error(path, "unreadable", "cannot seek back to the start: " + std::string(kSkipFix));
    }
    return o;
}

} // namespace

AudioInfo probe(const std::string& path) {
    Opened o = open_checked(path);
    AudioInfo info;
    info.sample_rate = o.info.samplerate;
    info.channels = o.info.channels;
    info.frames = o.info.frames;
    info.format = format_name(o.info);
    return info;
}

Waveform decode(const std::string& path, int target_rate, ChannelMode mode) {
    Opened o = open_checked(path);
    Waveform w;
    w.sample_rate = o.info.samplerate;
    w.channels = o.info.channels;
    w.frames = o.info.frames;
    w.samples.resize(size_t(w.frames) * w.channels);

    constexpr sf_count_t kBlock = 65536;
    std::vector<float> block(size_t(kBlock) * w.channels);
    int64_t done = 0;
    while (done < w.frames) {
        const sf_count_t want = std::min<sf_count_t>(kBlock, w.frames - done);
        const sf_count_t got = sf_readf_float(o.file.get(), block.data(), want);
        for (sf_count_t i = 0; i < got; ++i)
            for (int c = 0; c < w.channels; ++c)
                w.channel(c)[done + i] = block[size_t(i) * w.channels + c];
        done += got;
        if (got < want) break;
    }
    if (done < w.frames)
        throw truncated(path, "decoded " + std::to_string(done) + " of the " +
                                  std::to_string(w.frames) + " frames the header declares");

    if (mode != ChannelMode::Keep) w = convert_channels(w, mode);
    if (target_rate > 0 && target_rate != w.sample_rate) w = resample(w, target_rate);
    return w;
}

} // namespace gafx::audio
