#pragma once
// What test_trainer and test_trainer_recovery share: the tiny run they train (a demo workspace
// of 5 tracks a genre, 4 s each), its options, and comparing two runs' histories bit for bit.
// Two executables rather than one so that under the sanitizers (scripts/test-sanitize.sh),
// where training is ~10x slower, each stays well inside ctest's per-test limit and they run
// side by side.
#include "store/run_store.h"
#include "train/trainer.h"

#include <QTemporaryDir>
#include <QtTest>

#include <string>
#include <vector>

namespace gafx::test {

inline std::string tiny_config(const std::string& extra = {}) {
    return R"({"dataset": "tiny", "extractor": "mel", "classifier": "ast-tiny", "preset": "small",
               "track_seconds": 4, "clips_per_track": 2, "clip_seconds": 1.5, "epochs": 3, "batch_size": 8,
               "lr": 0.0005, "warmup_steps": 5, "lr_halving_epochs": [2], "precision": "fp32", "seed": 3)" +
           extra + "}";
}

inline train::TrainOptions options(const QTemporaryDir& dir) {
    train::TrainOptions o;
    o.threads = 1;
    o.loader_threads = 2;
    o.checkpoint_dir = (dir.path() + "/runs").toStdString();
    o.heartbeat_seconds = 0.05;
    return o;
}

inline std::vector<store::MetricRow> history(store::RunStore& s, int64_t run) {
    std::vector<store::MetricRow> out;
    for (auto& r : s.metrics(run))
        if (r.split != "time") out.push_back(r); // timings differ between identical runs
    return out;
}

inline void compare_histories(const std::vector<store::MetricRow>& a, const std::vector<store::MetricRow>& b) {
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


// Trains `id` until step 14 (mid epoch 2) and stops it there as Ctrl-C would.
inline train::RunResult interrupt_mid_epoch_two(store::RunStore& s, int64_t id, const QTemporaryDir& dir) {
    train::TrainControl control;
    train::TrainCallbacks cb;
    cb.on_step = [&](const train::StepProgress& p) {
        if (p.step == 14) control.request(train::TrainControl::Interrupt);
    };
    return train::train_run(s, id, options(dir), control, cb);
}

} // namespace gafx::test
