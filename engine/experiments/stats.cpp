#include "experiments/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace gafx::experiments::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kEps = std::numeric_limits<double>::epsilon();

// Continued fraction of the incomplete beta (modified Lentz); converges fast for x < (a+1)/(a+b+2).
// The iteration cap grows with a and b because the number of terms needed grows like sqrt(max(a, b)).
double beta_cf(double a, double b, double x) {
    constexpr double tiny = 1e-300;
    const int max_iter = 1000 + static_cast<int>(10 * std::sqrt(std::max(a, b)));
    double c = 1.0;
    double d = 1.0 - (a + b) * x / (a + 1.0);
    if (std::fabs(d) < tiny)
        d = tiny;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= max_iter; ++m) {
        const double m2 = 2.0 * m;
        const double even = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        d = 1.0 + even * d;
        c = 1.0 + even / c;
        if (std::fabs(d) < tiny)
            d = tiny;
        if (std::fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        h *= d * c;
        const double odd = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
        d = 1.0 + odd * d;
        c = 1.0 + odd / c;
        if (std::fabs(d) < tiny)
            d = tiny;
        if (std::fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        const double step = d * c;
        h *= step;
        if (std::fabs(step - 1.0) < 4 * kEps)
            break;
    }
    return h;
}

// Regularized incomplete beta I_x(a, b).
double beta_inc(double a, double b, double x) {
    if (x <= 0.0)
        return 0.0;
    if (x >= 1.0)
        return 1.0;
    const double log_front =
        std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
    // Evaluate whichever side the continued fraction converges on; the symmetry gives the other.
    if (x < (a + 1.0) / (a + b + 2.0))
        return std::exp(log_front) * beta_cf(a, b, x) / a;
    return 1.0 - std::exp(log_front) * beta_cf(b, a, 1.0 - x) / b;
}

// P(T > t) for t >= 0, computed directly so small tails keep their relative precision.
double t_upper(double t, double dof) {
    if (std::isinf(t))
        return 0.0;
    // dof / (dof + t^2), rearranged so that huge t does not overflow t * t.
    const double r = t / std::sqrt(dof);
    const double x = 1.0 / (1.0 + r * r);
    return 0.5 * beta_inc(0.5 * dof, 0.5, x);
}

double mean_of(const std::vector<double>& v) {
    double s = 0.0;
    for (double x : v)
        s += x;
    return s / static_cast<double>(v.size());
}

// Two passes rather than sum-of-squares: seeds' accuracies agree to many digits and the one-pass
// formula would cancel them away.
double sample_sd(const std::vector<double>& v, double mean) {
    double ss = 0.0;
    for (double x : v)
        ss += (x - mean) * (x - mean);
    return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

double normal_upper(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

void check_square(const std::vector<std::vector<int64_t>>& confusion) {
    for (const auto& row : confusion)
        if (row.size() != confusion.size())
            throw std::invalid_argument("stats: confusion matrix is not square");
}

} // namespace

double t_cdf(double t, double dof) {
    if (std::isnan(t) || std::isnan(dof) || dof <= 0.0)
        return kNaN;
    return t >= 0.0 ? 1.0 - t_upper(t, dof) : t_upper(-t, dof);
}

double t_quantile(double p, double dof) {
    if (std::isnan(p) || std::isnan(dof) || dof <= 0.0 || p < 0.0 || p > 1.0)
        return kNaN;
    if (p == 0.0)
        return -kInf;
    if (p == 1.0)
        return kInf;
    if (p < 0.5)
        return -t_quantile(1.0 - p, dof);
    if (p == 0.5)
        return 0.0;
    // Bisection on the upper tail: slow-ish but cannot diverge, and the tail is monotone in t.
    const double q = 1.0 - p;
    double lo = 0.0, hi = 1.0;
    while (t_upper(hi, dof) > q) {
        lo = hi;
        hi *= 2.0;
        if (std::isinf(hi))
            return kInf;
    }
    for (int i = 0; i < 2000 && hi - lo > 2 * kEps * hi; ++i) {
        const double mid = 0.5 * (lo + hi);
        (t_upper(mid, dof) > q ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
}

Summary summarise(const std::vector<double>& xs) {
    std::vector<double> v;
    for (double x : xs)
        if (!std::isnan(x))
            v.push_back(x);
    Summary s;
    s.n = static_cast<int>(v.size());
    s.mean = v.empty() ? kNaN : mean_of(v);
    s.sd = s.ci_low = s.ci_high = kNaN;
    if (s.n >= 2) {
        s.sd = sample_sd(v, s.mean);
        const double half = t_quantile(0.975, s.n - 1) * s.sd / std::sqrt(static_cast<double>(s.n));
        s.ci_low = s.mean - half;
        s.ci_high = s.mean + half;
    }
    return s;
}

PairedTest paired_test(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size())
        throw std::invalid_argument("stats: paired_test needs samples of equal length");
    std::vector<double> d;
    double scale = 0.0;
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::isnan(a[i]) || std::isnan(b[i]))
            continue;
        d.push_back(a[i] - b[i]);
        scale = std::max({scale, std::fabs(a[i]), std::fabs(b[i])});
    }
    PairedTest r;
    r.n = static_cast<int>(d.size());
    r.mean_diff = d.empty() ? kNaN : mean_of(d);
    r.t = r.p_t = r.p_sign = r.p_wilcoxon = kNaN;
    if (r.n >= 2) {
        const double sd = sample_sd(d, r.mean_diff);
        if (sd > 0.0) {
            r.t = r.mean_diff / (sd / std::sqrt(static_cast<double>(r.n)));
            r.p_t = std::min(1.0, 2.0 * t_upper(std::fabs(r.t), r.n - 1.0));
        }
    }

    // Differences of accuracies that are equal on paper (0.85 - 0.80 vs 0.90 - 0.85) differ in the
    // last bits; below this tolerance they count as zero / as tied, as they would in exact arithmetic.
    const double tol = 1e-12 * scale;
    std::vector<double> mag; // |d| of the nonzero differences, sorted
    std::vector<bool> positive;
    {
        std::vector<std::pair<double, bool>> nz;
        for (double x : d)
            if (std::fabs(x) > tol)
                nz.emplace_back(std::fabs(x), x > 0.0);
        std::sort(nz.begin(), nz.end());
        for (const auto& [m, pos] : nz) {
            mag.push_back(m);
            positive.push_back(pos);
        }
    }
    const int m = static_cast<int>(mag.size());
    if (m == 0)
        return r;

    // Sign test: k positives out of m ~ Binomial(m, 1/2); P(X <= k) = I_{1/2}(m - k, k + 1).
    int k = 0;
    for (bool pos : positive)
        k += pos;
    const int kmin = std::min(k, m - k);
    r.p_sign = std::min(1.0, 2.0 * beta_inc(m - kmin, kmin + 1.0, 0.5));

    // Doubled average ranks are integers (first + last position of a tie group), so exact sums work.
    std::vector<int> rank2(m);
    double tie_term = 0.0; // sum of t^3 - t over tie groups
    for (int i = 0; i < m;) {
        int j = i;
        while (j + 1 < m && mag[j + 1] - mag[i] <= tol)
            ++j;
        for (int x = i; x <= j; ++x)
            rank2[x] = (i + 1) + (j + 1);
        const double t = j - i + 1;
        tie_term += t * t * t - t;
        i = j + 1;
    }
    int w2 = 0; // doubled W+
    for (int i = 0; i < m; ++i)
        if (positive[i])
            w2 += rank2[i];
    const int total2 = m * (m + 1);

    if (m <= 25) {
        // Number of sign patterns giving each doubled W+; the same as enumerating all 2^m patterns.
        std::vector<double> count(total2 + 1, 0.0);
        count[0] = 1.0;
        int reach = 0;
        for (int i = 0; i < m; ++i) {
            reach += rank2[i];
            for (int s = reach; s >= rank2[i]; --s)
                count[s] += count[s - rank2[i]];
        }
        double below = 0.0, above = 0.0;
        for (int s = 0; s <= total2; ++s) {
            if (s <= w2)
                below += count[s];
            if (s >= w2)
                above += count[s];
        }
        const double patterns = std::ldexp(1.0, m);
        r.p_wilcoxon = std::min(1.0, 2.0 * std::min(below, above) / patterns);
    } else {
        const double mm = m;
        const double w = 0.5 * w2;
        const double mean = mm * (mm + 1.0) / 4.0;
        const double var = mm * (mm + 1.0) * (2.0 * mm + 1.0) / 24.0 - tie_term / 48.0;
        const double z = std::max(0.0, std::fabs(w - mean) - 0.5) / std::sqrt(var);
        r.p_wilcoxon = std::min(1.0, 2.0 * normal_upper(z));
    }
    return r;
}

double macro_f1(const std::vector<std::vector<int64_t>>& confusion) {
    check_square(confusion);
    const size_t k = confusion.size();
    double sum = 0.0;
    int classes = 0;
    for (size_t c = 0; c < k; ++c) {
        int64_t support = 0, predicted = 0;
        for (size_t j = 0; j < k; ++j) {
            support += confusion[c][j];
            predicted += confusion[j][c];
        }
        if (support == 0 && predicted == 0)
            continue;
        // 2PR / (P + R) rewritten on counts: defined (0) when the class is never predicted right.
        sum += 2.0 * static_cast<double>(confusion[c][c]) / static_cast<double>(support + predicted);
        ++classes;
    }
    return classes == 0 ? kNaN : sum / classes;
}

std::vector<double> per_class_accuracy(const std::vector<std::vector<int64_t>>& confusion) {
    check_square(confusion);
    std::vector<double> out;
    for (size_t c = 0; c < confusion.size(); ++c) {
        int64_t support = 0;
        for (int64_t x : confusion[c])
            support += x;
        out.push_back(support == 0 ? kNaN : static_cast<double>(confusion[c][c]) / static_cast<double>(support));
    }
    return out;
}

} // namespace gafx::experiments::stats
