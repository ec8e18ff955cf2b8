// Activation checkpointing (models/recompute, blocked attention): GAFX-U and GAFX-R give the same
// outputs, losses, gradients and BatchNorm statistics with it as without, in fp32 and under bf16
// autocast, GAFX-A the same within float rounding, and a short training run (the trainer's own
// step: autocast forward, backward outside it, Adam; AST's attention blocked) follows the same
// loss curve.
#include "models/gafx_r.h"
#include "models/gafx_u.h"
#include "models/recompute.h"
#include "models/registry.h"
#include "train/adam.h"
#include "train/precision.h"
#include "train/step.h"
#include "train/train_model.h"

#include <ATen/Parallel.h>
#include <torch/types.h>

#include <QtTest>

#include <memory>
#include <string>

using namespace gafx;

namespace {

using Make = std::function<std::shared_ptr<models::FeatureExtractor>()>;

struct Pass {
    torch::Tensor out;
    std::map<std::string, torch::Tensor> grads, buffers;
};

// One forward in training mode and a backward of a fixed random projection of the output.
// bf16: the forward under CPU autocast, backward outside it, as train_step does.
Pass run_once(const Make& make, bool checkpointing, const torch::Tensor& wave, bool bf16) {
    torch::manual_seed(7);
    auto m = make();
    m->set_activation_checkpointing(checkpointing);
    m->train();
    Pass p;
    {
        train::AutocastScope autocast(torch::kCPU, bf16 ? train::Precision::Bf16 : train::Precision::Fp32);
        p.out = m->forward(wave).to(torch::kFloat);
    }
    torch::manual_seed(11);
    const auto weights = torch::randn(p.out.sizes());
    (p.out * weights).sum().backward();
    p.out = p.out.detach();
    for (const auto& kv : m->named_parameters(true))
        if (kv.value().grad().defined()) p.grads[kv.key()] = kv.value().grad().clone();
    for (const auto& kv : m->named_buffers(true)) p.buffers[kv.key()] = kv.value().clone();
    return p;
}

double rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
    const double scale = std::max(a.abs().max().item<double>(), 1e-12);
    return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>() / scale;
}

// Same math in the same order: the tolerance only allows for the gradient of a parameter used
// in two places being summed in another order.
constexpr double kTolerance = 1e-5;

void expect_same(const Pass& plain, const Pass& kept) {
    QVERIFY(plain.out.equal(kept.out)); // the first forward is the same code
    QCOMPARE(kept.grads.size(), plain.grads.size());
    QVERIFY(!plain.grads.empty());
    for (const auto& [name, g] : plain.grads) {
        QVERIFY2(kept.grads.count(name), name.c_str());
        const double d = rel_diff(g, kept.grads.at(name));
        QVERIFY2(d <= kTolerance, (name + ": relative difference " + std::to_string(d)).c_str());
    }
    QCOMPARE(kept.buffers.size(), plain.buffers.size());
    for (const auto& [name, b] : plain.buffers)
        QVERIFY2(b.equal(kept.buffers.at(name)), (name + " differs: updated twice?").c_str());
}

Make small_u() { return [] { return std::make_shared<models::GafxU>(models::gafx_u_small()); }; }
Make small_r() { return [] { return std::make_shared<models::GafxR>(models::GafxRConfig::small()); }; }

} // namespace

class TestRecompute : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { at::set_num_threads(1); } // suites run side by side under ctest

    void gafxUGivesTheSameGradients() {
        const auto wave = torch::randn({2, 2, 8000}) * 0.1;
        expect_same(run_once(small_u(), false, wave, false), run_once(small_u(), true, wave, false));
    }

    void gafxRGivesTheSameGradientsAndBatchNormStatistics() {
        const auto wave = torch::randn({2, 1, 3000}) * 0.1;
        const auto plain = run_once(small_r(), false, wave, false);
        expect_same(plain, run_once(small_r(), true, wave, false));
        QCOMPARE(plain.buffers.at("bn1.num_batches_tracked").item<int64_t>(), int64_t(1));
    }

    // Backward runs outside the autocast scope; the recomputed forward must run in bf16 as the
    // first did, or its gradients are those of an fp32 forward.
    void recomputeRunsUnderTheForwardsAutocast() {
        const auto wave = torch::randn({2, 1, 3000}) * 0.1;
        const auto plain = run_once(small_r(), false, wave, true);
        expect_same(plain, run_once(small_r(), true, wave, true));
        const auto fp32 = run_once(small_r(), false, wave, false);
        QVERIFY(rel_diff(plain.grads.at("conv1.weight"), fp32.grads.at("conv1.weight")) > 100 * kTolerance);
    }

    // GAFX-A: its CNN recomputes as GAFX-R, its attention runs blocked (no probabilities kept).
    void gafxAGivesTheSameGradients() {
        const auto wave = torch::randn({2, 1, 3000}) * 0.1;
        auto make = [] { return models::make_extractor("gafx-a", models::Preset::Small); };
        const auto plain = run_once(make, false, wave, false), kept = run_once(make, true, wave, false);
        QVERIFY(rel_diff(plain.out, kept.out) <= kTolerance); // the blocked attention sums in another order
        for (const auto& [name, g] : plain.grads) {
            const double d = rel_diff(g, kept.grads.at(name));
            QVERIFY2(d <= 1e-4, (name + ": relative difference " + std::to_string(d)).c_str());
        }
    }

    void withoutGradientsItIsAPlainForward() {
        const auto wave = torch::randn({1, 1, 2000}) * 0.1;
        models::GafxR m(models::GafxRConfig::small());
        m.eval();
        torch::NoGradGuard no_grad;
        const auto plain = m.forward(wave);
        m.set_activation_checkpointing(true);
        QVERIFY(plain.equal(m.forward(wave)));
    }

    // A segment whose inputs need no gradient still gives its parameters theirs (the first
    // layer reads the waveform), and an input that needs one gets it.
    void parametersAndInputsBothGetGradients() {
        torch::nn::Linear lin(3, 2);
        const auto x = torch::randn({4, 3});
        const auto y = models::recompute(*lin, x, [lin](const torch::Tensor& in) mutable { return lin->forward(in); });
        y.sum().backward();
        QVERIFY(lin->weight.grad().defined());
        QVERIFY(lin->weight.grad().allclose(torch::ones({2, 1}) * x.sum(0, true)));

        lin->zero_grad();
        const auto xg = x.clone().requires_grad_(true);
        models::recompute(*lin, xg, [lin](const torch::Tensor& in) mutable { return lin->forward(in); }).sum().backward();
        QVERIFY(xg.grad().defined());
        QVERIFY(xg.grad().allclose(lin->weight.sum(0, true).expand({4, 3})));
    }

    // The trainer's step, several times, with Adam: the losses agree step for step.
    void aShortTrainingRunFollowsTheSameLosses() {
        for (const std::string name : {"gafx-u", "gafx-r"}) {
            std::vector<double> losses[2];
            for (int kept = 0; kept < 2; ++kept) {
                torch::manual_seed(3);
                auto extractor = models::make_extractor(name, models::Preset::Small);
                extractor->set_activation_checkpointing(kept == 1);
                const int64_t samples = extractor->sample_rate() / 4;
                const int64_t frames = extractor->output_frames(samples);
                auto classifier = models::make_classifier("ast-tiny", frames, 4, models::Preset::Small);
                models::set_attention_recompute(*classifier, kept == 1);
                train::TrainModel model(extractor, classifier);
                model->train();
                std::vector<std::pair<std::string, torch::Tensor>> params;
                for (const auto& p : model->named_parameters(true)) params.emplace_back(p.key(), p.value());
                train::Adam adam(params);
                torch::manual_seed(5);
                const auto wave = torch::randn({2, extractor->input_channels(), samples}) * 0.1;
                const auto targets = torch::tensor({1, 3}, torch::kInt64);
                const train::Forward forward = [model](const torch::Tensor& x) mutable { return model->forward(x); };
                for (int step = 0; step < 3; ++step) {
                    train::StepSettings s;
                    s.lr = 1e-3;
                    s.step = step;
                    losses[kept].push_back(train::train_step(forward, adam, wave, targets, s).loss);
                }
            }
            for (size_t i = 0; i < losses[0].size(); ++i)
                QVERIFY2(std::abs(losses[0][i] - losses[1][i]) <= 1e-5 * std::abs(losses[0][i]),
                         (name + " step " + std::to_string(i) + ": " + std::to_string(losses[0][i]) + " vs " +
                          std::to_string(losses[1][i]))
                             .c_str());
            QVERIFY(losses[0].front() != losses[0].back()); // the steps did train
        }
    }
};

QTEST_GUILESS_MAIN(TestRecompute)
#include "test_recompute.moc"
