// Every trainable model's gradients in float32 against the same model in float64, at the small
// presets. A backward kernel that reads its gradient wrongly (libtorch 1.13's GELU with a
// non-contiguous one, models/gelu.h) trains on noise while every loss still looks finite; only
// a reference catches it.
#include "models/registry.h"

#include <ATen/Parallel.h>
#include <torch/types.h>

#include <QtTest>

#include <functional>
#include <memory>
#include <string>

using namespace gafx;

namespace {

using Make = std::function<std::shared_ptr<torch::nn::Module>()>;
using Run = std::function<torch::Tensor(torch::nn::Module&, const torch::Tensor&)>;

void compare_with_float64(const Make& make, const Run& run, const torch::Tensor& input) {
    torch::manual_seed(3);
    auto f = make();
    torch::manual_seed(3);
    auto d = make();
    d->to(torch::kDouble);
    f->train();
    d->train();
    // The same dropout masks at both precisions (GAFX-A's functional dropout draws them too).
    torch::manual_seed(4);
    const auto out = run(*f, input);
    torch::manual_seed(4);
    const auto out64 = run(*d, input.to(torch::kDouble));
    const auto w = torch::randn(out.sizes());
    (out * w).sum().backward();
    (out64 * w.to(torch::kDouble)).sum().backward();
    auto reference = d->named_parameters();
    double scale = 0;
    for (const auto& kv : reference)
        if (kv.value().grad().defined()) scale = std::max(scale, kv.value().grad().abs().max().item<double>());
    QVERIFY(scale > 0);
    for (const auto& kv : f->named_parameters()) {
        const auto ref = reference[kv.key()].grad();
        QCOMPARE(kv.value().grad().defined(), ref.defined());
        if (!ref.defined()) continue;
        const double err = (kv.value().grad().to(torch::kDouble) - ref).abs().max().item<double>();
        const double allowed = 1e-3 * ref.abs().max().item<double>() + 1e-6 * scale;
        QVERIFY2(err <= allowed,
                 (kv.key() + ": error " + std::to_string(err) + ", allowed " + std::to_string(allowed)).c_str());
    }
}

void extractor(const std::string& name) {
    auto probe = models::make_extractor(name, models::Preset::Small);
    const auto wave = torch::randn({2, probe->input_channels(), probe->sample_rate() / 4}) * 0.1;
    compare_with_float64([name] { return models::make_extractor(name, models::Preset::Small); },
                         [](torch::nn::Module& m, const torch::Tensor& x) {
                             return static_cast<models::FeatureExtractor&>(m).forward(x);
                         },
                         wave);
}

} // namespace

class TestModelGradients : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { at::set_num_threads(1); } // suites run side by side under ctest

    void gafxU() { extractor("gafx-u"); }
    void gafxR() { extractor("gafx-r"); }
    void gafxA() { extractor("gafx-a"); }

    void astTiny() {
        compare_with_float64([] { return models::make_classifier("ast-tiny", 128, 10, models::Preset::Small).ptr(); },
                             [](torch::nn::Module& m, const torch::Tensor& x) {
                                 return static_cast<models::AstImpl&>(m).forward(x);
                             },
                             torch::randn({2, 128, 128}));
    }
};

QTEST_GUILESS_MAIN(TestModelGradients)
#include "test_model_gradients.moc"
