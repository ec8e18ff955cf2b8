#pragma once
// Points of a [rows, cols] matrix (train/embeddings.h: one row per track) laid out in 2-D, for the
// embedding explorer and `gafx embed --project`: PCA, and exact t-SNE (van der Maaten and Hinton
// 2008) on libtorch, since no Debian C++ library provides it. Exact t-SNE costs O(rows²) memory
// and time per iteration: ~2 s at GTZAN's 1000 tracks, ~15 s at 2000 (2 cores).
#include "core/feedback.h"

#include <cstdint>
#include <limits>
#include <vector>

namespace gafx::experiments {

struct Projection {
    int64_t rows = 0;
    std::vector<float> xy;         // [rows, 2], row-major
    std::vector<double> explained; // PCA: each axis's share of the total variance (descending)
    double kl_divergence = std::numeric_limits<double>::quiet_NaN(); // t-SNE: KL(P || Q) at the end
    double perplexity = std::numeric_limits<double>::quiet_NaN();    // t-SNE: the one used (clamped)
};

// The rows centred and projected on the first two principal axes, the first the widest. An axis's
// sign is fixed by its largest-|value| loading, which is made positive, so the same data always
// draws the same way. With one column the second coordinate is 0. Throws gafx::Error for fewer
// than 2 rows, no column, a size that is not rows * cols, or a value that is not finite.
Projection pca_2d(const std::vector<float>& matrix, int64_t rows, int64_t cols);

enum class TsneInit {
    Pca,   // the PCA layout scaled to std 1e-4: deterministic, and keeps the global arrangement
    Random // N(0, 1e-4²) from `seed`
};

struct TsneOptions {
    double perplexity = 30;   // effective neighbours; clamped to [1, (rows - 1) / 3]
    int iterations = 1000;
    double learning_rate = 0; // <= 0: max(rows / early_exaggeration / 4, 50), as scikit-learn's "auto"
    double early_exaggeration = 12;
    int exaggeration_iterations = 250; // with momentum 0.5; 0.8 afterwards
    TsneInit init = TsneInit::Pca;
    uint64_t seed = 0; // TsneInit::Random only
};

// Exact t-SNE: per-row Gaussian bandwidths found by bisection to match the perplexity, symmetrised
// P, Student-t Q, gradient descent with momentum and per-coordinate gains (the paper's recipe).
// Deterministic for the same input, options and thread count. Reports progress and honours
// cancel every 25 iterations (Cancelled). Throws gafx::Error as pca_2d does, and for options out
// of range (perplexity or iterations <= 0).
Projection tsne_2d(const std::vector<float>& matrix, int64_t rows, int64_t cols, const TsneOptions& options = {},
                   const Feedback* feedback = nullptr);

} // namespace gafx::experiments
