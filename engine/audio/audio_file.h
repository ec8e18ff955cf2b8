#pragma once
// Audio in and out: libsndfile for every container it reads (au, wav, flac, ogg, mp3, aiff),
// soxr for rate conversion. Samples are float32, planar (channel-major), so one channel is a
// contiguous span a tensor can wrap without copying.
#include <cstdint>
#include <string>
#include <vector>

namespace gafx::audio {

struct AudioInfo {
    int sample_rate = 0;
    int channels = 0;
    int64_t frames = 0;
    std::string format; // e.g. "WAV (Microsoft) / Signed 16 bit PCM"
    double duration_seconds() const { return sample_rate > 0 ? double(frames) / sample_rate : 0.0; }
};

enum class ChannelMode {
    Keep,   // as stored
    Mono,   // average of all channels
    Stereo, // mono duplicated; more than two channels averaged down to mono, then duplicated
};

struct Waveform {
    int sample_rate = 0;
    int channels = 0;
    int64_t frames = 0;
    std::vector<float> samples; // planar: channel c is samples[c*frames, (c+1)*frames)

    float* channel(int c) { return samples.data() + int64_t(c) * frames; }
    const float* channel(int c) const { return samples.data() + int64_t(c) * frames; }
};

// Reads the header and checks the data is all there (a truncated file is an error, not a short
// track). Throws gafx::Error naming the file and the reason: not a file, unreadable, empty,
// unsupported format, truncated.
AudioInfo probe(const std::string& path);

// Decodes the whole file; target_rate 0 keeps the file's rate. Throws gafx::Error like probe().
Waveform decode(const std::string& path, int target_rate = 0, ChannelMode mode = ChannelMode::Keep);

// High-quality soxr conversion of every channel; the same rate returns a copy.
Waveform resample(const Waveform& in, int target_rate);

Waveform convert_channels(const Waveform& in, ChannelMode mode);

enum class SampleFormat { Pcm16, Float32 };
// Writes by extension (.wav .au .flac .ogg .aiff); throws gafx::Error on failure.
void write(const std::string& path, const Waveform& wave, SampleFormat format = SampleFormat::Pcm16);

// Extensions the catalogues treat as audio (lower case, with the dot).
bool has_audio_extension(const std::string& path);

} // namespace gafx::audio
