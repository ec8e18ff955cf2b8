#include "audio/audio_file.h"
#include "core/error.h"

#include <sndfile.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>

namespace gafx::audio {
namespace {

std::string lower_extension(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char ch) { return char(std::tolower(ch)); });
    return ext;
}

// 0 when the extension names no container libsndfile writes.
int sndfile_format(const std::string& ext, SampleFormat format) {
    const int pcm = format == SampleFormat::Float32 ? SF_FORMAT_FLOAT : SF_FORMAT_PCM_16;
    if (ext == ".wav") return SF_FORMAT_WAV | pcm;
    if (ext == ".au") return SF_FORMAT_AU | pcm;
    if (ext == ".aiff" || ext == ".aif") return SF_FORMAT_AIFF | pcm;
    // FLAC stores integers only; 24 bits is the closest it gets to float precision.
    if (ext == ".flac")
        return SF_FORMAT_FLAC | (format == SampleFormat::Float32 ? SF_FORMAT_PCM_24 : SF_FORMAT_PCM_16);
    if (ext == ".ogg") return SF_FORMAT_OGG | SF_FORMAT_VORBIS;
    if (ext == ".mp3") return SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
    return 0;
}

} // namespace

void write(const std::string& path, const Waveform& wave, SampleFormat format) {
    if (wave.sample_rate <= 0 || wave.channels <= 0 || wave.frames < 0 ||
        wave.samples.size() != size_t(wave.frames) * size_t(wave.channels))
        throw Error(path, "invalid waveform",
                    "the samples do not match the declared rate, channels and frames");

    SF_INFO info{};
    info.samplerate = wave.sample_rate;
    info.channels = wave.channels;
    info.format = sndfile_format(lower_extension(path), format);
    if (info.format == 0 || !sf_format_check(&info))
        throw Error(path, "unsupported format",
                    "write .wav, .flac, .ogg, .mp3, .aiff or .au (mono or stereo for .ogg/.mp3)");

    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    if (!f)
        throw Error(path, "cannot write",
                    std::string(sf_strerror(nullptr)) + "; check the folder exists and is writable");
    // Without clipping, libsndfile wraps out-of-range floats around in integer formats.
    sf_command(f, SFC_SET_CLIPPING, nullptr, SF_TRUE);

    constexpr int64_t kBlock = 65536;
    std::vector<float> block(size_t(kBlock) * wave.channels);
    bool ok = true;
    for (int64_t done = 0; ok && done < wave.frames; done += kBlock) {
        const int64_t n = std::min(kBlock, wave.frames - done);
        for (int64_t i = 0; i < n; ++i)
            for (int c = 0; c < wave.channels; ++c)
                block[size_t(i) * wave.channels + c] = wave.channel(c)[done + i];
        ok = sf_writef_float(f, block.data(), n) == n;
    }
    const std::string write_error = ok ? std::string() : sf_strerror(f);
    if (sf_close(f) != 0 && ok) ok = false;
    if (!ok) {
        // A half-written file would later read as a truncated track.
        std::remove(path.c_str());
        throw Error(path, "cannot write",
                    (write_error.empty() ? std::string("closing failed") : write_error) +
                        "; check the free disk space");
    }
}

bool has_audio_extension(const std::string& path) {
    const std::string ext = lower_extension(path);
    for (const char* known : {".au", ".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif"})
        if (ext == known) return true;
    return false;
}

} // namespace gafx::audio
