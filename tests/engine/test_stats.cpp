// experiments/stats: t distribution, t intervals, paired tests, macro F1. Reference values come from
// mpmath at 40 digits (t CDF through its regularized incomplete beta) and from brute-force enumeration
// of all 2^n sign patterns with exact fractions in Python; textbook t-table values agree with them.
// Plain main() because the shared test support is Qt-based and this module is not.
#include "experiments/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <vector>

using namespace gafx::experiments::stats;

namespace {

int failures = 0;

void fail(int line, const char* what) {
    std::printf("test_stats.cpp:%d: FAILED: %s\n", line, what);
    ++failures;
}

// Relative tolerance, with an absolute floor for values near zero.
bool close_to(double got, double want, double rel) {
    return std::fabs(got - want) <= rel * std::max(1.0, std::fabs(want));
}

#define CHECK(cond)                                                                                                   \
    do {                                                                                                              \
        if (!(cond))                                                                                                  \
            fail(__LINE__, #cond);                                                                                    \
    } while (0)
#define CHECK_NEAR(got, want, rel)                                                                                    \
    do {                                                                                                              \
        const double g_ = (got), w_ = (want);                                                                         \
        if (!close_to(g_, w_, rel)) {                                                                                 \
            std::printf("    got %.17g, want %.17g\n", g_, w_);                                                       \
            fail(__LINE__, #got " ~ " #want);                                                                         \
        }                                                                                                             \
    } while (0)
#define CHECK_NAN(x) CHECK(std::isnan(x))

const double kNaN = std::numeric_limits<double>::quiet_NaN();

void t_distribution() {
    // The t-table values the brief names, to more digits than tables print.
    CHECK_NEAR(t_quantile(0.975, 1), 12.706204736174693, 1e-9);
    CHECK_NEAR(t_quantile(0.975, 2), 4.3026527297494618, 1e-9);
    CHECK_NEAR(t_quantile(0.975, 4), 2.7764451051977935, 1e-9);
    CHECK_NEAR(t_quantile(0.975, 9), 2.262157162798205, 1e-9);
    CHECK_NEAR(t_quantile(0.975, 29), 2.0452296421327039, 1e-9);
    CHECK_NEAR(t_quantile(0.975, 100), 1.9839715185235519, 1e-9);
    CHECK_NEAR(t_quantile(0.975, 1000), 1.9623390808264081, 1e-9);
    CHECK_NEAR(t_quantile(0.995, 3), 5.8409093097333554, 1e-9);
    CHECK_NEAR(t_quantile(0.9, 2.5), 1.7302509288071768, 1e-9);
    CHECK_NEAR(t_quantile(0.025, 7), -2.3646242515927853, 1e-9);
    CHECK_NEAR(t_quantile(1e-6, 5), -24.771029720515944, 1e-9);

    CHECK_NEAR(t_cdf(-2, 3), 0.069662984279421588, 1e-12);
    CHECK_NEAR(t_cdf(1.5, 10), 0.91774633677727991, 1e-12);
    CHECK_NEAR(t_cdf(0.3, 1), 0.59277357907774234, 1e-12);
    CHECK_NEAR(t_cdf(4.0, 50), 0.99989540487681798, 1e-12);

    // Every dof a summary over seeds can have: the quantile inverts the CDF.
    for (int dof = 1; dof <= 1000; ++dof) {
        const double t = t_quantile(0.975, dof);
        if (!close_to(t_cdf(t, dof), 0.975, 1e-12)) {
            std::printf("    dof %d: t %.17g\n", dof, t);
            fail(__LINE__, "t_cdf(t_quantile(0.975, dof), dof) ~ 0.975");
        }
    }

    CHECK(t_quantile(0.5, 3) == 0.0);
    CHECK(std::isinf(t_quantile(0.0, 3)) && t_quantile(0.0, 3) < 0);
    CHECK(std::isinf(t_quantile(1.0, 3)) && t_quantile(1.0, 3) > 0);
    CHECK_NAN(t_quantile(0.975, 0));
    CHECK_NAN(t_quantile(1.5, 3));
    CHECK_NAN(t_cdf(kNaN, 3));
    CHECK(t_cdf(std::numeric_limits<double>::infinity(), 2) == 1.0);
}

void summaries() {
    const Summary s = summarise({1, 2, 3, 4, 5});
    CHECK(s.n == 5);
    CHECK_NEAR(s.mean, 3.0, 1e-15);
    CHECK_NEAR(s.sd, 1.5811388300841897, 1e-12); // with n instead of n - 1 it would be 1.4142135623730951
    CHECK_NEAR(s.ci_low, 1.0367568385224429, 1e-9);
    CHECK_NEAR(s.ci_high, 4.9632431614775571, 1e-9);

    // NaNs are skipped and not counted: this is the two-value sample {2, 4}.
    const Summary two = summarise({kNaN, 2, kNaN, 4});
    CHECK(two.n == 2);
    CHECK_NEAR(two.sd, 1.414213562373095, 1e-12); // the population std would be 1
    CHECK_NEAR(two.ci_low, -9.7062047361746933, 1e-9);
    CHECK_NEAR(two.ci_high, 15.706204736174693, 1e-9);

    // Seed accuracies that agree to two digits: the two-pass std keeps them.
    const Summary acc = summarise({0.71, 0.74, 0.69, 0.75, 0.72, 0.70});
    CHECK_NEAR(acc.mean, 0.71833333333333331, 1e-12);
    CHECK_NEAR(acc.sd, 0.023166067138525426, 1e-10);
    CHECK_NEAR(acc.ci_low, 0.69402203684194154, 1e-9);
    CHECK_NEAR(acc.ci_high, 0.74264462982472507, 1e-9);

    const Summary one = summarise({kNaN, 7});
    CHECK(one.n == 1);
    CHECK(one.mean == 7);
    CHECK_NAN(one.sd);
    CHECK_NAN(one.ci_low);
    CHECK_NAN(one.ci_high);

    const Summary none = summarise({kNaN});
    CHECK(none.n == 0);
    CHECK_NAN(none.mean);
    CHECK_NAN(none.sd);
}

void paired_tests() {
    // Five of five positive: sign and Wilcoxon are both 2 / 2^5.
    const PairedTest all = paired_test({3, 4, 5, 6, 7}, {1, 1, 1, 1, 1});
    CHECK(all.n == 5);
    CHECK_NEAR(all.mean_diff, 4.0, 1e-15);
    CHECK_NEAR(all.t, 5.6568542494923802, 1e-12);
    CHECK_NEAR(all.p_t, 0.0048126783300442249, 1e-9);
    CHECK_NEAR(all.p_sign, 0.0625, 1e-14);
    CHECK_NEAR(all.p_wilcoxon, 0.0625, 1e-14);

    // d = 1 2 0 3 -1 3 -2 3 2 1: a zero and three tie groups; exact p = 5/64 by enumeration.
    const PairedTest ties = paired_test({10, 12, 9, 14, 11, 13, 8, 15, 10, 12}, {9, 10, 9, 11, 12, 10, 10, 12, 8, 11});
    CHECK(ties.n == 10); // the zero counts for the t test
    CHECK_NEAR(ties.mean_diff, 1.2, 1e-14);
    CHECK_NEAR(ties.t, 2.1669453555438456, 1e-12);
    CHECK_NEAR(ties.p_t, 0.058403293324762191, 1e-9);
    CHECK_NEAR(ties.p_sign, 23.0 / 128, 1e-14);
    CHECK_NEAR(ties.p_wilcoxon, 5.0 / 64, 1e-14);

    // Half-integer average ranks (ties among 0.5s and 1s); exact p = 1/16.
    const PairedTest halves =
        paired_test({0.5, 1.5, 2.0, 3.25, 1.0, 0.75, 2.5, 4.0}, {1.0, 0.5, 1.0, 2.25, 1.0, 1.25, 1.0, 1.5});
    CHECK_NEAR(halves.t, 2.0493901531919197, 1e-12);
    CHECK_NEAR(halves.p_t, 0.079602012455197652, 1e-9);
    CHECK_NEAR(halves.p_sign, 29.0 / 64, 1e-14);
    CHECK_NEAR(halves.p_wilcoxon, 1.0 / 16, 1e-14);

    // 15 nonzero differences with ties: still exact, p = 2851/16384.
    std::vector<double> a, b;
    for (int i = 0; i < 17; ++i) {
        a.push_back((i * 7) % 11);
        b.push_back((i * 3) % 8);
    }
    const PairedTest mid = paired_test(a, b);
    CHECK_NEAR(mid.p_t, 0.1278948108700354, 1e-9);
    CHECK_NEAR(mid.p_sign, 309.0 / 1024, 1e-14);
    CHECK_NEAR(mid.p_wilcoxon, 2851.0 / 16384, 1e-14);

    // 35 nonzero differences: normal approximation with tie and continuity corrections.
    a.clear();
    b.clear();
    for (int i = 0; i < 40; ++i) {
        a.push_back(i % 7 + i % 3);
        b.push_back((i * 5) % 6);
    }
    const PairedTest big = paired_test(a, b);
    CHECK(big.n == 40);
    CHECK_NEAR(big.p_t, 0.0025016452255805585, 1e-9);
    CHECK_NEAR(big.p_sign, 0.01667384780012071, 1e-12);
    CHECK_NEAR(big.p_wilcoxon, 0.0043628754261448868, 1e-12);

    // Equal on paper, not in doubles: 0.65-0.60 and 0.35-0.30 tie (ranks 1.5, 1.5, 3, W+ = 4.5, p = 0.75;
    // ranked by their last bits it would be W+ = 5, p = 0.5), and (0.1+0.2)-0.3 is a zero. The NaN pair
    // is dropped.
    const PairedTest fp = paired_test({0.65, 0.30, 0.2, 0.1 + 0.2, kNaN}, {0.60, 0.35, 0.1, 0.3, 1.0});
    CHECK(fp.n == 4);
    CHECK_NEAR(fp.p_wilcoxon, 0.75, 1e-14);
    CHECK_NEAR(fp.p_sign, 1.0, 1e-14);

    const PairedTest single = paired_test({2}, {1});
    CHECK(single.n == 1);
    CHECK_NAN(single.t);
    CHECK_NAN(single.p_t);
    CHECK_NEAR(single.p_sign, 1.0, 1e-14);
    CHECK_NEAR(single.p_wilcoxon, 1.0, 1e-14);

    const PairedTest same = paired_test({1, 2, 3}, {1, 2, 3});
    CHECK(same.n == 3);
    CHECK(same.mean_diff == 0);
    CHECK_NAN(same.t);
    CHECK_NAN(same.p_sign);
    CHECK_NAN(same.p_wilcoxon);

    const PairedTest empty = paired_test({}, {});
    CHECK(empty.n == 0);
    CHECK_NAN(empty.mean_diff);

    bool threw = false;
    try {
        paired_test({1, 2}, {1});
    } catch (const std::invalid_argument&) {
        threw = true;
    }
    CHECK(threw);
}

void confusion_metrics() {
    // Precision/recall-based F1 per class in exact fractions: mean = 647/924.
    const std::vector<std::vector<int64_t>> c3 = {{5, 2, 1}, {1, 7, 2}, {0, 3, 9}};
    CHECK_NEAR(macro_f1(c3), 647.0 / 924, 1e-14);
    const auto acc3 = per_class_accuracy(c3);
    CHECK(acc3.size() == 3);
    CHECK_NEAR(acc3[0], 0.625, 1e-15);
    CHECK_NEAR(acc3[1], 0.7, 1e-15);
    CHECK_NEAR(acc3[2], 0.75, 1e-15);

    // Class 1 has support but no correct predictions (F1 0); class 2 never occurs (skipped).
    const std::vector<std::vector<int64_t>> c4 = {{4, 1, 0, 0}, {2, 0, 0, 1}, {0, 0, 0, 0}, {0, 1, 0, 3}};
    CHECK_NEAR(macro_f1(c4), 65.0 / 132, 1e-14);
    const auto acc4 = per_class_accuracy(c4);
    CHECK(acc4.size() == 4);
    CHECK_NEAR(acc4[0], 0.8, 1e-15);
    CHECK(acc4[1] == 0.0);
    CHECK_NAN(acc4[2]);
    CHECK_NEAR(acc4[3], 0.75, 1e-15);

    // Predicted but never true: F1 0, still averaged in.
    CHECK_NEAR(macro_f1({{2, 1}, {0, 0}}), (0.8 + 0.0) / 2, 1e-15);

    CHECK_NAN(macro_f1({}));
    CHECK_NAN(macro_f1({{0, 0}, {0, 0}}));
    CHECK(per_class_accuracy({}).empty());

    bool threw = false;
    try {
        macro_f1({{1, 2}, {3}});
    } catch (const std::invalid_argument&) {
        threw = true;
    }
    CHECK(threw);
}

} // namespace

int main() {
    t_distribution();
    summaries();
    paired_tests();
    confusion_metrics();
    if (failures) {
        std::printf("%d check(s) failed\n", failures);
        return 1;
    }
    std::printf("test_stats: all checks passed\n");
    return 0;
}
