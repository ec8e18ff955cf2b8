#include "experiments/run_cost.h"

#include "models/ast_config.h"

#include <algorithm>
#include <cmath>

namespace gafx::experiments {
namespace {

// Measured 2026-12-05 on the 2-vCPU AMD EPYC of tests/bench/README.md ("What a run costs"), fp32,
// 2 threads, batch 4, per clip. An extractor: its frames for 10 s of audio, and its training time
// for them (the whole step less AST's share). A classifier: its step's milliseconds per GFLOP of
// models::ast_step_flops.
struct ExtractorCost {
    const char* name;
    int64_t paper_frames, small_frames; // per 10 s
    double paper_ms, small_ms;          // per 10 s
};
constexpr ExtractorCost kExtractors[] = {
    {"mel", 1000, 1000, 30, 3},
    {"gafx-u", 628, 10000, 2350, 2350},
    {"gafx-r", 1103, 1103, 2740, 170},
    {"gafx-a", 1103, 1103, 2760, 265},
};
struct ClassifierCost {
    const char* name;
    double paper_ms_per_gflop, small_ms_per_gflop;
};
constexpr ClassifierCost kClassifiers[] = {{"ast-tiny", 12.6, 11.1}, {"ast-small", 7.0, 8.9}};

const ExtractorCost& extractor_cost(const std::string& name) {
    const ExtractorCost* dearest = &kExtractors[0];
    for (const auto& e : kExtractors) {
        if (name == e.name) return e;
        if (e.paper_ms > dearest->paper_ms) dearest = &e;
    }
    return *dearest;
}

// Seconds as a cost sees them: a NaN or negative is none, and a claim past ~30 years is capped.
double audio_seconds(double seconds) { return seconds > 0 ? std::min(seconds, 1e9) : 0.0; }

} // namespace

int64_t extractor_frames(const std::string& extractor, const std::string& preset, double seconds) {
    const auto& e = extractor_cost(extractor);
    const double per_10s = double(preset == "small" ? e.small_frames : e.paper_frames);
    return std::max<int64_t>(std::llround(per_10s * audio_seconds(seconds) / 10.0), 1);
}

double clip_cost_ms(const std::string& extractor, const std::string& classifier, const std::string& preset,
                    double seconds, int64_t frames) {
    const bool small = preset == "small";
    const auto& e = extractor_cost(extractor);
    const double extractor_ms = (small ? e.small_ms : e.paper_ms) * audio_seconds(seconds) / 10.0;
    const bool known = classifier == "ast-tiny" || classifier == "ast-small";
    const std::string name = known ? classifier : "ast-small"; // the dearest
    const auto& c = name == kClassifiers[0].name ? kClassifiers[0] : kClassifiers[1];
    const int64_t input = frames > 0 ? frames : extractor_frames(extractor, preset, seconds);
    const double gflop = models::ast_step_flops(models::classifier_config(name, input, 10, small), 1) / 1e9;
    return extractor_ms + gflop * (small ? c.small_ms_per_gflop : c.paper_ms_per_gflop);
}

int64_t run_cost(const RunConfig& c) {
    const int64_t clips = c.augmentation ? std::max(c.clips_per_track, 1) : 1;
    const double seconds = c.augmentation ? c.clip_seconds : c.track_seconds;
    const double ms = double(std::max(c.epochs, 0)) * double(clips) *
                      clip_cost_ms(c.extractor, c.classifier, c.preset, seconds, c.frames);
    // At most ~30 years: sums over a million runs stay far inside int64, whatever a config claims.
    return ms >= 1.0 ? std::llround(std::min(ms, 1e12)) : 1;
}

} // namespace gafx::experiments
