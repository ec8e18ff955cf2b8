#include "models/ast_config.h"

#include "core/error.h"
#include "core/text.h"
#include "models/model_names.h"

namespace gafx::models {

AstConfig ast_tiny(int64_t frames, int64_t classes) {
    AstConfig c;
    c.frames = frames;
    c.num_classes = classes;
    return c;
}

AstConfig ast_small(int64_t frames, int64_t classes) {
    AstConfig c = ast_tiny(frames, classes);
    c.embed_dim = 384;
    c.heads = 6;
    return c;
}

int64_t ast_parameter_count(const AstConfig& c) {
    const int64_t d = c.embed_dim, h = d * c.mlp_ratio;
    const int64_t block = 2 * 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * h + h) + (h * d + d);
    const int64_t patch = c.patch * c.patch * d + d;
    return patch + 2 * d + c.tokens() * d + c.depth * block + 2 * d + 2 * d + d * c.num_classes +
           c.num_classes;
}

AstConfig classifier_config(const std::string& name, int64_t frames, int64_t classes, bool small_preset) {
    AstConfig c;
    if (name == "ast-tiny")
        c = ast_tiny(frames, classes);
    else if (name == "ast-small")
        c = ast_small(frames, classes);
    else
        throw Error({}, "unknown classifier '" + name + "'", "use one of: " + join(classifier_names()));
    if (small_preset) c.depth = 2;
    return c;
}

double ast_step_flops(const AstConfig& c, int64_t batch) {
    const double n = double(c.tokens()), d = double(c.embed_dim), h = d * double(c.mlp_ratio);
    const double patch = 2.0 * double(c.tokens() - 2) * double(c.patch * c.patch) * d;
    const double block = 2.0 * n * d * 3 * d + 2.0 * n * n * d * 2 + 2.0 * n * d * d + 2.0 * n * d * h * 2;
    return 3.0 * double(batch) * (patch + double(c.depth) * block);
}

} // namespace gafx::models
