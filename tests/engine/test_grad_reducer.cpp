// train/grad_reducer: two ranks (processes on 127.0.0.1, Gloo) train AST-Tiny at the small preset
// under bf16 with working copies, once summing gradients during backward and once after it
// (World::sum of Adam::gradients, the path it replaces): the same weights bit for bit after every
// step, and buckets sent before backward ended once the first step has shown which tensors get a
// gradient. Then layers registered in the opposite order to the one they run in: after the first
// backward the buckets follow the order it made them ready in.
#include "models/registry.h"
#include "test_support.h"
#include "train/adam.h"
#include "train/data_parallel.h"
#include "train/grad_reducer.h"
#include "train/step.h"

#include <ATen/Parallel.h>
#include <QtTest>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <array>
#include <memory>
#include <string>

using namespace gafx;

namespace {

struct Trained {
    models::Ast model;
    std::unique_ptr<train::Adam> adam;
};

Trained fresh_ast() {
    torch::manual_seed(3); // the same weights on both ranks, and for both ways
    Trained t{models::make_classifier("ast-tiny", 64, 4, models::Preset::Small), nullptr};
    t.model->train();
    std::vector<std::pair<std::string, torch::Tensor>> params;
    for (const auto& p : t.model->named_parameters(true)) params.emplace_back(p.key(), p.value());
    t.adam = std::make_unique<train::Adam>(params);
    train::keep_working_copies(*t.adam, *t.model, train::Precision::Bf16);
    return t;
}

// Rank `rank` of two on one thread.
std::unique_ptr<train::World> join_two(int rank, int port) {
    at::set_num_threads(1);
    train::WorldSpec w;
    w.rank = rank;
    w.world_size = 2;
    w.master_port = port;
    w.timeout_seconds = 60;
    return train::World::join(w);
}

// What each rank does; an empty string when every check held.
std::string rank_main(int rank, int port) {
    auto world = join_two(rank, port);
    Trained during = fresh_ast(), after = fresh_ast();
    train::GradReducer reducer(*world, *during.adam, 64 << 10);
    if (reducer.buckets() < 4) return "only " + std::to_string(reducer.buckets()) + " buckets";
    torch::manual_seed(5 + rank); // each rank its own slice of a global batch of 2
    const torch::Tensor input = torch::randn({1, 64, 128});
    const torch::Tensor targets = torch::tensor({rank + 1}, torch::kInt64);
    for (int step = 0; step < 3; ++step) {
        auto settings = [&](train::Adam& adam, train::GradReducer* r) {
            train::StepSettings s;
            s.precision = train::Precision::Bf16;
            s.lr = 1e-3;
            s.step = step;
            train::share_step(s, *world, adam, 2, r);
            return s;
        };
        const auto a = train::train_step([&](const torch::Tensor& x) { return during.model->forward(x); },
                                         *during.adam, input, targets, settings(*during.adam, &reducer));
        const auto b = train::train_step([&](const torch::Tensor& x) { return after.model->forward(x); },
                                         *after.adam, input, targets, settings(*after.adam, nullptr));
        const std::string at = "step " + std::to_string(step) + ": ";
        if (!a.applied || !b.applied || a.loss != b.loss) return at + "the losses differ";
        const auto pa = during.model->named_parameters(true), pb = after.model->named_parameters(true);
        for (size_t i = 0; i < pa.size(); ++i)
            if (!torch::equal(pa[i].value(), pb[i].value())) return at + pa[i].key() + " differs";
        // The first backward only learns which tensors get gradients; later ones send as they go.
        const int early = reducer.sent_during_backward();
        if (step == 0 && early != 0) return at + std::to_string(early) + " buckets sent while learning";
        if (step > 0 && early < reducer.buckets() / 2)
            return at + "only " + std::to_string(early) + " of " + std::to_string(reducer.buckets()) +
                   " buckets sent during backward";
    }
    // A backward outside a step (an analysis) neither adds nor sends: the ranks would disagree.
    during.model->forward(input).sum().backward();
    world->barrier();
    return {};
}

// Eight layers registered in the opposite order to the one they run in. The reversed parameter
// order the buckets start in then puts first the layer whose gradient backward gives last, so no
// bucket could go before backward ends; laid out in the first backward's order, all but the last
// can.
struct BackwardsImpl : torch::nn::Module {
    BackwardsImpl() {
        for (int i = kLayers - 1; i >= 0; --i)
            layers[size_t(i)] = register_module("layer" + std::to_string(i), torch::nn::Linear(64, 64));
    }
    torch::Tensor forward(torch::Tensor x) {
        for (auto& l : layers) x = torch::tanh(l(x));
        return x;
    }
    static constexpr int kLayers = 8;
    std::array<torch::nn::Linear, kLayers> layers{nullptr, nullptr, nullptr, nullptr,
                                                  nullptr, nullptr, nullptr, nullptr};
};
TORCH_MODULE(Backwards);

std::string rank_main_backwards(int rank, int port) {
    auto world = join_two(rank, port);
    const auto make = [](Backwards& m) {
        torch::manual_seed(3);
        m = Backwards();
        std::vector<std::pair<std::string, torch::Tensor>> params;
        for (const auto& p : m->named_parameters(true)) params.emplace_back(p.key(), p.value());
        return std::make_unique<train::Adam>(params);
    };
    Backwards during{nullptr}, after{nullptr};
    const auto during_adam = make(during), after_adam = make(after);
    train::GradReducer reducer(*world, *during_adam, 20 << 10); // one layer (16.6 KB) a bucket
    if (reducer.buckets() != BackwardsImpl::kLayers) return std::to_string(reducer.buckets()) + " buckets";
    torch::manual_seed(5 + rank);
    const torch::Tensor input = torch::randn({2, 64});
    const torch::Tensor targets = torch::tensor({rank, rank + 7}, torch::kInt64);
    for (int step = 0; step < 3; ++step) {
        auto settings = [&](train::Adam& adam, train::GradReducer* r) {
            train::StepSettings s;
            s.lr = 1e-3;
            s.step = step;
            train::share_step(s, *world, adam, 4, r);
            return s;
        };
        const auto a = train::train_step([&](const torch::Tensor& x) { return during->forward(x); }, *during_adam,
                                         input, targets, settings(*during_adam, &reducer));
        const auto b = train::train_step([&](const torch::Tensor& x) { return after->forward(x); }, *after_adam,
                                         input, targets, settings(*after_adam, nullptr));
        const std::string at = "step " + std::to_string(step) + ": ";
        if (!a.applied || !b.applied || a.loss != b.loss) return at + "the losses differ";
        const auto pa = during->named_parameters(true), pb = after->named_parameters(true);
        for (size_t i = 0; i < pa.size(); ++i)
            if (!torch::equal(pa[i].value(), pb[i].value())) return at + pa[i].key() + " differs";
        const int early = reducer.sent_during_backward();
        if (step > 0 && early != BackwardsImpl::kLayers - 1)
            return at + std::to_string(early) + " of " + std::to_string(reducer.buckets()) +
                   " buckets sent while backward still had gradients to give, not all but the last";
    }
    world->barrier();
    return {};
}

} // namespace

class TestGradReducer : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void gradientsSummedDuringBackwardMatchSummedAfter() {
        if (!train::have_gloo()) QSKIP("this build has no Gloo process group");
        const std::string bad = test::run_two_ranks(rank_main);
        QVERIFY2(bad.empty(), bad.c_str());
    }

    // After the first backward the buckets follow the order it made them ready in, on every rank.
    void bucketsFollowTheOrderBackwardMakesThemReady() {
        if (!train::have_gloo()) QSKIP("this build has no Gloo process group");
        const std::string bad = test::run_two_ranks(rank_main_backwards);
        QVERIFY2(bad.empty(), bad.c_str());
    }
};

QTEST_GUILESS_MAIN(TestGradReducer)
#include "test_grad_reducer.moc"
