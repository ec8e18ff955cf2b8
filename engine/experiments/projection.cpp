#include "experiments/projection.h"

#include "core/error.h"
#include "core/rng.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>

namespace gafx::experiments {
namespace {

// float64 throughout: P spans many decades, and exact t-SNE at a few thousand rows is cheap enough.
const auto kF64 = at::TensorOptions().dtype(at::kDouble);

at::Tensor checked(const std::vector<float>& m, int64_t rows, int64_t cols, const std::string& what) {
    if (rows < 2)
        throw Error({}, what + " needs at least 2 points, got " + std::to_string(rows),
                    "embed more tracks (another subset, or all of them)");
    if (cols < 1) throw Error({}, what + ": the points have no coordinates (dimension 0)");
    if (int64_t(m.size()) != rows * cols)
        throw Error({}, what + ": " + std::to_string(m.size()) + " values are not " + std::to_string(rows) + " x " +
                            std::to_string(cols));
    for (size_t i = 0; i < m.size(); ++i)
        if (!std::isfinite(m[i]))
            throw Error({}, what + ": row " + std::to_string(int64_t(i) / cols) + " holds NaN or an infinity",
                        "that track's embedding is broken; compute the embeddings again");
    return at::from_blob(const_cast<float*>(m.data()), {rows, cols}, at::kFloat).to(at::kDouble);
}

std::vector<float> to_points(const at::Tensor& y) {
    const at::Tensor f = y.to(at::kFloat).contiguous();
    return std::vector<float>(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
}

// Centred rows on the first two principal axes ([rows, 2], zeros where there is no second).
at::Tensor pca(const at::Tensor& x, std::vector<double>* explained) {
    const at::Tensor xc = x - x.mean(0, true);
    at::Tensor u, s, vh;
    std::tie(u, s, vh) = at::linalg_svd(xc, false);
    const int64_t k = std::min<int64_t>(2, s.size(0));
    at::Tensor axes = at::zeros({x.size(1), 2}, kF64);
    axes.narrow(1, 0, k).copy_(vh.narrow(0, 0, k).t());
    for (int64_t j = 0; j < k; ++j) {
        at::Tensor a = axes.select(1, j);
        // SVD's signs are arbitrary (LAPACK builds differ): fix them by the data.
        if (a[a.abs().argmax().item<int64_t>()].item<double>() < 0) a.neg_();
    }
    if (explained) {
        const double total = (s * s).sum().item<double>();
        for (int64_t j = 0; j < 2; ++j)
            explained->push_back(j < k && total > 0 ? (s[j] * s[j]).item<double>() / total : 0.0);
    }
    return xc.mm(axes);
}

at::Tensor squared_distances(const at::Tensor& x) {
    const at::Tensor sq = (x * x).sum(1);
    return (sq.unsqueeze(1) + sq.unsqueeze(0)).addmm_(x, x.t(), 1, -2).clamp_min_(0);
}

// Joint probabilities P (sum 1): each row's Gaussian bandwidth bisected, all rows at once, until
// the entropy of P(.|i) is log(perplexity); then symmetrised.
at::Tensor joint_probabilities(const at::Tensor& x, double perplexity, const Feedback* feedback) {
    const int64_t n = x.size(0);
    at::Tensor d = squared_distances(x);
    d.fill_diagonal_(std::numeric_limits<double>::infinity());
    // Shifted by each row's nearest distance so exp never underflows to an all-zero row; the
    // entropy does not change.
    d -= std::get<0>(d.min(1, true));
    d.fill_diagonal_(0);
    const double target = std::log(perplexity);
    at::Tensor beta = at::ones({n, 1}, kF64), lo = at::zeros({n, 1}, kF64);
    at::Tensor hi = at::full({n, 1}, std::numeric_limits<double>::infinity(), kF64);
    at::Tensor p;
    for (int it = 0; it < 200; ++it) {
        if (it % 10 == 0) throw_if_cancelled(feedback, "t-SNE");
        p = at::exp(-d * beta);
        p.fill_diagonal_(0);
        const at::Tensor sum = p.sum(1, true);
        const at::Tensor h = sum.log() + beta * (d * p).sum(1, true) / sum;
        const at::Tensor flat = h > target; // too many neighbours: narrow the kernel
        if ((h - target).abs().max().item<double>() < 1e-5) break;
        lo = at::where(flat, beta, lo);
        hi = at::where(flat, hi, beta);
        beta = at::where(flat, at::where(hi.isinf(), beta * 2, (beta + hi) / 2), (beta + lo) / 2);
    }
    p /= p.sum(1, true);
    p = (p + p.t()) / (2.0 * double(n));
    return p.clamp_min_(1e-12).fill_diagonal_(0);
}

// The Student-t kernel (1 + |yi - yj|²)^-1 with a zero diagonal.
at::Tensor kernel(const at::Tensor& y) { return squared_distances(y).add_(1).reciprocal_().fill_diagonal_(0); }

} // namespace

Projection pca_2d(const std::vector<float>& matrix, int64_t rows, int64_t cols) {
    const at::Tensor x = checked(matrix, rows, cols, "PCA");
    Projection out;
    out.rows = rows;
    out.xy = to_points(pca(x, &out.explained));
    return out;
}

Projection tsne_2d(const std::vector<float>& matrix, int64_t rows, int64_t cols, const TsneOptions& o,
                   const Feedback* feedback) {
    const at::Tensor x = checked(matrix, rows, cols, "t-SNE");
    if (!(o.perplexity > 0) || o.iterations <= 0 || o.exaggeration_iterations < 0 || !(o.early_exaggeration > 0))
        throw Error({}, "t-SNE needs a perplexity, iterations and early exaggeration above 0",
                    "the defaults are 30, 1000 and 12");
    const int64_t n = rows;
    // A point has n - 1 neighbours; sklearn asks perplexity < n. Three per unit of perplexity
    // keeps the bandwidth search meaningful on small sets.
    const double perplexity = std::max(1.0, std::min(o.perplexity, double(n - 1) / 3.0));
    const double lr = o.learning_rate > 0 ? o.learning_rate : std::max(double(n) / o.early_exaggeration / 4.0, 50.0);
    throw_if_cancelled(feedback, "t-SNE");
    const at::Tensor p = joint_probabilities(x, perplexity, feedback);

    at::Tensor y;
    if (o.init == TsneInit::Pca) {
        y = pca(x, nullptr);
        const double sd = y.select(1, 0).std().item<double>();
        if (sd > 0) y = y / sd * 1e-4;
    }
    if (!y.defined() || !(y.abs().max().item<double>() > 0)) { // random init, or identical points
        Rng rng(o.seed);
        std::vector<double> r(size_t(n) * 2);
        for (double& v : r) v = rng.normal() * 1e-4;
        y = at::from_blob(r.data(), {n, 2}, kF64).clone();
    }

    // The O(n²) passes over memory are the cost: they run in float32 (half the bytes; the
    // Student-t kernel 1 / (1 + d²) shrugs off its rounding), the points and steps in float64.
    const at::Tensor p32 = p.to(at::kFloat), p_early = p32 * o.early_exaggeration;
    at::Tensor update = at::zeros_like(y), gains = at::ones_like(y);
    for (int it = 0; it < o.iterations; ++it) {
        const bool early = it < o.exaggeration_iterations;
        const at::Tensor yf = y.to(at::kFloat);
        const at::Tensor num = kernel(yf);
        // (P - Q) * num with Q = num / sum(num), in one temporary.
        const at::Tensor pq = num.mul(-1.0 / num.sum().item<double>()).add_(early ? p_early : p32).mul_(num);
        const at::Tensor grad = (pq.sum(1, true) * yf - pq.mm(yf)).to(at::kDouble).mul_(4);
        // Gains grow where the gradient turned against the step and shrink where it agrees.
        gains = at::where((grad > 0) == (update > 0), gains * 0.8, gains + 0.2).clamp_min_(0.01);
        update = update * (early ? 0.5 : 0.8) - lr * gains * grad;
        y = y + update;
        y = y - y.mean(0, true);
        if ((it + 1) % 25 == 0 || it + 1 == o.iterations) {
            throw_if_cancelled(feedback, "t-SNE");
            if (feedback) feedback->progress(it + 1, o.iterations, "t-SNE");
        }
    }

    Projection out;
    out.rows = n;
    out.perplexity = perplexity;
    out.xy = to_points(y);
    const at::Tensor num = kernel(y);
    const at::Tensor q = (num / num.sum()).clamp_min_(1e-12);
    const at::Tensor off = p > 1e-12;
    out.kl_divergence = (p * (p / q).log()).masked_select(off).sum().item<double>();
    return out;
}

} // namespace gafx::experiments
