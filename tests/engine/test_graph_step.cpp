// train/graph_step: what refuses a CUDA graph, and the eager steps it takes instead, which are
// train_step's bit for bit (on this CPU-only libtorch every step is one); correct_tensor counts
// as correct_count does. The replay itself is checked on the GPU machine (tests/device/cuda_check).
#include "models/registry.h"
#include "train/adam.h"
#include "train/graph_step.h"
#include "train/step.h"

#include <torch/types.h>

#include <QtTest>

#include <string>
#include <vector>

using namespace gafx;

namespace {

struct Model {
    models::Ast net{nullptr};
    std::vector<std::pair<std::string, torch::Tensor>> params;
};

Model tiny() {
    torch::manual_seed(7);
    Model m;
    m.net = models::make_classifier("ast-tiny", 64, 4, models::Preset::Small);
    m.net->train();
    for (const auto& p : m.net->named_parameters(true)) m.params.emplace_back(p.key(), p.value());
    return m;
}

} // namespace

class TestGraphStep : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void saysWhyItIsNotCaptured() {
        train::StepSettings s;
        if (!train::GraphedStep::available()) {
            QCOMPARE(train::GraphedStep::refusal(s), std::string("this libtorch has no CUDA graphs"));
            return;
        }
        QCOMPARE(train::GraphedStep::refusal(s), std::string("not on a GPU"));
        s.device = torch::Device(torch::kCUDA, 0);
        QCOMPARE(train::GraphedStep::refusal(s), std::string());
        s.precision = train::Precision::Fp16;
        QVERIFY(!train::GraphedStep::refusal(s).empty());
        s.precision = train::Precision::Bf16;
        s.after_backward = [] {};
        QVERIFY(!train::GraphedStep::refusal(s).empty());
    }

    // Where it cannot capture, every step is train_step's: the same losses and weights.
    void eagerStepsAreTrainSteps() {
        Model a = tiny(), b = tiny();
        train::Adam adam_a(a.params), adam_b(b.params);
        train::StepSettings s;
        s.precision = train::Precision::Bf16;
        train::keep_working_copies(adam_a, *a.net, s.precision);
        train::keep_working_copies(adam_b, *b.net, s.precision);
        train::GraphedStep graphed([&](const torch::Tensor& x) { return a.net->forward(x); }, adam_a, s, 1);
        torch::manual_seed(8);
        const torch::Tensor x = torch::randn({3, 64, 128}), y = torch::tensor({0, 2, 3}, torch::kInt64);
        for (int step = 0; step < 4; ++step) {
            s.lr = 1e-3 * (step + 1);
            s.step = step;
            const auto got = graphed.run(x, y, s.lr, step);
            const auto want = train::train_step([&](const torch::Tensor& in) { return b.net->forward(in); }, adam_b, x, y, s);
            QCOMPARE(got.loss, want.loss);
            QCOMPARE(got.correct, want.correct);
            QCOMPARE(got.applied, want.applied);
        }
        for (size_t i = 0; i < a.params.size(); ++i)
            QVERIFY2(torch::equal(a.params[i].second, b.params[i].second), a.params[i].first.c_str());
        QVERIFY(QString::fromStdString(graphed.describe()).startsWith("eager ("));
    }

    void correctTensorCountsAsCorrectCount() {
        const torch::Tensor logits = torch::tensor({{0.1, 0.9, 0.0}, {0.8, 0.1, 0.1}, {0.2, 0.3, 0.5}});
        const std::vector<torch::Tensor> targets = {
            torch::tensor({1, 1, 2}, torch::kInt64),                                       // indices: 2 right
            torch::tensor({{0.f, 1.f, 0.f}, {0.f, 0.f, 1.f}, {0.f, 0.f, 1.f}}),            // mixup shares: 2
        };
        QCOMPARE(train::correct_tensor(logits, targets[0], false).item<int64_t>(), int64_t(2));
        QCOMPARE(train::correct_count(logits, targets[0], false), int64_t(2));
        QCOMPARE(train::correct_tensor(logits, targets[1], false).item<int64_t>(), int64_t(2));
        const torch::Tensor multi_hot = torch::tensor({{0.f, 1.f, 1.f}, {0.f, 1.f, 0.f}, {1.f, 0.f, 1.f}});
        QCOMPARE(train::correct_tensor(logits, multi_hot, true).item<int64_t>(), int64_t(2));
        QCOMPARE(train::correct_count(logits, multi_hot, true), int64_t(2));
    }
};

QTEST_GUILESS_MAIN(TestGraphStep)
#include "test_graph_step.moc"
