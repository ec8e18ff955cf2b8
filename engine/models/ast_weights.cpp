#include "models/ast_weights.h"

#include "core/error.h"

#include <cmath>
#include <map>

namespace gafx::models {
namespace {

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

// The patch grid a stored positional embedding was trained on: square for ImageNet DeiT;
// otherwise the grid of 128 mel bins with 16 x 16 patches at stride 16 (ours) or 10 (AST's
// overlapping patches: 12 frequency rows).
std::pair<int64_t, int64_t> stored_grid(int64_t patches, const std::string& path) {
    const auto side = static_cast<int64_t>(std::llround(std::sqrt(double(patches))));
    if (side * side == patches) return {side, side};
    for (int64_t f : {8, 12})
        if (patches % f == 0) return {f, patches / f};
    throw Error(path, "cannot tell the patch grid of pos_embed with " + std::to_string(patches) + " patches",
                "expected a square ImageNet grid or 8 or 12 frequency rows");
}

} // namespace

AstWeightsReport load_ast_weights(AstImpl& ast, const std::string& path) {
    const StateDict raw = read_state_dict(path);
    AstWeightsReport report;
    report.source = "gafx";

    StateDict state;
    for (auto [name, t] : raw) {
        if (starts_with(name, "module.")) name = name.substr(7);
        if (starts_with(name, "v.")) {
            name = name.substr(2);
            report.source = "ast-audioset";
        }
        // DeiT's ImageNet heads have no place here (AST uses mlp_head).
        if (starts_with(name, "head.") || starts_with(name, "head_dist.")) {
            if (report.source == "gafx") report.source = "imagenet-deit";
            continue;
        }
        state.emplace_back(name, t);
    }

    const AstConfig& c = ast.config();
    torch::NoGradGuard no_grad;
    for (auto& [name, t] : state) {
        if (name == "patch_embed.proj.weight" && t.dim() == 4 && t.size(1) == 3) {
            t = t.mean(1, /*keepdim=*/true); // one mel channel for three colour channels
            report.source = "imagenet-deit";
        } else if (name == "pos_embed" && t.dim() == 3 && t.size(1) != c.tokens()) {
            const auto [f, tt] = stored_grid(t.size(1) - 2, path);
            t = resize_pos_embed(t, f, tt, c.freq_patches(), c.time_patches());
            report.pos_embed_resized = true;
        } else if (name == "mlp_head.1.weight" || name == "mlp_head.1.bias") {
            if (t.size(0) != c.num_classes) t = torch::Tensor(); // another label set: fresh head
        }
    }
    StateDict usable;
    for (auto& [name, t] : state)
        if (t.defined()) usable.emplace_back(name, t);

    LoadOptions options;
    options.strip_prefixes = {};
    options.optional = {"mlp_head."}; // ImageNet DeiT has no AST head at all
    report.load = load_state_dict(ast, usable, path, options);
    report.head_loaded = report.load.left_initialised.empty();
    return report;
}

} // namespace gafx::models
