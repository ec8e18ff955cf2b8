#include "data/audioset_demo.h"

#include "audio/audio_file.h"
#include "core/error.h"
#include "core/rng.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

namespace fs = std::filesystem;

namespace gafx::data {
namespace {

struct DemoClass {
    const char* mid;
    const char* name;
};
// Real AudioSet ontology ids, so a model trained on the demo speaks the release's vocabulary.
constexpr DemoClass kClasses[] = {{"/m/09x0r", "Speech"}, {"/m/04rlf", "Music"},  {"/m/0bt9lr", "Dog"},
                                  {"/m/03m9d0z", "Wind"}, {"/m/06mb1", "Rain"},   {"/m/07yv9", "Vehicle"}};
enum Texture { Speech, Music, Dog, Wind, Rain, Vehicle, kClassCount };

constexpr double kTwoPi = 6.283185307179586;

// sin(2 pi c) from + - * only: libm's sin may differ in the last bit between platforms, and
// the demo must come out byte-identical everywhere for a seed.
double sin_cycles(double c) {
    double x = c - std::floor(c);
    double sign = 1.0;
    if (x >= 0.5) x -= 0.5, sign = -1.0;
    if (x > 0.25) x = 0.5 - x;
    const double y = kTwoPi * x, y2 = y * y;
    double p = 1.0 / 6227020800.0;
    p = p * y2 - 1.0 / 39916800.0;
    p = p * y2 + 1.0 / 362880.0;
    p = p * y2 - 1.0 / 5040.0;
    p = p * y2 + 1.0 / 120.0;
    p = p * y2 - 1.0 / 6.0;
    p = p * y2 + 1.0;
    return sign * y * p;
}

double noise(Rng& r) { return r.uniform(-1.0, 1.0); }
double sq(double x) { return x * x; }
int64_t samples(double seconds, int fs) { return static_cast<int64_t>(seconds * fs); }

// Equal-tempered semitone ratios, written out so no pow() is involved.
constexpr double kSemitone[12] = {1.0,
                                  1.0594630943592953,
                                  1.122462048309373,
                                  1.189207115002721,
                                  1.2599210498948732,
                                  1.3348398541700344,
                                  1.4142135623730951,
                                  1.4983070768766815,
                                  1.5874010519681994,
                                  1.681792830507429,
                                  1.7817974362806785,
                                  1.887748625363387};
double semitones(int s) { return s < 12 ? kSemitone[s] : 2.0 * kSemitone[s - 12]; }

// Voiced syllables: a gliding pitch whose harmonics are weighted by two formants, with
// noise bursts for consonants and pauses between phrases.
void speech(std::vector<double>& out, Rng& r, int fs) {
    const int64_t n = int64_t(out.size());
    const double f0 = r.uniform(100, 220), top = std::min(4000.0, 0.45 * fs);
    int64_t t = samples(r.uniform(0, 0.3), fs);
    while (t < n) {
        if (r.uniform() < 0.5) {
            const int64_t len = samples(r.uniform(0.02, 0.05), fs);
            double prev = 0;
            for (int64_t i = 0; i < len && t + i < n; ++i) {
                const double x = noise(r);
                out[size_t(t + i)] += 0.25 * (x - prev);
                prev = x;
            }
            t += len;
        }
        const int64_t len = samples(r.uniform(0.12, 0.3), fs);
        const double f1 = r.uniform(300, 850), f2 = r.uniform(900, 2400);
        const double pitch = f0 * r.uniform(0.85, 1.2), glide = r.uniform(-0.25, 0.15);
        std::vector<double> amp;
        for (int k = 1; k * pitch * 1.15 < top; ++k) {
            const double f = k * pitch;
            amp.push_back((1.0 / (1 + sq((f - f1) / 90)) + 0.7 / (1 + sq((f - f2) / 130)) + 0.02) / k);
        }
        double phase = 0;
        for (int64_t i = 0; i < len && t + i < n; ++i) {
            const double pos = double(i) / double(len);
            phase += pitch * (1 + glide * pos) / fs;
            phase -= std::floor(phase);
            double s = 0;
            for (size_t k = 0; k < amp.size(); ++k) s += amp[k] * sin_cycles(double(k + 1) * phase);
            out[size_t(t + i)] += sin_cycles(0.5 * pos) * s;
        }
        t += len + samples(r.uniform(0.04, 0.15), fs);
        if (r.uniform() < 0.15) t += samples(r.uniform(0.3, 0.7), fs);
    }
}

void add_tone(std::vector<double>& out, int64_t t, int64_t len, double f, int harmonics, double amp,
              double attack_s, double tau_s, int fs) {
    const int64_t n = int64_t(out.size()), attack = std::max<int64_t>(1, samples(attack_s, fs));
    const double decay = 1.0 - 1.0 / std::max(1.0, tau_s * fs);
    double env = 1.0;
    for (int64_t i = 0; i < len && t + i < n; ++i) {
        const double phase = f * double(i) / fs;
        double s = 0;
        for (int k = 1; k <= harmonics && k * f < 0.45 * fs; ++k) s += sin_cycles(k * phase) / k;
        const double a = i < attack ? double(i) / double(attack) : (env *= decay);
        out[size_t(t + i)] += amp * a * s;
    }
}

// A pentatonic melody over a root-and-fifth drone: harmonic, pitched, rhythmic.
void music(std::vector<double>& out, Rng& r, int fs) {
    const int64_t n = int64_t(out.size());
    const double root = 130.81 * kSemitone[r.below(12)], beat = r.uniform(0.2, 0.4);
    add_tone(out, 0, n, root, 3, 0.25, 0.05, 1e9, fs);
    add_tone(out, 0, n, root * kSemitone[7], 3, 0.2, 0.05, 1e9, fs);
    static constexpr int kSteps[] = {0, 2, 4, 7, 9, 12, 14, 16};
    for (int64_t t = 0; t < n;) {
        const int64_t len = samples(beat * double(1 + r.below(2)), fs);
        const double f = 2 * root * semitones(kSteps[r.below(8)]);
        add_tone(out, t, len, f, 6, 1.0, 0.01, 0.6 * double(len) / fs, fs);
        t += len;
    }
}

// Groups of short barks: a pitch falling fast, harmonics plus breath noise, sharp attack.
void dog(std::vector<double>& out, Rng& r, int fs) {
    const int64_t n = int64_t(out.size());
    int64_t t = samples(r.uniform(0, 0.8), fs);
    while (t < n) {
        for (uint64_t b = 0, group = 1 + r.below(3); b < group; ++b) {
            const int64_t len = samples(r.uniform(0.08, 0.2), fs), attack = samples(0.005, fs);
            const double f0 = r.uniform(450, 800), decay = 1.0 - 4.0 / double(len);
            double phase = 0, env = 1.0;
            for (int64_t i = 0; i < len && t + i < n; ++i) {
                phase += f0 * (1 - 0.4 * double(i) / double(len)) / fs;
                phase -= std::floor(phase);
                double s = 0.35 * noise(r);
                for (int k = 1; k <= 6 && k * f0 < 0.45 * fs; ++k) s += sin_cycles(k * phase) / k;
                const double a = i < attack ? double(i) / double(attack) : (env *= decay);
                out[size_t(t + i)] += a * s;
            }
            t += len + samples(r.uniform(0.08, 0.18), fs);
        }
        t += samples(r.uniform(0.4, 1.5), fs);
    }
}

// Low-passed noise whose brightness and loudness swell in slow gusts.
void wind(std::vector<double>& out, Rng& r, int fs) {
    const double rate1 = r.uniform(0.05, 0.2), ph1 = r.uniform(), rate2 = r.uniform(0.2, 0.5), ph2 = r.uniform();
    double lp1 = 0, lp2 = 0;
    for (size_t i = 0; i < out.size(); ++i) {
        const double tt = double(i) / fs;
        const double g = 0.5 + 0.3 * sin_cycles(rate1 * tt + ph1) + 0.2 * sin_cycles(rate2 * tt + ph2);
        const double a = std::min(1.0, kTwoPi * (150 + 700 * g) / fs);
        lp1 += a * (noise(r) - lp1);
        lp2 += a * (lp1 - lp2);
        out[i] += lp2 * (0.2 + g);
    }
}

// Steady hiss plus many short, bright droplet pings.
void rain(std::vector<double>& out, Rng& r, int fs) {
    const int64_t n = int64_t(out.size());
    double prev = 0;
    for (size_t i = 0; i < out.size(); ++i) {
        const double x = noise(r);
        out[i] += 0.3 * (x - prev);
        prev = x;
    }
    const auto drops = int64_t(r.uniform(80, 200) * double(n) / fs);
    for (int64_t d = 0; d < drops; ++d) {
        const auto t = int64_t(r.below(uint64_t(n)));
        const double f = r.uniform(1500, std::min(6000.0, 0.45 * fs)), amp = r.uniform(0.3, 1.0);
        const double tau = r.uniform(0.002, 0.006), decay = 1.0 - 1.0 / (tau * fs);
        double env = amp;
        for (int64_t i = 0; i < samples(5 * tau, fs) && t + i < n; ++i, env *= decay)
            out[size_t(t + i)] += env * sin_cycles(f * double(i) / fs);
    }
}

// A low firing fundamental with strong even harmonics, slowly revving, over rumble.
void vehicle(std::vector<double>& out, Rng& r, int fs) {
    const double f0 = r.uniform(30, 60), rate = r.uniform(0.05, 0.15), depth = r.uniform(0.1, 0.25);
    const double ph = r.uniform();
    double phase = 0, lp = 0;
    for (size_t i = 0; i < out.size(); ++i) {
        phase += f0 * (1 + depth * sin_cycles(rate * double(i) / fs + ph)) / fs;
        phase -= std::floor(phase);
        double s = 0;
        for (int k = 1; k <= 12 && k * f0 * 1.3 < 0.45 * fs; ++k)
            s += (k % 2 == 0 ? 1.0 : 0.6) / std::sqrt(double(k)) * sin_cycles(k * phase);
        lp += 0.02 * (noise(r) - lp);
        out[i] += s + 3 * lp;
    }
}

audio::Waveform synthesize(const std::vector<int>& labels, uint64_t seed, double seconds, int fs) {
    const auto n = static_cast<size_t>(samples(seconds, fs));
    std::vector<double> mix(n, 0.0);
    for (int c : labels) {
        // One stream per class, so adding a class to a clip leaves the others unchanged.
        Rng r(mix_seed(seed, uint64_t(c)));
        std::vector<double> x(n, 0.0);
        switch (c) {
        case Speech: speech(x, r, fs); break;
        case Music: music(x, r, fs); break;
        case Dog: dog(x, r, fs); break;
        case Wind: wind(x, r, fs); break;
        case Rain: rain(x, r, fs); break;
        default: vehicle(x, r, fs); break;
        }
        double energy = 0;
        for (double v : x) energy += v * v;
        const double rms = std::sqrt(energy / double(std::max<size_t>(1, n)));
        const double gain = rms > 0 ? r.uniform(0.6, 1.0) / rms : 0.0;
        for (size_t i = 0; i < n; ++i) mix[i] += gain * x[i];
    }
    double peak = 0;
    for (double v : mix) peak = std::max(peak, std::fabs(v));
    audio::Waveform w;
    w.sample_rate = fs;
    w.channels = 1;
    w.frames = int64_t(n);
    w.samples.resize(n);
    const double scale = peak > 0 ? 0.8 / peak : 0.0;
    for (size_t i = 0; i < n; ++i) w.samples[i] = static_cast<float>(mix[i] * scale);
    return w;
}

struct DemoClip {
    std::string ytid;
    double start = 0;
    std::vector<int> labels; // class indices, ascending
    bool missing = false;
};

std::string seconds_field(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    return buf;
}

void write_text(const fs::path& path, const std::string& text, std::vector<std::string>& written) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw Error(path.string(), "cannot write the file", "check the folder is writable");
    written.push_back(path.string());
}

std::string segment_csv(const std::vector<DemoClip>& clips, double seconds, uint64_t seed) {
    std::set<int> unique;
    size_t positives = 0;
    for (const auto& c : clips) {
        unique.insert(c.labels.begin(), c.labels.end());
        positives += c.labels.size();
    }
    const std::string n = std::to_string(clips.size());
    std::string s = "# Segments csv created by the gafx AudioSet demo writer, seed " + std::to_string(seed) + "\n";
    s += "# num_ytids=" + n + ", num_segs=" + n + ", num_unique_labels=" + std::to_string(unique.size()) +
         ", num_positive_labels=" + std::to_string(positives) + "\n";
    s += "# YTID, start_seconds, end_seconds, positive_labels\n";
    for (const auto& c : clips) {
        s += c.ytid + ", " + seconds_field(c.start) + ", " + seconds_field(c.start + seconds) + ", \"";
        for (size_t i = 0; i < c.labels.size(); ++i) s += (i ? "," : "") + std::string(kClasses[c.labels[i]].mid);
        s += "\"\n";
    }
    return s;
}

} // namespace

std::vector<std::string> write_audioset_demo(const std::string& dir, const AudioSetDemoOptions& o,
                                             const Feedback* feedback) {
    if (o.clips < 1 || o.clips > 100000)
        throw Error(dir, "demo clips must be 1 to 100000, not " + std::to_string(o.clips));
    if (!(o.seconds > 0 && o.seconds <= 600))
        throw Error(dir, "demo clip length must be above 0 and at most 600 seconds");
    if (o.sample_rate < 8000 || o.sample_rate > 192000)
        throw Error(dir, "demo sample rate must be 8000 to 192000 Hz, not " + std::to_string(o.sample_rate));
    if (!(o.missing_fraction >= 0 && o.missing_fraction <= 1))
        throw Error(dir, "demo missing fraction must be between 0 and 1");

    const fs::path root = fs::absolute(dir).lexically_normal();
    std::error_code ec;
    fs::create_directories(root / "audio", ec);
    if (ec) throw Error((root / "audio").string(), "cannot create the folder: " + ec.message());

    Rng layout(mix_seed(o.seed, 0));
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const int offset = int(layout.below(kClassCount));
    std::set<std::string> ytids;
    std::vector<DemoClip> clips(size_t(o.clips));
    for (int i = 0; i < o.clips; ++i) {
        DemoClip& c = clips[size_t(i)];
        do {
            c.ytid.clear();
            for (int k = 0; k < 11; ++k) c.ytid += kAlphabet[layout.below(64)];
        } while (!ytids.insert(c.ytid).second);
        c.start = 10.0 * double(layout.below(30));
        // The rotating first class keeps every class in both splits; extras make it multi-label.
        c.labels.push_back((i + offset) % kClassCount);
        for (uint64_t e = 0, extra = layout.below(3); e < extra;) {
            const int l = int(layout.below(kClassCount));
            if (std::find(c.labels.begin(), c.labels.end(), l) == c.labels.end()) c.labels.push_back(l), ++e;
        }
        std::sort(c.labels.begin(), c.labels.end());
    }
    std::vector<size_t> order(clips.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    layout.shuffle(order);
    const auto missing = static_cast<size_t>(std::llround(o.missing_fraction * o.clips));
    for (size_t i = 0; i < missing; ++i) clips[order[i]].missing = true;

    const size_t eval = o.clips < 2 ? 0 : std::clamp<size_t>(size_t(std::llround(0.3 * o.clips)), 1, clips.size() - 1);
    const std::vector<DemoClip> train(clips.begin(), clips.end() - long(eval));
    const std::vector<DemoClip> test(clips.end() - long(eval), clips.end());

    std::vector<std::string> written;
    std::string classes = "index,mid,display_name\n";
    for (int c = 0; c < kClassCount; ++c)
        classes += std::to_string(c) + "," + kClasses[c].mid + ",\"" + kClasses[c].name + "\"\n";
    write_text(root / "class_labels_indices.csv", classes, written);
    write_text(root / "balanced_train_segments.csv", segment_csv(train, o.seconds, o.seed), written);
    write_text(root / "eval_segments.csv", segment_csv(test, o.seconds, o.seed), written);

    for (size_t i = 0; i < clips.size(); ++i) {
        throw_if_cancelled(feedback, root.string());
        const DemoClip& c = clips[i];
        const fs::path path = root / "audio" / ("Y" + c.ytid + ".wav");
        if (!c.missing) {
            audio::write(path.string(), synthesize(c.labels, mix_seed(o.seed, 1 + i), o.seconds, o.sample_rate));
            written.push_back(path.string());
        } else {
            fs::remove(path, ec); // a rerun into the same folder must not leave it behind
        }
        if (feedback) feedback->progress(int64_t(i + 1), int64_t(clips.size()), path.string());
    }
    return written;
}

} // namespace gafx::data
