// Every extractor feeds every classifier: small presets run the real code end to end, from a
// waveform to logits, with gradients reaching the extractor.
#include "core/error.h"
#include "experiments/run_cost.h"
#include "models/registry.h"
#include "train/precision.h"
#include "train/step.h"
#include "train/train_model.h"
#include "test_support.h"

#include <QtTest>

#include <cmath>

using namespace gafx;

class TestModelRegistry : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { at::set_num_threads(1); }

    void everyExtractorFeedsEveryClassifier() {
        for (const auto& e_name : models::extractor_names()) {
            auto e = models::make_extractor(e_name, models::Preset::Small);
            QCOMPARE(QString::fromStdString(e->name()), QString::fromStdString(e_name));
            const int64_t samples = e->sample_rate(); // 1 s
            const int64_t frames = e->output_frames(samples);
            for (const auto& c_name : models::classifier_names()) {
                auto ast = models::make_classifier(c_name, frames, 10, models::Preset::Small);
                auto wave = torch::randn({2, e->input_channels(), samples}) * 0.1;
                auto features = e->forward(wave);
                QCOMPARE(features.sizes().vec(), (std::vector<int64_t>{2, frames, e->feature_bins()}));
                auto logits = ast->forward(features);
                QCOMPARE(logits.sizes().vec(), (std::vector<int64_t>{2, 10}));
                logits.sum().backward();
                // HDemucs keeps (unused) norms in the encoder layer where its branches merge, as
                // torchaudio does, so those are the only tensors allowed to get no gradient.
                for (const auto& p : e->named_parameters()) {
                    const bool merge_norm = p.key().find("time_encoder.") != std::string::npos &&
                                            p.key().find(".norm") != std::string::npos;
                    QVERIFY2(p.value().grad().defined() || merge_norm, (e_name + ": no gradient for " + p.key()).c_str());
                }
                e->zero_grad();
            }
        }
    }

    void everyExtractorTrainsInBf16() {
        // precision "auto" is bf16 on CPUs with avx512_bf16: every model must take a training
        // step under CPU autocast (1.13 leaves some ops, e.g. group_norm, uncast).
        if (!train::cpu_has_bf16()) QSKIP("this CPU has no native bf16");
        for (const auto& e_name : models::extractor_names()) {
            torch::manual_seed(0);
            auto e = models::make_extractor(e_name, models::Preset::Small);
            const int64_t samples = e->sample_rate() / 2;
            auto model = train::TrainModel(e, models::make_classifier("ast-tiny", e->output_frames(samples), 4,
                                                                       models::Preset::Small));
            std::vector<std::pair<std::string, torch::Tensor>> params;
            for (const auto& p : model->named_parameters()) params.emplace_back(p.key(), p.value());
            train::Adam adam(params);
            const auto wave = torch::randn({2, e->input_channels(), samples}) * 0.1;
            const auto out = train::train_step([&](const torch::Tensor& x) { return model->forward(x); }, adam, wave,
                                               torch::tensor({1, 3}), {torch::kCPU, train::Precision::Bf16, false, 1e-4});
            QVERIFY2(out.applied && std::isfinite(out.loss), e_name.c_str());
        }
    }

    // The frame rates behind experiments::run_cost are the models' own, at both presets; and the
    // classifier a preset builds is the config costs are counted on.
    void runCostsCountTheFramesTheModelsGive() {
        for (const auto& name : models::extractor_names())
            for (const auto preset : {models::Preset::Paper, models::Preset::Small}) {
                const auto e = models::make_extractor(name, preset);
                const std::string p = preset == models::Preset::Small ? "small" : "paper";
                QCOMPARE(experiments::extractor_frames(name, p, 10), e->output_frames(int64_t(e->sample_rate()) * 10));
            }
        for (const auto& name : models::classifier_names()) {
            const auto c = models::make_classifier(name, 1024, 10, models::Preset::Small);
            QCOMPARE(c->config().depth, models::classifier_config(name, 1024, 10, true).depth);
            QCOMPARE(c->config().embed_dim, models::classifier_config(name, 1024, 10, true).embed_dim);
        }
    }

    void unknownNamesListTheKnownOnes() {
        QVERIFY(test::error_of([] { models::make_extractor("gafx-z"); }).contains(QStringLiteral("gafx-u")));
        QVERIFY(test::error_of([] { models::make_classifier("ast-huge", 1024, 10); }).contains(QStringLiteral("ast-tiny")));
    }
};

QTEST_GUILESS_MAIN(TestModelRegistry)
#include "test_model_registry.moc"
