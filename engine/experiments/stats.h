#pragma once
// Small-sample statistics for comparing runs: t intervals over seeds, paired tests between two
// configurations on the same seeds/tracks, and per-class metrics from a confusion matrix.
// Pure standard C++ so the CLI, the GUI and the tests share one implementation. Nothing here
// throws on small or degenerate samples: what cannot be computed comes back as NaN.
#include <cstdint>
#include <vector>

namespace gafx::experiments::stats {

// NaN inputs are skipped and not counted. sd is the sample std (n - 1); sd and the 95% two-sided
// Student t interval of the mean are NaN when n < 2; everything but n is NaN when n = 0.
struct Summary {
    int n = 0;
    double mean, sd, ci_low, ci_high;
};
Summary summarise(const std::vector<double>& xs);

// Student's t with `dof` > 0 (need not be an integer); NaN for dof <= 0 or NaN arguments.
// t_quantile(0) = -inf, t_quantile(1) = +inf.
double t_cdf(double t, double dof);
double t_quantile(double p, double dof);

// a[i] and b[i] are one pair (same seed, same track); pairs where either is NaN are dropped, and n
// counts the rest. All three p-values are two-sided. The sign and Wilcoxon tests drop zero
// differences and are NaN when none is left; t and p_t are NaN when n < 2 or all differences are
// equal. Wilcoxon is exact (average ranks for ties) up to 25 nonzero differences, then the normal
// approximation with tie and continuity corrections. Throws std::invalid_argument when
// a.size() != b.size(), which is a caller's bug rather than a small sample.
struct PairedTest {
    int n = 0;
    double mean_diff, t, p_t, p_sign, p_wilcoxon;
};
PairedTest paired_test(const std::vector<double>& a, const std::vector<double>& b);

// confusion[true][predicted], square. Macro F1 averages over classes that occur as a true or a
// predicted label (NaN if none); per-class accuracy is recall, NaN for a class with no examples.
// Both throw std::invalid_argument when the matrix is not square.
double macro_f1(const std::vector<std::vector<int64_t>>& confusion);
std::vector<double> per_class_accuracy(const std::vector<std::vector<int64_t>>& confusion);

} // namespace gafx::experiments::stats
