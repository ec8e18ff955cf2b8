#pragma once
// Pretrained weights for the AST classifier, from the files people have: ImageNet DeiT as
// timm ships it (deit_{tiny,small}_distilled_patch16_224), the AST reference repository's
// AudioSet checkpoints (DataParallel `module.`, the DeiT under `v.`, mlp_head for 527 classes),
// or our own saved AST. The patch convolution is averaged over RGB for DeiT, and positional
// embeddings are interpolated to this model's patch grid whenever the grids differ.
#include "models/ast.h"
#include "models/weights.h"

#include <string>

namespace gafx::models {

struct AstWeightsReport {
    std::string source;            // "imagenet-deit", "ast-audioset" or "gafx"
    bool head_loaded = false;      // false: the classifier head keeps its fresh initialisation
    bool pos_embed_resized = false;
    LoadReport load;
};

// Throws gafx::Error naming the file and the tensor when the body does not fit (another
// width or depth).
AstWeightsReport load_ast_weights(AstImpl& ast, const std::string& path);

} // namespace gafx::models
