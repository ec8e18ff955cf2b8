#include "audio/audio_file.h"
#include "core/error.h"

#include <soxr.h>

#include <algorithm>
#include <cmath>

namespace gafx::audio {

Waveform resample(const Waveform& in, int target_rate) {
    if (target_rate <= 0 || in.sample_rate <= 0)
        throw Error({}, "invalid sample rate",
                    "resampling needs positive rates, got " + std::to_string(in.sample_rate) +
                        " -> " + std::to_string(target_rate));
    if (target_rate == in.sample_rate) return in;

    Waveform out;
    out.sample_rate = target_rate;
    out.channels = in.channels;
    out.frames = std::llround(double(in.frames) * target_rate / in.sample_rate);
    out.samples.assign(size_t(out.frames) * out.channels, 0.0f);
    if (in.frames == 0 || out.frames == 0) return out;

    // Planar channels are resampled one at a time, straight between the contiguous spans,
    // so no interleaved copy is made.
    const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
    for (int c = 0; c < in.channels; ++c) {
        size_t used = 0, made = 0;
        const soxr_error_t err =
            soxr_oneshot(in.sample_rate, target_rate, 1, in.channel(c), size_t(in.frames), &used,
                         out.channel(c), size_t(out.frames), &made, &io, &quality, nullptr);
        if (err)
            throw Error({}, "resampling failed", std::string("soxr: ") + err);
    }
    return out;
}

Waveform convert_channels(const Waveform& in, ChannelMode mode) {
    const int target = mode == ChannelMode::Mono ? 1 : mode == ChannelMode::Stereo ? 2 : in.channels;
    if (mode == ChannelMode::Keep || in.channels == target || in.channels <= 0) return in;

    std::vector<float> mono(size_t(in.frames), 0.0f);
    if (in.channels == 1) {
        std::copy(in.channel(0), in.channel(0) + in.frames, mono.begin());
    } else {
        for (int c = 0; c < in.channels; ++c) {
            const float* src = in.channel(c);
            for (int64_t i = 0; i < in.frames; ++i) mono[size_t(i)] += src[i];
        }
        const float scale = 1.0f / float(in.channels);
        for (float& s : mono) s *= scale;
    }

    Waveform out;
    out.sample_rate = in.sample_rate;
    out.channels = target;
    out.frames = in.frames;
    out.samples.reserve(mono.size() * size_t(target));
    for (int c = 0; c < target; ++c) out.samples.insert(out.samples.end(), mono.begin(), mono.end());
    return out;
}

} // namespace gafx::audio
