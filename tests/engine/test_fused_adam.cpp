// One cast per step: Adam's fused update (train/fused_adam) against the per-tensor update that
// matches torch.optim.Adam, its bf16 working copies (the weight rounded as autocast rounds it,
// refreshed when the weight changes elsewhere), and the training step with working copies
// against autocast's casts for every model: the same first forward bit for bit, the same losses
// within bf16 rounding, and no matmul or convolution weight left reading its fp32 master.
#include "core/parallel.h"
#include "models/registry.h"
#include "models/working_weights.h"
#include "train/adam.h"
#include "train/fused_adam.h"
#include "train/precision.h"
#include "train/step.h"
#include "train/train_model.h"

#include <torch/optim/adam.h>
#include <torch/types.h>

#include <QtTest>

#include <ATen/Parallel.h>

#include <cmath>
#include <limits>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

using namespace gafx;

namespace {

using Named = std::vector<std::pair<std::string, torch::Tensor>>;

// Sizes around the fused pass's chunk (32768) and a tiny one.
Named fresh_params() {
    torch::manual_seed(2);
    Named out;
    for (int64_t n : {int64_t(3), int64_t(32768), int64_t(100003)})
        out.emplace_back("p" + std::to_string(n), torch::randn({n}).requires_grad_(true));
    out.emplace_back("m", torch::randn({17, 33}).requires_grad_(true));
    return out;
}

double rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
    const double scale = std::max(a.abs().max().item<double>(), 1e-12);
    return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>() / scale;
}

// `steps` updates of `x` over `a` and `y` over `b` from the same random gradients; tensor `skip`
// gets none on odd steps (skipped, its step count held).
void step_both(Named& a, train::Adam& x, Named& b, train::Adam& y, int steps, size_t skip) {
    for (int step = 0; step < steps; ++step) {
        for (size_t i = 0; i < a.size(); ++i) {
            if (i == skip && step % 2 == 1) continue;
            const auto g = torch::randn(a[i].second.sizes()).to(a[i].second.scalar_type());
            a[i].second.mutable_grad() = g.clone();
            b[i].second.mutable_grad() = g.clone();
        }
        x.step(1e-3);
        y.step(1e-3);
        x.zero_grad();
        y.zero_grad();
    }
}

std::map<std::string, torch::Tensor> as_map(const models::StateDict& d) { return {d.begin(), d.end()}; }

struct Run {
    std::vector<double> losses;
    torch::Tensor first_logits;
    std::vector<std::string> masters_with_grads; // low-precision weights whose fp32 master got a gradient
    torch::Tensor first_grads; // every parameter's first gradient (on its working copy, if it has one), flat
};

// Three trainer steps of `extractor` (or AST alone) + AST-Tiny at the small preset under bf16
// autocast, Adam fused with working copies or per tensor without.
Run train_three(const std::string& extractor_name, bool working) {
    torch::manual_seed(3);
    std::shared_ptr<models::FeatureExtractor> extractor;
    int64_t frames = 64, samples = 0;
    if (extractor_name != "none") {
        extractor = models::make_extractor(extractor_name, models::Preset::Small);
        samples = extractor->sample_rate() / 4;
        frames = extractor->output_frames(samples);
    }
    auto classifier = models::make_classifier("ast-tiny", frames, 4, models::Preset::Small);
    std::shared_ptr<torch::nn::Module> owner;
    train::Forward forward;
    if (extractor) {
        train::TrainModel model(extractor, classifier);
        owner = model.ptr();
        forward = [model](const torch::Tensor& x) mutable { return model->forward(x); };
    } else {
        owner = classifier.ptr();
        forward = [classifier](const torch::Tensor& x) mutable { return classifier->forward(x); };
    }
    owner->train();
    Named params;
    for (const auto& p : owner->named_parameters(true)) params.emplace_back(p.key(), p.value());
    train::AdamOptions o;
    o.fused = working;
    train::Adam adam(params, o);
    if (working) train::keep_working_copies(adam, *owner, train::Precision::Bf16);
    torch::manual_seed(5);
    const auto input = extractor ? torch::randn({2, extractor->input_channels(), samples}) * 0.1
                                 : torch::randn({2, frames, 128});
    const auto targets = torch::tensor({1, 3}, torch::kInt64);
    Run r;
    const auto lows = models::low_precision_weights(*owner, torch::kBFloat16);
    for (int step = 0; step < 3; ++step) {
        train::StepSettings s;
        s.precision = train::Precision::Bf16;
        s.lr = 1e-3;
        s.step = step;
        const train::Forward watched = [&](const torch::Tensor& x) {
            auto y = forward(x);
            if (step == 0) r.first_logits = y.detach().clone();
            return y;
        };
        // Which masters got gradients is seen between backward and Adam: after_backward.
        s.after_backward = [&] {
            if (step != 0) return;
            std::vector<torch::Tensor> grads;
            for (const auto& kv : owner->named_parameters(true)) {
                for (const auto& w : lows)
                    if (w.is_same(kv.value()) && kv.value().grad().defined()) r.masters_with_grads.push_back(kv.key());
                models::UseWorking on(adam.working_table());
                const torch::Tensor g = kv.value().grad().defined() ? kv.value().grad() : models::working(kv.value()).grad();
                grads.push_back(g.defined() ? g.to(torch::kFloat).flatten() : torch::zeros({kv.value().numel()}));
            }
            r.first_grads = torch::cat(grads);
        };
        r.losses.push_back(train::train_step(watched, adam, input, targets, s).loss);
    }
    return r;
}

} // namespace

class TestFusedAdam : public QObject {
    Q_OBJECT

private Q_SLOTS:
    // Tensors the one-pass kernel cannot read (a GPU's; here a transposed fp32 weight and bf16
    // ones) take the multi-tensor kernels: bit for bit the per-tensor update, step counts held
    // for a tensor without a gradient, and working copies written from the result.
    void multiTensorMatchesThePerTensorUpdate() {
        auto make = [] {
            torch::manual_seed(4);
            Named out;
            out.emplace_back("transposed", torch::randn({33, 17}).t().detach().requires_grad_(true));
            out.emplace_back("bf16", torch::randn({1000}).to(torch::kBFloat16).requires_grad_(true));
            out.emplace_back("bf16_small", torch::randn({5}).to(torch::kBFloat16).requires_grad_(true));
            out.emplace_back("plain", torch::randn({4097}).requires_grad_(true));
            return out;
        };
        auto a = make(), b = make();
        QVERIFY(!a[0].second.is_contiguous());
        train::AdamOptions plain;
        plain.fused = false;
        train::Adam multi(a), reference(b, plain);
        multi.keep_working_copies({a[0].second}, torch::kBFloat16);
        torch::manual_seed(10);
        step_both(a, multi, b, reference, 4, 2);
        QCOMPARE(QString(multi.last_update()), QString("fused + multi-tensor"));
        for (size_t i = 0; i < 3; ++i) // the multi-tensor ones: the same operations
            QVERIFY2(torch::equal(a[i].second.detach(), b[i].second.detach()), a[i].first.c_str());
        QVERIFY(rel_diff(a[3].second.detach(), b[3].second.detach()) < 1e-6); // the fused one
        const auto sm = as_map(multi.state()), sr = as_map(reference.state());
        for (const auto& name : {"transposed", "bf16", "bf16_small"}) {
            const std::string n = name;
            QVERIFY2(torch::equal(sm.at(n + ".exp_avg"), sr.at(n + ".exp_avg")), name);
            QVERIFY2(torch::equal(sm.at(n + ".exp_avg_sq"), sr.at(n + ".exp_avg_sq")), name);
            QCOMPARE(sm.at(n + ".step").item<int64_t>(), sr.at(n + ".step").item<int64_t>());
        }
        QCOMPARE(sm.at("bf16_small.step").item<int64_t>(), int64_t(2));
        const auto* table = multi.working_table();
        QVERIFY(table);
        QVERIFY(torch::equal(table->at(a[0].second.unsafeGetTensorImpl()), a[0].second.detach().to(torch::kBFloat16)));

        // Only tensors the one-pass kernel cannot read: multi-tensor alone.
        Named only{{"bf16", torch::randn({8}).to(torch::kBFloat16).requires_grad_(true)}};
        train::Adam lone(only);
        only[0].second.mutable_grad() = torch::ones({8}).to(torch::kBFloat16);
        lone.step(1e-3);
        QCOMPARE(QString(lone.last_update()), QString("multi-tensor"));
    }

    // The fused pass splits its chunks among libtorch's threads. ATen's own parallel_for runs on
    // one thread in a file built without OpenMP, which the fused pass did until core/parallel.
    void theFusedPassUsesTheThreads() {
        QVERIFY2(parallel_for_threads(), "the engine was built without OpenMP");
        const int before = at::get_num_threads();
        at::set_num_threads(2);
        std::mutex mu;
        std::set<std::thread::id> ids;
        parallel_for(0, 64, 1, [&](int64_t, int64_t) {
            std::lock_guard<std::mutex> lock(mu);
            ids.insert(std::this_thread::get_id());
        });
        const QString error = [&] {
            try {
                parallel_for(0, 64, 1, [](int64_t first, int64_t) {
                    if (first > 0) throw std::runtime_error("chunk failed");
                });
            } catch (const std::exception& e) {
                return QString::fromUtf8(e.what());
            }
            return QString();
        }();
        at::set_num_threads(before);
        QCOMPARE(int(ids.size()), 2);
        QCOMPARE(error, QStringLiteral("chunk failed")); // the other thread's exception, rethrown here
    }

    // The working copy's rounding is c10::BFloat16's, bit for bit, at the edges too: ties to
    // even, NaN, infinities, the largest floats (rounding up to infinity), subnormals, -0.
    void theWorkingCopyRoundsAsBFloat16Does() {
        std::vector<float> p = {1.0f, 1.00390625f, 1.01171875f, -2.5f, 0.0f, -0.0f, 3.4e38f, -3.4e38f, 1e-40f,
                                std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                                std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
                                std::numeric_limits<float>::max(), std::numeric_limits<float>::denorm_min()};
        for (int i = 0; i < 2000; ++i) p.push_back(std::ldexp(float(i * 7919 % 65536) / 65536.0f + 1.0f, i % 60 - 30));
        const std::vector<float> before = p;
        std::vector<float> m(p.size(), 0.0f), v(p.size(), 0.0f), g(p.size(), 0.0f);
        std::vector<c10::BFloat16> w(p.size());
        train::AdamSlice s;
        s.param = p.data();
        s.exp_avg = m.data();
        s.exp_avg_sq = v.data();
        s.grad = g.data();
        s.working = w.data();
        s.size = int64_t(p.size());
        s.eps = 1e-8f; // step_size 0: the weights stay as they are
        train::fused_adam({s});
        for (size_t i = 0; i < p.size(); ++i) {
            const c10::BFloat16 want(before[i]);
            if (w[i].x != want.x)
                QFAIL(qPrintable(QStringLiteral("%1 rounds to 0x%2, c10 gives 0x%3")
                                     .arg(double(before[i]), 0, 'g', 9).arg(w[i].x, 0, 16).arg(want.x, 0, 16)));
        }
    }

    void fusedMatchesThePerTensorUpdate() {
        auto a = fresh_params(), b = fresh_params();
        train::AdamOptions plain;
        plain.fused = false;
        train::Adam fused(a), reference(b, plain);
        torch::manual_seed(9);
        step_both(a, fused, b, reference, 5, 0);
        QCOMPARE(QString(fused.last_update()), QString("fused"));
        QCOMPARE(QString(reference.last_update()), QString("per tensor"));
        for (size_t i = 0; i < a.size(); ++i)
            QVERIFY2(rel_diff(a[i].second.detach(), b[i].second.detach()) < 1e-6, (a[i].first + " " + std::to_string(rel_diff(a[i].second.detach(), b[i].second.detach()))).c_str());
        const auto sf = as_map(fused.state()), sr = as_map(reference.state());
        for (const auto& [name, t] : sr) {
            if (t.dim() == 0) QCOMPARE(sf.at(name).item<int64_t>(), t.item<int64_t>());
            else QVERIFY2(rel_diff(sf.at(name), t) < 1e-6, (name + " " + std::to_string(rel_diff(sf.at(name), t))).c_str());
        }
        QCOMPARE(sf.at("p3.step").item<int64_t>(), int64_t(3));
        QCOMPARE(sf.at("p100003.step").item<int64_t>(), int64_t(5));
    }

    // torch's own Adam is the reference of the per-tensor update (test_trainer checks it bit
    // for bit); the fused pass agrees with torch within fp32 rounding.
    void fusedAgreesWithTorch() {
        auto a = fresh_params(), b = fresh_params();
        train::Adam ours(a);
        std::vector<torch::Tensor> theirs_params;
        for (auto& [n, t] : b) theirs_params.push_back(t);
        torch::optim::Adam theirs(theirs_params, torch::optim::AdamOptions(1e-2));
        for (int step = 0; step < 7; ++step) {
            ours.zero_grad();
            theirs.zero_grad();
            for (size_t i = 0; i < a.size(); ++i) {
                a[i].second.pow(3).sum().backward();
                b[i].second.pow(3).sum().backward();
            }
            ours.step(1e-2);
            theirs.step();
        }
        for (size_t i = 0; i < a.size(); ++i)
            QVERIFY2(rel_diff(a[i].second.detach(), b[i].second.detach()) < 1e-6, (a[i].first + " " + std::to_string(rel_diff(a[i].second.detach(), b[i].second.detach()))).c_str());
    }

    void workingCopiesHoldTheWeightRoundedToBf16() {
        auto a = fresh_params();
        train::Adam adam(a);
        QVERIFY(adam.working_table() == nullptr);
        std::vector<torch::Tensor> weights{a[1].second, a[3].second};
        adam.keep_working_copies(weights, torch::kBFloat16);
        const models::WorkingTable* table = adam.working_table();
        QVERIFY(table != nullptr);
        QCOMPARE(table->size(), size_t(2));
        const auto copy_of = [&](const torch::Tensor& w) {
            models::UseWorking use(adam.working_table());
            return models::working(w);
        };
        QVERIFY(copy_of(a[0].second).is_same(a[0].second)); // no copy: the weight itself
        for (int step = 0; step < 3; ++step) {
            for (auto& [n, t] : a) t.mutable_grad() = torch::randn(t.sizes());
            adam.step(1e-2);
            for (const auto& w : weights) {
                const auto c = copy_of(w);
                QCOMPARE(c.scalar_type(), torch::kBFloat16);
                QVERIFY(c.requires_grad() && c.is_leaf());
                QVERIFY(torch::equal(c.detach(), w.detach().to(torch::kBFloat16))); // autocast's rounding
            }
        }
        // Changed outside step() (a checkpoint loaded, a broadcast): refreshed before the next use.
        {
            torch::NoGradGuard no_grad;
            a[3].second.add_(1.0);
        }
        QVERIFY(torch::equal(copy_of(a[3].second).detach(), a[3].second.detach().to(torch::kBFloat16)));
        // Outside a UseWorking scope a layer reads the weight.
        QVERIFY(models::working(a[3].second).is_same(a[3].second));
    }

    // A working copy's bf16 gradient updates its weight as the same gradient in fp32 would, and
    // data parallelism's gradients() hands it over in fp32.
    void aWorkingCopysGradientIsTheWeightsGradient() {
        auto a = fresh_params(), b = fresh_params();
        train::Adam with(a), without(b);
        with.keep_working_copies({a[2].second}, torch::kBFloat16);
        const models::WorkingTable* table = with.working_table();
        const torch::Tensor copy = table->at(a[2].second.unsafeGetTensorImpl());
        torch::manual_seed(4);
        const auto g = torch::randn({100003}).to(torch::kBFloat16);
        copy.mutable_grad() = g.clone();
        b[2].second.mutable_grad() = g.to(torch::kFloat32);
        with.step(1e-2);
        without.step(1e-2);
        QVERIFY(torch::equal(a[2].second.detach(), b[2].second.detach()));
        copy.mutable_grad() = g.clone();
        const auto grads = with.gradients();
        QCOMPARE(grads[2].scalar_type(), torch::kFloat32);
        QVERIFY(torch::equal(grads[2], g.to(torch::kFloat32)));
        QVERIFY(!copy.grad().defined()); // folded, not counted twice
    }

    void theTrainingStepWithWorkingCopiesMatchesAutocast() {
        for (const std::string name : {"none", "gafx-r", "gafx-u", "gafx-a"}) {
            const Run cast = train_three(name, false), work = train_three(name, true);
            // The same bf16 weights reach every matmul, and the same activations up to the rare
            // LayerNorm output that rounds one bf16 step apart (test_layer_norm_bf16: 1-3 of the
            // 13 056 outputs of each LayerNorm here), which moves logits and loss by up to 1e-3
            // of themselves: within bf16's own precision (2^-8).
            const double gap = (cast.first_logits - work.first_logits).abs().max().item<double>() /
                               cast.first_logits.abs().max().item<double>();
            QVERIFY2(gap < 2e-2, (name + ": first logits " + std::to_string(gap) + " apart").c_str());
            QVERIFY2(std::abs(cast.losses[0] - work.losses[0]) <= 4e-3 * std::abs(cast.losses[0]),
                     (name + ": first loss " + std::to_string(cast.losses[0]) + " vs " + std::to_string(work.losses[0]))
                         .c_str());
            // The same gradients, to bf16 precision (seen: up to 1e-2 apart): a gradient lost on
            // a working copy or counted twice would be off by its whole size.
            const double grad_gap = ((cast.first_grads - work.first_grads).norm() / cast.first_grads.norm()).item<double>();
            QVERIFY2(grad_gap < 3e-2, (name + ": first gradients " + std::to_string(grad_gap) + " apart").c_str());
            std::string missed;
            for (const auto& m : work.masters_with_grads) missed += m + " ";
            QVERIFY2(missed.empty(), (name + ": " + missed + " is read as the fp32 weight").c_str());
            QVERIFY(!cast.masters_with_grads.empty());
            // Later steps only diverge: Adam's first updates are the gradients' signs, and a sign
            // that rounding flips moves a weight by the whole learning rate.
            for (size_t i = 1; i < cast.losses.size(); ++i)
                QVERIFY2(std::abs(cast.losses[i] - work.losses[i]) <= 5e-2 * std::abs(cast.losses[0]),
                         (name + " step " + std::to_string(i) + ": " + std::to_string(cast.losses[i]) + " vs " +
                          std::to_string(work.losses[i]))
                             .c_str());
            QVERIFY(work.losses.front() != work.losses.back()); // the steps did train
        }
    }
};

QTEST_GUILESS_MAIN(TestFusedAdam)
#include "test_fused_adam.moc"
