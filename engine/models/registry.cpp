#include "models/registry.h"

#include "core/error.h"
#include "core/text.h"
#include "models/gafx_a.h"
#include "models/gafx_r.h"
#include "models/gafx_u.h"
#include "models/mel_extractor.h"
#include "models/weights.h"

#include <cmath>

namespace gafx::models {
namespace {

constexpr double kTrackSeconds = 30.0;

} // namespace

std::shared_ptr<FeatureExtractor> make_extractor(const std::string& name, Preset preset) {
    const bool paper = preset == Preset::Paper;
    if (name == "mel") return std::make_shared<MelExtractor>(MelConfig{});
    if (name == "gafx-r") return std::make_shared<GafxR>(paper ? GafxRConfig::paper() : GafxRConfig::small());
    if (name == "gafx-a") return std::make_shared<GafxA>(paper ? GafxAConfig::paper() : GafxAConfig::small());
    if (name == "gafx-u") return std::make_shared<GafxU>(paper ? gafx_u_paper() : gafx_u_small());
    throw Error({}, "unknown extractor '" + name + "'", "use one of: " + join(extractor_names()));
}

Ast make_classifier(const std::string& name, int64_t frames, int64_t classes, Preset preset) {
    return Ast(classifier_config(name, frames, classes, preset == Preset::Small));
}

void load_extractor_weights(FeatureExtractor& extractor, const std::string& path) {
    const StateDict state = read_state_dict(path);
    auto* u = dynamic_cast<GafxU*>(&extractor);
    bool own = false;
    for (const auto& [name, t] : state)
        if (name.rfind("hdemucs.", 0) == 0 || name.rfind("module.hdemucs.", 0) == 0) own = true;
    if (u && !own) {
        load_state_dict(*u->hdemucs(), state, path);
        return;
    }
    load_state_dict(extractor, state, path);
}

int64_t parameter_count(const torch::nn::Module& m) {
    int64_t n = 0;
    for (const auto& p : m.parameters(true)) n += p.numel();
    return n;
}

std::vector<ModelInfo> describe_models() {
    std::vector<ModelInfo> out;
    for (const auto& name : extractor_names()) {
        const auto e = make_extractor(name);
        const int64_t samples = std::llround(kTrackSeconds * e->sample_rate());
        out.push_back(ModelInfo{name,
                                "extractor",
                                parameter_count(*e),
                                {e->input_channels(), samples},
                                {e->output_frames(samples), e->feature_bins()},
                                e->sample_rate()});
    }
    for (const auto& name : classifier_names()) {
        const Ast a = make_classifier(name, 1024, 10);
        out.push_back(ModelInfo{name, "classifier", parameter_count(*a), {1024, 128}, {10}, 0});
    }
    return out;
}

} // namespace gafx::models
