#include "data/demo.h"

#include "audio/audio_file.h"
#include "core/error.h"
#include "core/rng.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

namespace gafx::data {
namespace {

enum class Noise { White, Pink, Brown };
enum class Chord { Single, Power, Triad, Seventh };

// What makes a genre recognisable: tempo and rhythm (16-step masks, bit s = step s of a bar),
// timbre (harmonic series, drive, envelope), pitch range, and the colour of the noise bed.
// Layer levels are relative; the final track is normalised, so none of this is loudness.
struct Style {
    const char* name;
    double bpm_lo, bpm_hi, swing;
    int midi_lo, midi_hi;
    int scale[8];
    int harmonics;
    double rolloff; // partial n has amplitude n^-rolloff
    bool odd_only;
    double drive; // tanh saturation gain, 0 = clean
    double attack, decay, vibrato; // seconds, seconds, semitones
    Chord chord;
    uint16_t melody, bass, kick, snare, hat;
    double hat_decay;
    Noise noise;
    double melody_db, bass_db, drums_db, noise_db;
};

constexpr uint16_t steps(std::initializer_list<int> on) {
    uint16_t m = 0;
    for (int s : on) m = uint16_t(m | (1u << s));
    return m;
}
constexpr uint16_t kAll = 0xFFFF, kEighths = 0x5555, kQuarters = 0x1111, kOffbeats = 0x4444, kNone = 0;
constexpr int kEnd = -1; // ends a scale shorter than 8 notes

const Style kStyles[] = {
    {"blues", 60, 80, 0.30, 50, 70, {0, 3, 5, 6, 7, 10, kEnd}, 16, 1.6, false, 0.0, 0.01, 0.6, 0.15,
     Chord::Single, steps({0, 3, 6, 8, 11, 14}), kQuarters, steps({0, 8}), steps({4, 12}), kNone, 0.05,
     Noise::Brown, 0, -4, -6, -16},
    {"classical", 56, 76, 0.0, 62, 82, {0, 2, 4, 5, 7, 9, 11, kEnd}, 10, 2.0, false, 0.0, 0.15, 3.0, 0.3,
     Chord::Triad, steps({0, 8}), steps({0}), kNone, kNone, kNone, 0.05, Noise::Brown, 0, -8, -99, -16},
    {"country", 100, 125, 0.0, 57, 77, {0, 2, 4, 7, 9, kEnd}, 20, 0.8, false, 0.0, 0.003, 0.2, 0.0,
     Chord::Single, kAll, steps({0, 8}), steps({0, 8}), steps({4, 12}), kNone, 0.05, Noise::Pink, 0, -5,
     -8, -20},
    {"disco", 115, 130, 0.0, 60, 80, {0, 2, 3, 5, 7, 8, 10, kEnd}, 12, 1.5, false, 0.0, 0.02, 0.4, 0.1,
     Chord::Triad, kEighths, kEighths, kQuarters, steps({4, 12}), kOffbeats, 0.06, Noise::White, 0, -2, -2,
     -14},
    {"hiphop", 80, 96, 0.12, 33, 51, {0, 3, 5, 7, 10, kEnd}, 8, 2.5, false, 0.0, 0.005, 0.8, 0.0,
     Chord::Single, steps({0, 7, 10}), steps({0, 3, 10}), steps({0, 3, 10}), steps({4, 12}), kEighths, 0.04,
     Noise::Brown, -3, 0, 0, -14},
    {"jazz", 120, 170, 0.33, 52, 72, {0, 2, 3, 5, 7, 9, 10, 11}, 12, 2.2, false, 0.0, 0.01, 0.5, 0.05,
     Chord::Seventh, steps({0, 3, 6, 8, 10, 13}), kQuarters, kNone, kNone, steps({0, 4, 6, 8, 12, 14}), 0.3,
     Noise::Pink, 0, -3, -8, -24},
    {"metal", 150, 200, 0.0, 40, 58, {0, 1, 3, 5, 7, 8, 10, kEnd}, 24, 0.8, false, 5.0, 0.003, 1.0, 0.0,
     Chord::Power, kAll, kEighths, kEighths, steps({4, 12}), kAll, 0.03, Noise::White, 0, -6, -3, -12},
    {"pop", 100, 125, 0.0, 66, 86, {0, 2, 4, 5, 7, 9, 11, kEnd}, 15, 1.0, true, 0.0, 0.01, 0.3, 0.08,
     Chord::Single, kEighths, kQuarters, steps({0, 8}), steps({4, 12}), kOffbeats, 0.05, Noise::Pink, 0,
     -5, -5, -18},
    {"reggae", 65, 85, 0.05, 48, 66, {0, 2, 4, 5, 7, 9, 11, kEnd}, 14, 1.4, false, 0.0, 0.003, 0.12, 0.0,
     Chord::Triad, kOffbeats, steps({0, 3, 6, 8, 14}), steps({8}), steps({8}), kOffbeats, 0.04, Noise::Brown,
     0, 2, -4, -16},
    {"rock", 110, 140, 0.0, 43, 61, {0, 3, 5, 7, 10, kEnd}, 18, 0.8, false, 3.0, 0.005, 0.7, 0.0,
     Chord::Power, kEighths, kEighths, steps({0, 6, 8}), steps({4, 12}), kEighths, 0.04, Noise::Pink, 0, -4,
     -3, -12},
};
constexpr int kGenres = int(sizeof kStyles / sizeof kStyles[0]);

constexpr int kTable = 4096; // power of two, so a phase wraps with a mask

const std::vector<float>& sine_table() {
    static const std::vector<float> t = [] {
        std::vector<float> v(kTable + 1);
        for (int i = 0; i <= kTable; ++i) v[size_t(i)] = float(std::sin(2.0 * M_PI * i / kTable));
        return v;
    }();
    return t;
}

// One period of a harmonic tone, band-limited for the highest note it will play.
std::vector<float> wavetable(int harmonics, double rolloff, bool odd_only) {
    const auto& s = sine_table();
    std::vector<float> t(kTable + 1, 0.0f);
    for (int n = 1; n <= harmonics; n += odd_only ? 2 : 1) {
        const float a = float(std::pow(double(n), -rolloff));
        for (int i = 0; i < kTable; ++i) t[size_t(i)] += a * s[size_t((int64_t(n) * i) & (kTable - 1))];
    }
    float peak = 1e-9f;
    for (float v : t) peak = std::max(peak, std::fabs(v));
    for (float& v : t) v /= peak;
    t[kTable] = t[0];
    return t;
}

inline float lookup(const std::vector<float>& t, double phase) {
    const double x = phase * kTable;
    const int i = int(x);
    const float f = float(x - i);
    return t[size_t(i)] + f * (t[size_t(i) + 1] - t[size_t(i)]);
}

double midi_hz(double midi) { return 440.0 * std::pow(2.0, (midi - 69.0) / 12.0); }

class TrackSynth {
public:
    TrackSynth(const Style& style, int rate, int64_t frames, Rng& rng)
        : st_(style), rate_(rate), frames_(frames), rng_(rng) {}

    std::vector<float> render(double target_rms) {
        const double bpm = rng_.uniform(st_.bpm_lo, st_.bpm_hi);
        step_ = 60.0 / bpm / 4.0;
        const double rolloff = st_.rolloff + rng_.uniform(-0.2, 0.2);
        const double decay = st_.decay * rng_.uniform(0.75, 1.33);
        // One table per partial count: each note gets every harmonic that stays below Nyquist
        // (with vibrato headroom), so high notes keep their timbre without aliasing.
        std::vector<std::vector<float>> lead(size_t(st_.harmonics) + 1);
        auto lead_for = [&](double midi) -> const std::vector<float>& {
            const int h = std::max(1, std::min(st_.harmonics, int(0.45 * rate_ / midi_hz(midi + 1))));
            auto& t = lead[size_t(h)];
            if (t.empty()) t = wavetable(h, rolloff, st_.odd_only);
            return t;
        };
        const auto low = wavetable(3, 2.5, false);

        std::vector<float> melody(size_t(frames_), 0.0f), bass(melody), drums(melody), noise(melody);
        const int bars = int(std::ceil(double(frames_) / rate_ / (16 * step_))) + 1;
        int degree = int(rng_.below(7));
        const int root = st_.midi_lo + int(rng_.below(uint64_t(std::max(1, (st_.midi_hi - st_.midi_lo) / 6))));
        const int bass_root = root - (root > 52 ? 24 : 12);
        for (int b = 0; b < bars; ++b) {
            for (int s = 0; s < 16; ++s) {
                const double t = start_of(b, s);
                if (st_.melody >> s & 1 && rng_.uniform() > 0.08) {
                    degree += int(rng_.below(5)) - 2;
                    const double gap = step_ * next_gap(st_.melody, s);
                    for (double m : chord(root, degree))
                        add_note(melody, lead_for(m), m, t, gap + 0.1, st_.attack, decay, st_.vibrato,
                                 rng_.uniform(0.7, 1.0));
                }
                if (st_.bass >> s & 1)
                    add_note(bass, low, bass_root + scale_note(degree % 3 == 0 ? 0 : 4), t,
                             step_ * next_gap(st_.bass, s), 0.005, 0.4, 0.0, rng_.uniform(0.8, 1.0));
                if (st_.kick >> s & 1) add_kick(drums, t, rng_.uniform(0.85, 1.0));
                if (st_.snare >> s & 1) add_snare(drums, t, rng_.uniform(0.7, 1.0));
                if (st_.hat >> s & 1 && rng_.uniform() > 0.05) add_hat(drums, t, rng_.uniform(0.4, 0.8));
            }
            if (rng_.uniform() < 0.3) degree = int(rng_.below(7)); // a new phrase
        }
        if (st_.drive > 0)
            for (float& v : melody) v = float(std::tanh(st_.drive * v));
        fill_noise(noise);

        std::vector<float> out(size_t(frames_), 0.0f);
        auto mix = [&](const std::vector<float>& layer, double db) {
            const double r = rms(layer);
            if (r <= 0 || db < -90) return;
            const float g = float(std::pow(10.0, (db + rng_.uniform(-2.0, 2.0)) / 20.0) / r);
            for (size_t i = 0; i < out.size(); ++i) out[i] += g * layer[i];
        };
        mix(melody, st_.melody_db);
        mix(bass, st_.bass_db);
        mix(drums, st_.drums_db);
        mix(noise, st_.noise_db);

        // Loudness must not tell genres apart: a soft knee tames drum peaks above 4x RMS, then
        // every track is set to the same RMS give or take the jitter the caller chose.
        scale(out, 1.0 / std::max(rms(out), 1e-12));
        for (float& v : out) {
            const float a = std::fabs(v);
            if (a > 4.0f) {
                const float over = (a - 4.0f) / 4.0f;
                v = std::copysign(4.0f * (1.0f + over / (1.0f + over)), v);
            }
        }
        scale(out, target_rms / std::max(rms(out), 1e-12));
        return out;
    }

private:
    double start_of(int bar, int s) const {
        const double swing = s % 4 == 2 ? st_.swing * 2 * step_ : 0.0;
        return (bar * 16 + s) * step_ + swing;
    }

    static int next_gap(uint16_t mask, int s) {
        for (int g = 1; g <= 16; ++g)
            if (mask >> ((s + g) % 16) & 1) return g;
        return 16;
    }

    int scale_note(int degree) const {
        int n = 0;
        while (n < 8 && st_.scale[n] != kEnd) ++n;
        const int octave = degree >= 0 ? degree / n : -((-degree + n - 1) / n);
        return 12 * octave + st_.scale[degree - octave * n];
    }

    std::vector<double> chord(int root, int& degree) const {
        auto in_range = [&](int d) { return root + scale_note(d); };
        while (in_range(degree) > st_.midi_hi) degree -= 7;
        while (in_range(degree) < st_.midi_lo) degree += 3;
        const double m = in_range(degree);
        switch (st_.chord) {
        case Chord::Single: return {m};
        case Chord::Power: return {m, m + 7, m + 12};
        case Chord::Triad: return {m, double(in_range(degree + 2)), double(in_range(degree + 4))};
        case Chord::Seventh:
            return {m, double(in_range(degree + 2)), double(in_range(degree + 4)), double(in_range(degree + 6))};
        }
        return {m};
    }

    // Attack ramp, exponential decay, 30 ms release; vibrato from the same sine table.
    void add_note(std::vector<float>& buf, const std::vector<float>& table, double midi, double start,
                  double length, double attack, double decay, double vibrato, double velocity) {
        const int64_t i0 = int64_t(start * rate_);
        const int64_t n = std::min<int64_t>(int64_t(length * rate_), frames_ - i0);
        if (n <= 0) return;
        const double inc = midi_hz(midi) / rate_;
        const double depth = vibrato * std::log(2.0) / 12.0, lfo_inc = 5.5 / rate_;
        const int64_t na = std::max<int64_t>(1, int64_t(attack * rate_));
        const int64_t nr = std::min<int64_t>(n, int64_t(0.03 * rate_));
        const double k = std::exp(-1.0 / (decay * rate_));
        const auto& sine = sine_table();
        double phase = 0, lfo = 0, env = velocity;
        for (int64_t i = 0; i < n; ++i) {
            double a = i < na ? env * double(i) / na : env;
            if (i >= n - nr) a *= double(n - i) / nr;
            buf[size_t(i0 + i)] += float(a) * lookup(table, phase);
            phase += depth > 0 ? inc * (1.0 + depth * lookup(sine, lfo)) : inc;
            if (phase >= 1.0) phase -= 1.0;
            lfo += lfo_inc;
            if (lfo >= 1.0) lfo -= 1.0;
            if (i >= na) env *= k;
        }
    }

    void add_kick(std::vector<float>& buf, double start, double velocity) {
        const int64_t i0 = int64_t(start * rate_), n = std::min<int64_t>(int64_t(0.35 * rate_), frames_ - i0);
        const double kf = std::exp(-1.0 / (0.03 * rate_)), ka = std::exp(-1.0 / (0.12 * rate_));
        double sweep = 75.0, amp = velocity, phase = 0;
        for (int64_t i = 0; i < n; ++i) {
            buf[size_t(i0 + i)] += float(amp) * lookup(sine_table(), phase);
            phase += (45.0 + sweep) / rate_;
            if (phase >= 1.0) phase -= 1.0;
            sweep *= kf;
            amp *= ka;
        }
    }

    void add_snare(std::vector<float>& buf, double start, double velocity) {
        const int64_t i0 = int64_t(start * rate_), n = std::min<int64_t>(int64_t(0.25 * rate_), frames_ - i0);
        const double kn = std::exp(-1.0 / (0.07 * rate_)), kt = std::exp(-1.0 / (0.05 * rate_));
        double an = velocity, at = 0.5 * velocity, phase = 0;
        for (int64_t i = 0; i < n; ++i) {
            buf[size_t(i0 + i)] += float(an * rng_.uniform(-1.0, 1.0) + at * lookup(sine_table(), phase));
            phase += 185.0 / rate_;
            if (phase >= 1.0) phase -= 1.0;
            an *= kn;
            at *= kt;
        }
    }

    // First-differenced white noise: mostly energy near the top of the band, like a cymbal.
    void add_hat(std::vector<float>& buf, double start, double velocity) {
        const int64_t i0 = int64_t(start * rate_);
        const int64_t n = std::min<int64_t>(int64_t(5 * st_.hat_decay * rate_), frames_ - i0);
        const double k = std::exp(-1.0 / (st_.hat_decay * rate_));
        double a = velocity, prev = 0;
        for (int64_t i = 0; i < n; ++i) {
            const double w = rng_.uniform(-1.0, 1.0);
            buf[size_t(i0 + i)] += float(a * (w - prev));
            prev = w;
            a *= k;
        }
    }

    void fill_noise(std::vector<float>& buf) {
        double b0 = 0, b1 = 0, b2 = 0;
        for (float& v : buf) {
            const double w = rng_.uniform(-1.0, 1.0);
            switch (st_.noise) {
            case Noise::White: v = float(w); break;
            case Noise::Pink: // Paul Kellet's economy filter: -3 dB/octave within 1 dB
                b0 = 0.99765 * b0 + w * 0.0990460;
                b1 = 0.96300 * b1 + w * 0.2965164;
                b2 = 0.57000 * b2 + w * 1.0526913;
                v = float(b0 + b1 + b2 + w * 0.1848);
                break;
            case Noise::Brown: // leaky integrator: -6 dB/octave above a few Hz
                b0 = 0.995 * b0 + 0.1 * w;
                v = float(b0);
                break;
            }
        }
    }

    static double rms(const std::vector<float>& x) {
        double s = 0;
        for (float v : x) s += double(v) * v;
        return x.empty() ? 0.0 : std::sqrt(s / double(x.size()));
    }
    static void scale(std::vector<float>& x, double g) {
        for (float& v : x) v = float(v * g);
    }

    const Style& st_;
    int rate_;
    int64_t frames_;
    Rng& rng_;
    double step_ = 0.125;
};

} // namespace

const std::vector<std::string>& gtzan_genres() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const Style& s : kStyles) v.emplace_back(s.name);
        return v;
    }();
    return names;
}

DemoResult write_gtzan_demo(const std::string& dir, const DemoOptions& options, const gafx::Feedback* feedback) {
    namespace fs = std::filesystem;
    if (options.sample_rate <= 0 || !(options.seconds > 0) || options.tracks_per_genre < 0)
        throw Error(dir, "invalid demo options", "tracks per genre, seconds and sample rate must be positive");
    const int64_t frames = std::llround(options.seconds * options.sample_rate);
    const int64_t total = int64_t(kGenres) * options.tracks_per_genre;

    DemoResult result;
    for (int g = 0; g < kGenres; ++g) {
        const fs::path folder = fs::path(dir) / kStyles[g].name;
        std::error_code ec;
        fs::create_directories(folder, ec);
        if (ec) throw Error(folder.string(), "cannot create folder", ec.message() + "; choose a writable folder");
        for (int i = 0; i < options.tracks_per_genre; ++i) {
            throw_if_cancelled(feedback, dir);
            // Seeded by (seed, genre, index) alone, so more tracks never change earlier ones.
            Rng rng(mix_seed(mix_seed(options.seed, uint64_t(g) + 1), uint64_t(i)));
            const double target_rms = 0.1 * std::pow(10.0, rng.uniform(-1.5, 1.5) / 20.0);
            audio::Waveform w;
            w.sample_rate = options.sample_rate;
            w.channels = 1;
            w.frames = frames;
            w.samples = TrackSynth(kStyles[g], options.sample_rate, frames, rng).render(target_rms);

            char name[64];
            std::snprintf(name, sizeof name, "%s.%05d.wav", kStyles[g].name, i);
            const std::string path = (folder / name).string();
            audio::write(path, w, audio::SampleFormat::Pcm16);
            result.files.push_back(path);
            if (feedback) feedback->progress(int64_t(result.files.size()), total, path);
        }
    }
    return result;
}

} // namespace gafx::data
