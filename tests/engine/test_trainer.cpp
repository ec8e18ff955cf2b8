// The Trainer on a tiny real dataset: schedule, metrics, reproducibility, resume after a stop,
// pause, divergence, cancellation from another connection, and a missing file.
#include "data/audioset.h"
#include "data/audioset_demo.h"
#include "data/split.h"
#include "experiments/experiment.h"
#include "store/run_paths.h"
#include "store/run_store.h"
#include "store/sqlite_db.h"
#include "test_support.h"
#include "train/adam.h"
#include "train/checkpoint.h"
#include "train/evaluation.h"
#include "train/schedule.h"
#include "train/step.h"
#include "train/run_setup.h"
#include "train/trainer.h"
#include "train/heartbeat.h"

#include <torch/optim/adam.h>

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <map>
#include <thread>

#include <csignal>
#include <sys/resource.h>
#include <unistd.h>

using namespace gafx;

namespace {

std::string tiny_config(const std::string& extra = {}) {
    return R"({"dataset": "tiny", "extractor": "mel", "classifier": "ast-tiny", "preset": "small",
               "track_seconds": 4, "clips_per_track": 2, "clip_seconds": 1.5, "epochs": 3, "batch_size": 8,
               "lr": 0.0005, "warmup_steps": 5, "lr_halving_epochs": [2], "precision": "fp32", "seed": 3)" +
           extra + "}";
}

train::TrainOptions options(const QTemporaryDir& dir) {
    train::TrainOptions o;
    o.threads = 1;
    o.loader_threads = 2;
    o.checkpoint_dir = (dir.path() + "/runs").toStdString();
    o.heartbeat_seconds = 0.05;
    return o;
}

std::vector<store::MetricRow> history(store::RunStore& s, int64_t run) {
    std::vector<store::MetricRow> out;
    for (auto& r : s.metrics(run))
        if (r.split != "time") out.push_back(r); // timings differ between identical runs
    return out;
}

void compare_histories(const std::vector<store::MetricRow>& a, const std::vector<store::MetricRow>& b) {
    QCOMPARE(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        QCOMPARE(a[i].step, b[i].step);
        QCOMPARE(QString::fromStdString(a[i].name), QString::fromStdString(b[i].name));
        QCOMPARE(QString::fromStdString(a[i].split), QString::fromStdString(b[i].split));
        if (a[i].value != b[i].value)
            QFAIL(qPrintable(QStringLiteral("%1/%2 at step %3: %4 vs %5")
                                 .arg(QString::fromStdString(a[i].split), QString::fromStdString(a[i].name))
                                 .arg(a[i].step)
                                 .arg(a[i].value, 0, 'g', 17)
                                 .arg(b[i].value, 0, 'g', 17)));
    }
}

} // namespace

class TestTrainer : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string db_;
    std::vector<store::MetricRow> reference_;

    // Trains `id` until step 14 (mid epoch 2) and stops it there as Ctrl-C would.
    train::RunResult interrupt_mid_epoch_two(store::RunStore& s, int64_t id) {
        train::TrainControl control;
        train::TrainCallbacks cb;
        cb.on_step = [&](const train::StepProgress& p) {
            if (p.step == 14) control.request(train::TrainControl::Interrupt);
        };
        return train::train_run(s, id, options(dir_), control, cb);
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        db_ = test::make_demo_workspace(dir_.path(), 5, 4.0);
    }

    void scheduleFollowsThePaper() {
        const train::Schedule s; // 5e-5, 800 warm-up steps, halved at 12, 24, 50, 65
        QCOMPARE(s.lr(0, 0), 5e-5 / 800);
        QCOMPARE(s.lr(399, 0), 5e-5 / 2);
        QCOMPARE(s.lr(799, 1), 5e-5);
        QCOMPARE(s.lr(5000, 11), 5e-5);
        QCOMPARE(s.lr(5000, 12), 2.5e-5);
        QCOMPARE(s.lr(9000, 24), 1.25e-5);
        QCOMPARE(s.lr(20000, 50), 6.25e-6);
        QCOMPARE(s.lr(30000, 65), 3.125e-6);
        QCOMPARE(s.lr(40000, 79), 3.125e-6);
        // Warm-up longer than the first halving still ramps, at the halved base.
        const train::Schedule late{1e-3, 100, {0}};
        QCOMPARE(late.lr(49, 0), 0.5e-3 * 50 / 100);
    }

    void evaluationAveragesClipsPerTrack() {
        // Track 1 (class 0): clips say 0, 1, 0 -> clip 2/3, track right. Track 2 (class 1): clips
        // 1 (confident), 0, 0 (barely) -> clip 1/3, track right on the averaged probabilities.
        std::vector<train::ClipScores> clips = {
            {1, 0, {0.8f, 0.2f, 0.0f}, {0}}, {1, 1, {0.4f, 0.6f, 0.0f}, {0}}, {1, 2, {0.7f, 0.3f, 0.0f}, {0}},
            {2, 0, {0.0f, 1.0f, 0.0f}, {1}}, {2, 1, {0.55f, 0.45f, 0.0f}, {1}}, {2, 2, {0.51f, 0.49f, 0.0f}, {1}},
        };
        const auto e = train::evaluate(clips, 3, false, 1.2);
        QCOMPARE(e.accuracy, 3.0 / 6.0);
        QCOMPARE(e.track_accuracy, 1.0);
        QCOMPARE(e.loss, 0.2);
        QCOMPARE(e.tracks, int64_t(2));
        QCOMPARE(e.confusion[0][0], int64_t(1));
        QCOMPARE(e.confusion[1][1], int64_t(1));
        QCOMPARE(e.class_accuracy[0], 1.0);
        QVERIFY(std::isnan(e.class_accuracy[2])); // no track of class 2
        QCOMPARE(e.macro_f1, 1.0);                // class 2 neither occurs nor is predicted: not averaged
        clips[3].probabilities = {0.9f, 0.1f, 0.0f}; // now track 2 averages to class 0
        const auto wrong = train::evaluate(clips, 3, false, 0);
        QCOMPARE(wrong.track_accuracy, 0.5);
        QCOMPARE(wrong.confusion[1][0], int64_t(1));
        QCOMPARE(wrong.class_accuracy[1], 0.0);
        QVERIFY(std::fabs(wrong.macro_f1 - (2.0 / 3.0 + 0.0) / 2.0) < 1e-12); // F1 2/3 for class 0, 0 for class 1
    }

    void averagePrecisionMatchesScikitLearn() {
        // sklearn.metrics.average_precision_score([0,0,1,1], [0.1,0.4,0.35,0.8]) = 0.8333...
        QVERIFY(std::fabs(train::average_precision({0.1f, 0.4f, 0.35f, 0.8f}, {false, false, true, true}) - 5.0 / 6.0) < 1e-12);
        // Tied scores are one threshold: ([1,0,1], [0.5,0.5,0.2]) = 0.5*0.5 + 0.5*(2/3).
        QVERIFY(std::fabs(train::average_precision({0.5f, 0.5f, 0.2f}, {true, false, true}) - (0.25 + 1.0 / 3.0)) < 1e-12);
        QVERIFY(std::isnan(train::average_precision({0.3f}, {false})));
    }

    void adamMatchesTorch() {
        torch::manual_seed(1);
        const torch::Tensor init = torch::randn({5, 3});
        const torch::Tensor target = torch::randn({5, 3});
        torch::Tensor a = init.clone().requires_grad_(true), b = init.clone().requires_grad_(true);
        train::Adam ours({{"w", a}});
        torch::optim::Adam theirs({b}, torch::optim::AdamOptions(1e-2));
        for (int i = 0; i < 7; ++i) {
            ours.zero_grad();
            (a - target).pow(2).sum().backward();
            ours.step(1e-2);
            theirs.zero_grad();
            (b - target).pow(2).sum().backward();
            theirs.step();
        }
        QVERIFY(torch::equal(a.detach(), b.detach()));
    }

    void trainsAndStoresEverything() {
        store::RunStore s(db_);
        const int64_t id = s.create_run(0, tiny_config(), 3);
        train::TrainControl control;
        std::vector<train::EpochReport> epochs;
        int64_t steps = 0;
        train::TrainCallbacks cb;
        cb.on_epoch = [&](const train::EpochReport& r) { epochs.push_back(r); };
        cb.on_step = [&](const train::StepProgress& p) {
            ++steps;
            QCOMPARE(p.total_steps, int64_t(24)); // 30 training tracks x 2 clips / 8 (8 batches) x 3 epochs
        };
        const auto r = train::train_run(s, id, options(dir_), control, cb);
        QCOMPARE(QString::fromStdString(store::to_string(r.status) + r.message), QStringLiteral("finished"));
        QCOMPARE(steps, int64_t(24));
        QCOMPARE(int(epochs.size()), 3);
        QCOMPARE(epochs.back().test.clips, int64_t(20));
        QCOMPARE(epochs.back().test.tracks, int64_t(10));
        QCOMPARE(epochs.back().val.tracks, int64_t(10));
        const auto rec = s.run(id);
        QCOMPARE(QString::fromLatin1(store::to_string(rec->status)), QStringLiteral("finished"));
        QCOMPARE(QString::fromStdString(rec->precision), QStringLiteral("fp32"));
        QCOMPARE(rec->epochs_done, int64_t(3));
        QCOMPARE(rec->step, int64_t(24));
        // The selected epoch is the first with the highest val track accuracy, whatever test says;
        // the reported test figure is that epoch's.
        size_t chosen = 0;
        double best_val = -1, best_loss = 1e300;
        for (size_t e = 0; e < epochs.size(); ++e) {
            const auto& v = epochs[e].val;
            const bool better = v.track_accuracy > best_val || (v.track_accuracy == best_val && v.loss < best_loss);
            QCOMPARE(epochs[e].best, better);
            if (better) best_val = v.track_accuracy, best_loss = v.loss, chosen = e;
        }
        QCOMPARE(rec->selected_epoch, int64_t(chosen + 1));
        QCOMPARE(rec->val_track_accuracy, epochs[chosen].val.track_accuracy);
        QCOMPARE(rec->test_track_accuracy, epochs[chosen].test.track_accuracy);
        QVERIFY(rec->final_test_track_accuracy == epochs.back().test.track_accuracy);
        QVERIFY(rec->split_id > 0); // recorded at its first start: a re-split leaves it alone
        const store::RunPaths paths = store::run_paths(s.path(), *rec);
        QCOMPARE(paths.dir, (std::filesystem::path(options(dir_).checkpoint_dir) / (std::to_string(id) + "-" + rec->uid)).string());
        QCOMPARE(rec->uid.size(), size_t(16));
        QVERIFY(std::filesystem::exists(paths.best));
        QVERIFY(std::filesystem::exists(paths.last));
        QCOMPARE(int(s.predictions(id).size()), 20); // the test side's, at the selected epoch
        QCOMPARE(int(s.predictions(id).front().probabilities.size()), 10);
        // Per step: loss and lr; per epoch: train epoch_loss/epoch_accuracy, test loss, accuracy,
        // track_accuracy and per-class accuracy.
        int train_loss = 0, lr = 0, test_track = 0, val_track = 0, selection = 0, classes = 0;
        for (const auto& m : s.metrics(id)) {
            train_loss += m.split == "train" && m.name == "loss";
            lr += m.split == "train" && m.name == "lr";
            test_track += m.split == "test" && m.name == "track_accuracy";
            val_track += m.split == "val" && m.name == "track_accuracy";
            selection += m.split == "val" && m.name == "selection";
            classes += m.split == "test" && m.name.rfind("class_accuracy/", 0) == 0;
        }
        QCOMPARE(train_loss, 24);
        QCOMPARE(lr, 24);
        QCOMPARE(test_track, 3);
        QCOMPARE(val_track, 3);
        QCOMPARE(selection, 3);
        QCOMPARE(classes, 30);
        reference_ = history(s, id);
        // The same config and seed on the same thread count: the same history, bit for bit.
        const int64_t again = s.create_run(0, tiny_config(), 3);
        QCOMPARE(QString::fromLatin1(store::to_string(train::train_run(s, again, options(dir_), control).status)), QStringLiteral("finished"));
        compare_histories(history(s, again), reference_);
    }

    void mixupMixesInputsAndTargetsAlike() {
        torch::manual_seed(3);
        const torch::Tensor x = torch::randn({6, 1, 50});
        const torch::Tensor y = torch::tensor({0, 1, 2, 3, 1, 0}, torch::kLong);
        const auto off = train::mixup(x, y, false, 4, 0.0);
        QVERIFY(torch::equal(off.input, x) && torch::equal(off.targets, y));
        torch::manual_seed(7);
        const auto m = train::mixup(x, y, false, 4, 0.5);
        QVERIFY(m.lambda > 0 && m.lambda < 1);
        QVERIFY(torch::allclose(m.targets.sum(1), torch::ones({6})));
        const torch::Tensor onehot = torch::one_hot(y, 4).to(torch::kFloat32);
        for (int64_t i = 0; i < 6; ++i) {
            bool partner = false; // some j mixes into i with the same share in input and targets
            for (int64_t j = 0; j < 6 && !partner; ++j)
                partner = torch::allclose(m.input[i], x[i] * m.lambda + x[j] * (1 - m.lambda), 1e-5, 1e-6) &&
                          torch::allclose(m.targets[i], onehot[i] * m.lambda + onehot[j] * (1 - m.lambda), 1e-5, 1e-6);
            QVERIFY(partner);
        }
        torch::manual_seed(7);
        QVERIFY(torch::equal(train::mixup(x, y, false, 4, 0.5).input, m.input)); // the seed decides
        // Soft targets that are one-hot give the index loss.
        const torch::Tensor logits = torch::randn({6, 4});
        QVERIFY(torch::allclose(train::loss_sum(logits, onehot, false), train::loss_sum(logits, y, false)));
        // A run with mixup trains to the end.
        store::RunStore s(db_);
        const int64_t id = s.create_run(0, tiny_config(R"(, "epochs": 1, "mixup": 0.4)"), 3);
        train::TrainControl control;
        const auto r = train::train_run(s, id, options(dir_), control);
        QCOMPARE(QString::fromStdString(store::to_string(r.status) + r.message), QStringLiteral("finished"));
    }

    void featureShapingAndSpecAugment() {
        auto c = experiments::parse_run_config(tiny_config());
        c.compression = "log";
        c.frames = 40;
        c.freq_mask = 20;
        c.time_mask = 10;
        auto m = train::build_model(c, 10);
        m->set_normalisation(0, 0.5); // identity, so a masked cell reads 0
        torch::manual_seed(1);
        const torch::Tensor wave = torch::randn({4, 1, int64_t(1.5 * m->extractor->sample_rate())}) * 0.1;
        torch::NoGradGuard no_grad;
        m->eval();
        const torch::Tensor raw = m->extractor->forward(wave);
        QVERIFY(raw.size(1) > 40); // cropped below
        const torch::Tensor shaped = m->shaped(wave);
        QCOMPARE(shaped.size(1), int64_t(40));
        QVERIFY(torch::allclose(shaped, raw.narrow(1, 0, 40).sign() * raw.narrow(1, 0, 40).abs().log1p()));
        QVERIFY(torch::equal(m->features(wave), shaped)); // eval: no masks
        // Training: per example one frequency band (< 20 bins) and one time band (< 10 frames) of zeros.
        m->train();
        int masked = 0;
        for (int draw = 0; draw < 5; ++draw) {
            const torch::Tensor f = m->features(wave);
            for (int64_t b = 0; b < f.size(0); ++b) {
                const int64_t zero_bins = (f[b].abs().sum(0) == 0).sum().item<int64_t>();
                const int64_t zero_frames = (f[b].abs().sum(1) == 0).sum().item<int64_t>();
                QVERIFY(zero_bins < 20 && zero_frames < 10);
                masked += zero_bins > 0;
            }
        }
        QVERIFY(masked > 0);
        // A longer frame count pads the end with zeros, as AST pads its fbank.
        c.frames = 400;
        c.freq_mask = c.time_mask = 0;
        auto padded = train::build_model(c, 10);
        padded->eval();
        const torch::Tensor p = padded->shaped(wave);
        QCOMPARE(p.size(1), int64_t(400));
        QCOMPARE(p.narrow(1, raw.size(1), 400 - raw.size(1)).abs().sum().item<double>(), 0.0);
    }

    void normalisationSampleSpansEveryClass() {
        // Catalogue order is class order: 10 classes x 60 clips, so the first 200 clips would be
        // four classes. The sample must hold all ten, evenly, and depend on the seed alone.
        std::vector<data::LoadItem> items;
        for (int k = 0; k < 10; ++k)
            for (int i = 0; i < 60; ++i) {
                data::LoadItem it;
                it.track_id = k * 100 + i;
                it.labels = {k};
                items.push_back(it);
            }
        const auto sample = train::normalisation_sample(items, 10, 200, 5);
        QCOMPARE(sample.size(), size_t(200));
        std::map<int, int> per_class;
        for (size_t i : sample) per_class[items[i].labels[0]]++;
        QCOMPARE(int(per_class.size()), 10);
        for (const auto& [k, n] : per_class) QCOMPARE(n, 20);
        QCOMPARE(train::normalisation_sample(items, 10, 200, 5), sample);
        QVERIFY(train::normalisation_sample(items, 10, 200, 6) != sample);
        // More classes than the budget: one clip of each still.
        const auto wide = train::normalisation_sample(items, 10, 4, 5);
        QCOMPARE(wide.size(), size_t(10));
    }

    void interruptedRunResumesToTheSameHistory() {
        QVERIFY(!reference_.empty());
        store::RunStore s(db_);
        const int64_t id = s.create_run(0, tiny_config(), 3);
        const auto first = interrupt_mid_epoch_two(s, id);
        QCOMPARE(QString::fromLatin1(store::to_string(first.status)), QStringLiteral("interrupted"));
        QCOMPARE(first.step, int64_t(14));
        QCOMPARE(QString::fromLatin1(store::to_string(s.run(id)->status)), QStringLiteral("interrupted"));
        train::TrainControl fresh;
        const auto second = train::train_run(s, id, options(dir_), fresh);
        QCOMPARE(QString::fromStdString(store::to_string(second.status) + second.message), QStringLiteral("finished"));
        compare_histories(history(s, id), reference_);
    }

    void aDamagedCheckpointFallsBackToThePreviousOne() {
        QVERIFY(!reference_.empty());
        store::RunStore s(db_);
        const int64_t id = s.create_run(0, tiny_config(), 3);
        QCOMPARE(interrupt_mid_epoch_two(s, id).status, store::RunStatus::Interrupted);
        // The stop's checkpoint is the newest; the end of epoch 1 is kept beside it. A bit flips
        // in the newest one's data (the header still parses).
        const store::RunPaths paths = store::run_paths(s.path(), *s.run(id), options(dir_).checkpoint_dir);
        const std::string prev = train::previous_checkpoint(paths.last);
        QVERIFY(std::filesystem::exists(prev));
        {
            QFile f(QString::fromStdString(paths.last));
            QVERIFY(f.open(QIODevice::ReadWrite));
            f.seek(f.size() - 100);
            char byte = 0;
            f.getChar(&byte);
            f.seek(f.size() - 100);
            f.putChar(char(byte ^ 0x10));
        }
        std::string notes;
        train::TrainCallbacks told;
        told.on_status = [&](store::RunStatus st, const std::string& m) {
            if (st == store::RunStatus::Running) notes = m;
        };
        train::TrainControl fresh;
        const auto second = train::train_run(s, id, options(dir_), fresh, told);
        QCOMPARE(QString::fromStdString(store::to_string(second.status) + second.message), QStringLiteral("finished"));
        QVERIFY2(notes.find("resumed from " + prev + " (epoch 1, step 8)") != std::string::npos &&
                     notes.find("do not match the checksum") != std::string::npos,
                 notes.c_str());
        compare_histories(history(s, id), reference_); // epoch 2 again, to the same end
    }

    void pausedRunContinuesUnchanged() {
        store::RunStore s(db_);
        const int64_t id = s.create_run(0, tiny_config(), 3);
        train::TrainControl control;
        train::TrainCallbacks cb;
        std::vector<std::string> statuses;
        std::thread resumer;
        cb.on_step = [&](const train::StepProgress& p) {
            if (p.step == 4) control.request(train::TrainControl::Pause);
        };
        cb.on_status = [&](store::RunStatus st, const std::string&) {
            const std::string status = store::to_string(st);
            statuses.push_back(status);
            if (status == "paused") {
                QCOMPARE(QString::fromLatin1(store::to_string(store::RunStore(db_).run(id)->status)), QStringLiteral("paused"));
                resumer = std::thread([&] {
                    std::this_thread::sleep_for(std::chrono::milliseconds(200));
                    control.resume();
                });
            }
        };
        const auto r = train::train_run(s, id, options(dir_), control, cb);
        resumer.join();
        QCOMPARE(QString::fromLatin1(store::to_string(r.status)), QStringLiteral("finished"));
        QCOMPARE(int(std::count(statuses.begin(), statuses.end(), "paused")), 1);
        compare_histories(history(s, id), reference_);
    }

    void nonFiniteLossStopsAsDiverged() {
        store::RunStore s(db_);
        // Adam moves every weight by ~lr per step: at 1e30 the attention scores overflow fp32.
        const int64_t id = s.create_run(0, tiny_config(R"(, "lr": 1e30, "warmup_steps": 0)"), 3);
        train::TrainControl control;
        const auto r = train::train_run(s, id, options(dir_), control);
        QCOMPARE(QString::fromLatin1(store::to_string(r.status)), QStringLiteral("diverged"));
        QVERIFY2(r.message.find("NaN") != std::string::npos || r.message.find("infinite") != std::string::npos,
                 r.message.c_str());
        QVERIFY(r.step >= 1 && r.step < 10);
        const auto rec = s.run(id);
        QCOMPARE(QString::fromLatin1(store::to_string(rec->status)), QStringLiteral("diverged"));
        QVERIFY(QString::fromStdString(rec->error).contains(QStringLiteral("step %1").arg(r.step + 1)));
        int losses = 0;
        for (const auto& m : s.metrics(id)) {
            QVERIFY(m.step <= r.step);
            losses += m.name == "loss";
        }
        QCOMPARE(int64_t(losses), r.step); // every good step's loss is kept
    }

    void cancelFromAnotherConnection() {
        store::RunStore s(db_);
        const int64_t id = s.create_run(0, tiny_config(R"(, "epochs": 50)"), 3);
        train::TrainControl control;
        train::TrainCallbacks cb;
        cb.on_step = [&](const train::StepProgress& p) {
            if (p.step == 3) store::RunStore(db_).set_run_control(id, store::RunControl::Cancel); // as gafx cancel does
        };
        const auto r = train::train_run(s, id, options(dir_), control, cb);
        QCOMPARE(QString::fromLatin1(store::to_string(r.status)), QStringLiteral("cancelled"));
        QVERIFY(r.step < 100);
        QCOMPARE(QString::fromLatin1(store::to_string(s.run(id)->status)), QStringLiteral("cancelled"));
    }

    void missingAudioFailsNamingTheFile() {
        QTemporaryDir other;
        const std::string db = test::make_demo_workspace(other.path(), 5, 4.0);
        const QString victim = other.path() + "/audio/rock/rock.00002.wav";
        QVERIFY(QFile::remove(victim));
        store::RunStore s(db);
        const int64_t id = s.create_run(0, tiny_config(R"(, "epochs": 1)"), 3);
        train::TrainControl control;
        const auto r = train::train_run(s, id, options(other), control);
        QCOMPARE(QString::fromLatin1(store::to_string(r.status)), QStringLiteral("failed"));
        QVERIFY2(r.message.find("rock.00002.wav") != std::string::npos, r.message.c_str());
        QCOMPARE(QString::fromLatin1(store::to_string(s.run(id)->status)), QStringLiteral("failed"));
    }

    void pretrainOnAudioSetThenFineTune() {
        // Multi-label pretraining (BCE, mAP) on the AudioSet demo, then GTZAN fine-tuning from
        // that run's best weights: a new 10-class head, positional grid resized 2 s -> 1.5 s.
        QTemporaryDir as;
        data::AudioSetDemoOptions ao;
        ao.clips = 24;
        ao.seconds = 2.0;
        data::write_audioset_demo(as.path().toStdString(), ao);
        data::AudioSetOptions io;
        io.name = "as";
        data::Catalog catalog = data::import_audioset(as.path().toStdString(), io);
        store::RunStore s(db_);
        const int64_t ds = s.save_catalog(catalog);
        s.save_split(ds, catalog, data::make_split(catalog, data::SplitOptions{}));
        const int64_t pre = s.create_run(0, R"({"dataset": "as", "extractor": "mel", "classifier": "ast-tiny",
            "preset": "small", "augmentation": false, "track_seconds": 2, "epochs": 2, "batch_size": 4,
            "lr": 0.0005, "warmup_steps": 2, "precision": "fp32"})", 0);
        train::TrainControl control;
        QCOMPARE(QString::fromLatin1(store::to_string(train::train_run(s, pre, options(dir_), control).status)), QStringLiteral("finished"));
        int maps = 0;
        for (const auto& m : s.metrics(pre)) {
            if (m.name != "map") continue;
            ++maps;
            QVERIFY(m.value > 0 && m.value <= 1);
        }
        QCOMPARE(maps, 4); // 2 epochs x (val, test)

        const int64_t ft = s.create_run(0, tiny_config(R"(, "epochs": 1, "pretraining": "run", "pretrained_run": )" +
                                                       std::to_string(pre)),
                                        3);
        std::string note;
        train::TrainCallbacks cb;
        cb.on_status = [&](store::RunStatus status, const std::string& message) {
            if (status == store::RunStatus::Running) note = message;
        };
        QCOMPARE(QString::fromLatin1(store::to_string(train::train_run(s, ft, options(dir_), control, cb).status)), QStringLiteral("finished"));
        QVERIFY2(note.find("new 10-class head") != std::string::npos, note.c_str());
        QVERIFY2(note.find("positional grid resized") != std::string::npos, note.c_str());
        // The first step's loss from scratch is the reference run's: pretraining changed it.
        QCOMPARE(QString::fromStdString(s.metrics(ft).front().name), QStringLiteral("loss"));
        QVERIFY(s.metrics(ft).front().value != reference_.front().value);
    }

    void unknownDatasetFails() {
        store::RunStore s(db_);
        const int64_t id = s.create_run(0, R"({"dataset": "nowhere"})", 0);
        train::TrainControl control;
        const auto r = train::train_run(s, id, options(dir_), control);
        QCOMPARE(QString::fromLatin1(store::to_string(r.status)), QStringLiteral("failed"));
        QVERIFY2(r.message.find("nowhere") != std::string::npos, r.message.c_str());
    }

    void aSecondTrainerIsRefusedAndTouchesNothing() {
        // Two `gafx resume N` at once: the claim is one conditional UPDATE, so one of them trains.
        store::RunStore s(db_);
        const int64_t id = s.create_run(0, tiny_config(R"(, "epochs": 1)"), 3);
        train::TrainControl control;
        train::RunResult second;
        size_t rows_then = 0;
        train::TrainCallbacks cb;
        cb.on_step = [&](const train::StepProgress& p) {
            if (p.step != 2) return;
            store::RunStore other(db_);
            rows_then = other.metrics(id).size();
            train::TrainControl c2;
            second = train::train_run(other, id, options(dir_), c2);
            QCOMPARE(other.metrics(id).size(), rows_then); // its metrics were not cut back
        };
        const auto first = train::train_run(s, id, options(dir_), control, cb);
        QCOMPARE(QString::fromLatin1(store::to_string(first.status)), QStringLiteral("finished"));
        QVERIFY(second.refused);
        QCOMPARE(second.status, store::RunStatus::Running);
        QVERIFY2(second.message.find("already being trained by pid " + std::to_string(::getpid())) != std::string::npos,
                 second.message.c_str());
        QCOMPARE(QString::fromLatin1(store::to_string(s.run(id)->status)), QStringLiteral("finished"));
        // And at the store: a running run cannot be claimed again; a finished one can.
        QVERIFY(s.claim_run(id, "x", 1, "h"));
        QVERIFY(!s.claim_run(id, "y", 2, "h"));
        QCOMPARE(s.run(id)->owner, std::string("x"));
        s.set_run_status(id, store::RunStatus::Finished);
    }

    void anotherWorkspacesCheckpointIsNeverAdopted() {
        // a.db and b.db in one folder, each with its run 1, both with runs/ beside them.
        QTemporaryDir dir;
        const std::string a = test::make_demo_workspace(dir.path(), 5, 4.0);
        const std::string b = (dir.path() + "/b.db").toStdString();
        std::filesystem::copy_file(a, b);
        train::TrainOptions o = options(dir);
        o.checkpoint_dir.clear(); // the default: runs/ beside the database
        store::RunStore sa(a), sb(b);
        const int64_t ra = sa.create_run(0, tiny_config(R"(, "epochs": 1)"), 3);
        const int64_t rb = sb.create_run(0, tiny_config(R"(, "epochs": 1)"), 3);
        QCOMPARE(ra, rb);
        train::TrainControl control;
        QCOMPARE(train::train_run(sa, ra, o, control).status, store::RunStatus::Finished);
        const auto pa = store::run_paths(sa.path(), *sa.run(ra)), pb = store::run_paths(sb.path(), *sb.run(rb));
        QVERIFY(pa.dir != pb.dir);
        // b's run trains itself rather than adopting a's finished checkpoint.
        const auto r = train::train_run(sb, rb, o, control);
        QCOMPARE(QString::fromStdString(store::to_string(r.status) + r.message), QStringLiteral("finished"));
        QCOMPARE(r.epochs_done, 1);
        QVERIFY(!std::isnan(sb.run(rb)->test_track_accuracy));
        // A checkpoint of a's run put in b's folder by hand is refused, naming whose it is.
        const int64_t rb2 = sb.create_run(0, tiny_config(R"(, "epochs": 1)"), 3);
        const auto pb2 = store::run_paths(sb.path(), *sb.run(rb2));
        std::filesystem::create_directories(pb2.dir);
        std::filesystem::copy_file(pa.last, pb2.last);
        const auto refused = train::train_run(sb, rb2, o, control);
        QCOMPARE(refused.status, store::RunStatus::Failed);
        QVERIFY2(refused.message.find("belongs to another run (uid " + sa.run(ra)->uid + ")") != std::string::npos,
                 refused.message.c_str());
    }

    void aSuspendedTrainerKeepsItsRun() {
        // A heartbeat hours old, but its process (this one) alive: a suspended laptop, not a dead run.
        store::RunStore s(db_);
        const int64_t id = s.create_run(0, tiny_config(), 3);
        const std::string host = train::host_name();
        QVERIFY(s.claim_run(id, train::owner_token(), ::getpid(), host));
        const auto age = [&] {
            store::Db raw(db_);
            raw.exec("UPDATE runs SET heartbeat_at='2000-01-01T00:00:00Z' WHERE id=" + std::to_string(id));
        };
        age();
        QVERIFY(train::mark_dead_runs_interrupted(s, 120).empty());
        QCOMPARE(s.run(id)->status, store::RunStatus::Running);
        // The same pid with another start time is another process that reused the pid.
        std::string token = train::owner_token();
        const size_t b = token.rfind(':'), st = token.rfind(':', b - 1);
        token.replace(st + 1, b - st - 1, "1");
        s.set_run_status(id, store::RunStatus::Interrupted);
        QVERIFY(s.claim_run(id, token, ::getpid(), host));
        age();
        QCOMPARE(train::mark_dead_runs_interrupted(s, 120), std::vector<int64_t>{id});
        QCOMPARE(s.run(id)->status, store::RunStatus::Interrupted);
    }

    void aFullDiskKeepsTheCheckpointAndEveryMetric() {
        // A file size limit (RLIMIT_FSIZE: no root needed) set after epoch 1's checkpoint makes
        // the next one fail as a full disk would: the run fails naming the file and the fix, the
        // earlier checkpoint and every committed metric stay, and once the limit is lifted the
        // resumed run ends with the uninterrupted history.
        QVERIFY(!reference_.empty());
        QTemporaryDir dir;
        const std::string db = test::make_demo_workspace(dir.path(), 5, 4.0);
        store::RunStore s(db);
        const int64_t id = s.create_run(0, tiny_config(), 3);
        const auto sigxfsz = std::signal(SIGXFSZ, SIG_IGN);
        rlimit original{};
        QCOMPARE(::getrlimit(RLIMIT_FSIZE, &original), 0);
        const train::TrainOptions o = options(dir);
        train::TrainCallbacks cb;
        int64_t limit = 0;
        cb.on_epoch = [&](const train::EpochReport& r) {
            if (r.epoch != 1) return;
            const auto paths = store::run_paths(s.path(), *s.run(id), o.checkpoint_dir);
            limit = int64_t(std::filesystem::file_size(paths.last)) / 2;
            // The database's files stay below the limit: its WAL starts again from empty.
            store::Db(db).exec("PRAGMA wal_checkpoint(TRUNCATE)");
            qInfo("checkpoint %lld bytes, limit %lld", (long long)std::filesystem::file_size(paths.last), (long long)limit);
            rlimit lim = original;
            lim.rlim_cur = rlim_t(limit);
            ::setrlimit(RLIMIT_FSIZE, &lim);
        };
        train::TrainControl control;
        const auto failed = train::train_run(s, id, o, control, cb);
        ::setrlimit(RLIMIT_FSIZE, &original);
        std::signal(SIGXFSZ, sigxfsz);
        QVERIFY(limit > 0);
        QCOMPARE(QString::fromLatin1(store::to_string(failed.status)), QStringLiteral("failed"));
        QVERIFY2(failed.message.find(".safetensors") != std::string::npos &&
                     failed.message.find("size limit") != std::string::npos,
                 failed.message.c_str());
        // Every row of epoch 1 is there, as the uninterrupted run logged it.
        const auto kept = history(s, id);
        size_t epoch1 = 0;
        for (const auto& r : reference_) epoch1 += r.epoch <= 1;
        QVERIFY(kept.size() >= epoch1);
        for (size_t i = 0, j = 0; i < reference_.size(); ++i)
            if (reference_[i].epoch <= 1) {
                while (j < kept.size() && !(kept[j].step == reference_[i].step && kept[j].name == reference_[i].name &&
                                            kept[j].split == reference_[i].split))
                    ++j;
                QVERIFY2(j < kept.size() && kept[j].value == reference_[i].value, reference_[i].name.c_str());
            }
        train::TrainControl fresh;
        const auto resumed = train::train_run(s, id, o, fresh);
        QCOMPARE(QString::fromStdString(store::to_string(resumed.status) + resumed.message), QStringLiteral("finished"));
        compare_histories(history(s, id), reference_);
    }
};

QTEST_GUILESS_MAIN(TestTrainer)
#include "test_trainer.moc"
