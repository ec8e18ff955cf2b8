#pragma once
// AST's shape (the DeiT sizes, the patch grid) apart from its modules: what sizes, costs and
// presets need without including libtorch.
#include <cstdint>
#include <string>

namespace gafx::models {

struct AstConfig {
    int64_t embed_dim = 192;
    int64_t depth = 12;
    int64_t heads = 3;
    int64_t mlp_ratio = 4;
    int64_t frames = 1024;    // time length of the feature map; fixes the positional grid
    int64_t bins = 128;       // frequency bins of the feature map
    int64_t patch = 16;       // square patch side, also the stride (no overlap)
    int64_t num_classes = 10;
    double dropout = 0.0;

    // Patch grid, floored as the patch convolution floors it.
    int64_t freq_patches() const { return bins / patch; }
    int64_t time_patches() const { return frames / patch; }
    int64_t tokens() const { return 2 + freq_patches() * time_patches(); }
};

// DeiT-Tiny (192 wide, 12 layers, 3 heads) and DeiT-Small (384, 12, 6).
AstConfig ast_tiny(int64_t frames = 1024, int64_t classes = 10);
AstConfig ast_small(int64_t frames = 1024, int64_t classes = 10);

// Trainable parameters a config builds, without building it (for sizes shown before training).
int64_t ast_parameter_count(const AstConfig& c);

// The classifier `name` ("ast-tiny" | "ast-small") at a preset: "small" keeps the width and heads
// and is 2 blocks deep, so CPU tests run the real code path. Throws gafx::Error listing the known
// names for any other.
AstConfig classifier_config(const std::string& name, int64_t frames, int64_t classes, bool small_preset);

// Multiply-adds x 2 of a training step on `batch` feature maps (patch embedding, per block: qkv,
// scores, weighted sum, projection, MLP; the head is negligible), the forward x 3.
double ast_step_flops(const AstConfig& c, int64_t batch);

} // namespace gafx::models
