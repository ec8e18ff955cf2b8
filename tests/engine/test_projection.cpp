// PCA and t-SNE of experiments/projection.h on point clouds whose answer is known: PCA finds the
// axes of an anisotropic Gaussian in order, centred and with a fixed sign; t-SNE keeps three
// far-apart clusters apart, repeats itself for the same input and seed, stops when cancelled.
#include "core/rng.h"
#include "experiments/projection.h"
#include "test_support.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>

using namespace gafx;
using experiments::Projection;

namespace {

// `n` points of mean (10, -3, 7) with std 5, 2 and 0.5 along u0 = (0.8, 0.6, 0),
// u1 = (-0.6, 0.8, 0) and u2 = (0, 0, 1), times `sign`.
std::vector<float> ellipsoid(int n, double sign) {
    Rng rng(7);
    std::vector<float> m;
    for (int i = 0; i < n; ++i) {
        const double a = 5 * rng.normal(), b = 2 * rng.normal(), c = 0.5 * rng.normal();
        m.push_back(float(sign * (10 + 0.8 * a - 0.6 * b)));
        m.push_back(float(sign * (-3 + 0.6 * a + 0.8 * b)));
        m.push_back(float(sign * (7 + c)));
    }
    return m;
}

// Three clusters of `per` points in 10-D, centres 10 apart on different axes, noise std 1.
std::vector<float> clusters(int per, std::vector<int>& label) {
    Rng rng(11);
    std::vector<float> m;
    for (int k = 0; k < 3; ++k)
        for (int i = 0; i < per; ++i) {
            for (int d = 0; d < 10; ++d) m.push_back(float((d == k ? 10.0 : 0.0) + rng.normal()));
            label.push_back(k);
        }
    return m;
}

// The axis a PCA coordinate was projected on: X_centredᵀ y / |y|² (y = X_centred a, a a unit
// eigenvector).
std::vector<double> axis_of(const std::vector<float>& m, const Projection& p, int j) {
    const int64_t n = p.rows;
    double mean[3] = {0, 0, 0}, yy = 0;
    for (int64_t i = 0; i < n; ++i)
        for (int d = 0; d < 3; ++d) mean[d] += m[size_t(i * 3 + d)] / double(n);
    std::vector<double> a(3, 0.0);
    for (int64_t i = 0; i < n; ++i) {
        const double y = p.xy[size_t(2 * i + j)];
        yy += y * y;
        for (int d = 0; d < 3; ++d) a[size_t(d)] += (m[size_t(i * 3 + d)] - mean[d]) * y;
    }
    for (double& v : a) v /= yy;
    return a;
}

QString error_kind(const std::function<void()>& f) {
    try {
        f();
    } catch (const Cancelled&) {
        return QStringLiteral("cancelled");
    } catch (const Error& e) {
        return QStringLiteral("error: ") + QString::fromStdString(e.what());
    }
    return {};
}

} // namespace

class TestProjection : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void pcaFindsTheAxesInOrderCentredWithAFixedSign() {
        for (double sign : {1.0, -1.0}) {
            const std::vector<float> m = ellipsoid(2000, sign);
            const Projection p = experiments::pca_2d(m, 2000, 3);
            QCOMPARE(p.rows, int64_t(2000));
            QCOMPARE(p.xy.size(), size_t(4000));
            QCOMPARE(p.explained.size(), size_t(2));
            // Variances 25, 4 and 0.25 of 29.25.
            QVERIFY2(std::abs(p.explained[0] - 25 / 29.25) < 0.02, qPrintable(QString::number(p.explained[0])));
            QVERIFY2(std::abs(p.explained[1] - 4 / 29.25) < 0.02, qPrintable(QString::number(p.explained[1])));
            double mx = 0, my = 0;
            for (int i = 0; i < 2000; ++i) mx += p.xy[size_t(2 * i)] / 2000.0, my += p.xy[size_t(2 * i + 1)] / 2000.0;
            QVERIFY(std::abs(mx) < 1e-3 && std::abs(my) < 1e-3);
            // Whichever sign the data has, each axis's largest loading is positive.
            const std::vector<double> a0 = axis_of(m, p, 0), a1 = axis_of(m, p, 1);
            QVERIFY2(std::abs(a0[0] - 0.8) < 0.02 && std::abs(a0[1] - 0.6) < 0.02 && std::abs(a0[2]) < 0.02,
                     qPrintable(QStringLiteral("%1 %2 %3").arg(a0[0]).arg(a0[1]).arg(a0[2])));
            QVERIFY2(std::abs(a1[0] + 0.6) < 0.02 && std::abs(a1[1] - 0.8) < 0.02 && std::abs(a1[2]) < 0.02,
                     qPrintable(QStringLiteral("%1 %2 %3").arg(a1[0]).arg(a1[1]).arg(a1[2])));
        }
    }

    void pcaOfOneColumnHasAZeroSecondAxis() {
        const Projection p = experiments::pca_2d({1, 2, 3, 6}, 4, 1);
        const std::vector<float> want{-2, 0, -1, 0, 0, 0, 3, 0};
        QCOMPARE(p.xy.size(), want.size());
        for (size_t i = 0; i < want.size(); ++i) QVERIFY(std::abs(p.xy[i] - want[i]) < 1e-5f);
        QVERIFY(std::abs(p.explained[0] - 1) < 1e-12 && p.explained[1] == 0);
    }

    void tsneKeepsSeparatedClustersApart() {
        std::vector<int> label;
        const std::vector<float> m = clusters(30, label);
        const Projection p = experiments::tsne_2d(m, 90, 10);
        QCOMPARE(p.xy.size(), size_t(180));
        QCOMPARE(p.perplexity, 29.0 + 2.0 / 3.0); // 30 clamped to (90 - 1) / 3
        QVERIFY(std::isfinite(p.kl_divergence) && p.kl_divergence >= 0);
        // Every point's 5 nearest neighbours in the layout are of its own cluster.
        for (int i = 0; i < 90; ++i) {
            std::vector<std::pair<double, int>> d;
            for (int j = 0; j < 90; ++j)
                if (j != i)
                    d.push_back({std::hypot(p.xy[size_t(2 * i)] - p.xy[size_t(2 * j)],
                                            p.xy[size_t(2 * i + 1)] - p.xy[size_t(2 * j + 1)]),
                                 j});
            std::partial_sort(d.begin(), d.begin() + 5, d.end());
            for (int k = 0; k < 5; ++k)
                QVERIFY2(label[size_t(d[size_t(k)].second)] == label[size_t(i)],
                         qPrintable(QStringLiteral("point %1's neighbour %2").arg(i).arg(d[size_t(k)].second)));
        }
    }

    void tsneRepeatsItselfForASeed() {
        std::vector<int> label;
        const std::vector<float> m = clusters(12, label);
        experiments::TsneOptions o;
        o.iterations = 300;
        QCOMPARE(experiments::tsne_2d(m, 36, 10, o).xy, experiments::tsne_2d(m, 36, 10, o).xy);
        o.init = experiments::TsneInit::Random;
        o.seed = 5;
        const std::vector<float> a = experiments::tsne_2d(m, 36, 10, o).xy;
        QCOMPARE(experiments::tsne_2d(m, 36, 10, o).xy, a);
        o.seed = 6;
        QVERIFY(experiments::tsne_2d(m, 36, 10, o).xy != a);
    }

    void tsneStopsWhenCancelled() {
        std::vector<int> label;
        const std::vector<float> m = clusters(10, label);
        std::vector<int64_t> seen;
        Feedback fb([&](int64_t done, int64_t total, const std::string&) {
            seen.push_back(done);
            QCOMPARE(total, int64_t(1000));
        });
        Feedback* self = &fb;
        Feedback stopper([&](int64_t done, int64_t, const std::string&) {
            seen.push_back(done);
            if (done >= 50) self->cancel();
        });
        QCOMPARE(error_kind([&] { experiments::tsne_2d(m, 30, 10, {}, &fb); }), QString());
        QCOMPARE(seen.size(), size_t(40)); // every 25 of 1000 iterations
        QCOMPARE(seen.back(), int64_t(1000));
        seen.clear();
        self = &stopper;
        QCOMPARE(error_kind([&] { experiments::tsne_2d(m, 30, 10, {}, &stopper); }), QStringLiteral("cancelled"));
        QCOMPARE(seen, (std::vector<int64_t>{25, 50})); // checked at the next report, then stopped
        Feedback early;
        early.cancel();
        QCOMPARE(error_kind([&] { experiments::tsne_2d(m, 30, 10, {}, &early); }), QStringLiteral("cancelled"));
    }

    void badInputIsAnError() {
        const float nan = std::numeric_limits<float>::quiet_NaN();
        const auto pca = [](std::vector<float> m, int64_t r, int64_t c) {
            return error_kind([&] { experiments::pca_2d(m, r, c); });
        };
        const auto tsne = [](std::vector<float> m, int64_t r, int64_t c, experiments::TsneOptions o = {}) {
            return error_kind([&] { experiments::tsne_2d(m, r, c, o); });
        };
        QVERIFY(pca({1, 2}, 1, 2).contains(QStringLiteral("at least 2 points")));
        QVERIFY(tsne({1, 2}, 1, 2).contains(QStringLiteral("at least 2 points")));
        QVERIFY(tsne({}, 0, 3).contains(QStringLiteral("at least 2 points")));
        QVERIFY(pca({}, 3, 0).contains(QStringLiteral("dimension 0")));
        QVERIFY(tsne({}, 3, 0).contains(QStringLiteral("dimension 0")));
        QVERIFY(pca({1, 2, 3}, 2, 2).contains(QStringLiteral("3 values are not 2 x 2")));
        QVERIFY(pca({1, 2, 3, nan}, 2, 2).contains(QStringLiteral("row 1 holds NaN")));
        QVERIFY(tsne({1, 2, 3, 4, nan, 6}, 3, 2).contains(QStringLiteral("row 2 holds NaN")));
        QVERIFY(tsne({1, 2, 3, std::numeric_limits<float>::infinity()}, 2, 2).startsWith(QStringLiteral("error")));
        experiments::TsneOptions o;
        o.perplexity = 0;
        QVERIFY(tsne({1, 2, 3, 4}, 2, 2, o).contains(QStringLiteral("perplexity")));
        o = {};
        o.iterations = 0;
        QVERIFY(tsne({1, 2, 3, 4}, 2, 2, o).startsWith(QStringLiteral("error")));
    }

    void tinyAndDegenerateInputsGiveFinitePoints() {
        // Two points (perplexity clamped to 1), and identical points (no spread to start from).
        for (const auto& m : {std::vector<float>{0, 0, 1, 1}, std::vector<float>{3, 3, 3, 3, 3, 3}}) {
            const int64_t n = int64_t(m.size()) / 2;
            const Projection p = experiments::tsne_2d(m, n, 2);
            QCOMPARE(p.perplexity, 1.0);
            for (float v : p.xy) QVERIFY(std::isfinite(v));
            for (float v : experiments::pca_2d(m, n, 2).xy) QVERIFY(std::isfinite(v));
        }
    }
};

QTEST_GUILESS_MAIN(TestProjection)
#include "test_projection.moc"
