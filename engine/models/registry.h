#pragma once
// Models by name: what `gafx models`, `gafx features`, the experiments and the GUI pick from.
// Every extractor feeds every classifier; "small" presets run the same code at CPU-test size.
#include "models/ast.h"
#include "models/feature_extractor.h"
#include "models/model_names.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gafx::models {

enum class Preset { Paper, Small };

// Throws gafx::Error listing the known names when `name` is not one of them.
std::shared_ptr<FeatureExtractor> make_extractor(const std::string& name, Preset preset = Preset::Paper);
Ast make_classifier(const std::string& name, int64_t frames, int64_t classes, Preset preset = Preset::Paper);

// Loads a weights file into an extractor: its own state dict, or for gafx-u a torchaudio
// HDemucs state dict (hdemucs_high_trained.pt) into its Hybrid Demucs.
void load_extractor_weights(FeatureExtractor& extractor, const std::string& path);

struct ModelInfo {
    std::string name;
    std::string kind; // "extractor" | "classifier"
    int64_t params = 0;
    std::vector<int64_t> input;  // extractor: [channels, samples] of 30 s; classifier: [frames, bins]
    std::vector<int64_t> output; // extractor: [frames, bins]; classifier: [classes]
    int sample_rate = 0;         // extractors only
};

// Built from the modules at paper defaults (30 s of audio; AST at 1024 frames, 10 classes).
std::vector<ModelInfo> describe_models();

int64_t parameter_count(const torch::nn::Module& m);

} // namespace gafx::models
