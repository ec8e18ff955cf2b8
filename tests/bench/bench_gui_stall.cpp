// How long the workbench's event loop stalls while a run trains. Builds the real main window
// offscreen on a temporary workspace with the tiny demo dataset, trains a tiny run with the
// Training page shown for the first half of its steps and the Runs page (the run selected, so
// its curves reload each epoch) for the second, and probes the event loop with a 5 ms timer:
// a stall is how much later than its interval a tick arrives. Target: max < 50 ms. It also
// prints how much of each gap the GUI thread itself was running, since on a loaded machine the
// trainer's threads can hold the CPU however little the GUI does.
// With --workspace FILE (a big one, as bench_runs_scale --db keeps) the run trains among that
// file's runs, with a dataset "stall-<pid>" added to it: the stall a researcher sees at 10 000 runs.
// Usage: bench_gui_stall [--epochs N] [--threads N (trainer; 0: one per core)] [--tracks N]
//                        [--workspace FILE (gains the dataset and one run)]
#include "core/cpu_tuning.h"
#include "main_window.h"
#include "training_worker.h"

#include "curve_plot.h"
#include "runs_view.h"
#include "training_view.h"

#include "store/run_store.h"
#include "test_support.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <time.h>

using namespace gafx;

namespace {

double thread_cpu_ms() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) * 1e3 + double(t.tv_nsec) / 1e6;
}

// Times every event the GUI thread delivers, so the slowest can be named: a queued slot arrives as
// a MetaCall event to its receiver (a QFutureWatcher's: named by its parent).
class TimedApp : public QApplication {
public:
    using QApplication::QApplication;
    bool recording = false;
    int64_t ticks = 0; // the probe's
    struct Slow {
        double ms;
        std::string what;
    };
    std::vector<Slow> slowest; // the worst 5, worst first

    bool notify(QObject* receiver, QEvent* event) override {
        if (!recording) return QApplication::notify(receiver, event);
        // The thread's CPU time, not the wall clock: preemption by the trainer's threads is not
        // the handler's doing.
        const double cpu_before = thread_cpu_ms();
        const int type = int(event->type());
        const int64_t ticks_before = ticks;
        const bool done = QApplication::notify(receiver, event);
        const double ms = thread_cpu_ms() - cpu_before;
        // An event whose handler ran an event loop (the probe ticked inside it) stalled nothing.
        if (ticks == ticks_before && ms > 5 && (slowest.size() < 5 || ms > slowest.back().ms)) {
            std::string what = receiver->metaObject()->className();
            if (!receiver->objectName().isEmpty()) what += " '" + receiver->objectName().toStdString() + "'";
            if (receiver->parent()) what += std::string(" in ") + receiver->parent()->metaObject()->className();
            what += " (event " + std::to_string(type) + ")";
            slowest.push_back({ms, what});
            std::sort(slowest.begin(), slowest.end(), [](const Slow& a, const Slow& b) { return a.ms > b.ms; });
            if (slowest.size() > 5) slowest.pop_back();
        }
        return done;
    }
};

} // namespace

int main(int argc, char** argv) {
    gafx::tune_cpu_runtime(argv); // measure the process as gafx-workbench and gafx run it
    int epochs = 4, threads = 0, tracks = 5;
    std::string workspace;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--epochs") && i + 1 < argc) epochs = std::max(1, std::atoi(argv[++i]));
        else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::max(0, std::atoi(argv[++i]));
        else if (!std::strcmp(argv[i], "--tracks") && i + 1 < argc) tracks = std::max(2, std::atoi(argv[++i]));
        else if (!std::strcmp(argv[i], "--workspace") && i + 1 < argc) workspace = argv[++i];
        else {
            std::fprintf(stderr, "usage: %s [--epochs N] [--threads N] [--tracks N] [--workspace FILE]\n", argv[0]);
            return 2;
        }
    }
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    TimedApp app(argc, argv);
    QStandardPaths::setTestModeEnabled(true); // leave the user's settings alone
    QTemporaryDir dir;
    const std::string dataset = workspace.empty() ? "tiny" : "stall-" + std::to_string(QCoreApplication::applicationPid());
    const std::string db = workspace.empty() ? test::make_demo_workspace(dir.path(), tracks, 4.0) : workspace;
    if (!workspace.empty()) test::add_demo_dataset(db, dir.path(), tracks, 4.0, dataset);
    const std::string config =
        R"({"dataset": ")" + dataset + R"(", "extractor": "mel", "classifier": "ast-tiny", "preset": "small", "track_seconds": 4,
            "clips_per_track": 2, "clip_seconds": 1.5, "epochs": )" +
        std::to_string(epochs) +
        R"(, "batch_size": 8, "lr": 0.0005, "warmup_steps": 5, "lr_halving_epochs": [2], "precision": "fp32", "seed": 3})";
    const int64_t run = store::RunStore(db).create_run(0, config, 3);
    const size_t listed = store::RunStore(db).list_runs().size();

    QElapsedTimer opening;
    opening.start();
    app::MainWindow w(QString::fromStdString(db));
    w.resize(1400, 900);
    w.show();
    QApplication::processEvents();
    const double open_ms = double(opening.nsecsElapsed()) / 1e6;
    w.tabs()->setCurrentIndex(app::TrainingPage);
    auto* training = qobject_cast<widgets::TrainingView*>(w.page(app::TrainingPage));
    auto* runs = qobject_cast<widgets::RunsView*>(w.page(app::RunsPage));
    train::TrainOptions options;
    options.threads = threads;
    options.checkpoint_dir = (dir.path() + "/runs").toStdString();
    w.trainer()->set_options(options);

    int steps = 0, epochs_seen = 0;
    int64_t total_steps = 0;
    bool switched = false;
    // `&w` as context: the handlers run queued on the GUI thread, as the pages' do.
    QObject::connect(w.trainer(), &app::TrainingWorker::stepProgress, &w, [&](qint64, const train::StepProgress& p) {
        ++steps;
        total_steps = p.total_steps;
        if (!switched && p.step * 2 >= p.total_steps) { // second half on the Runs page
            switched = true;
            w.tabs()->setCurrentIndex(app::RunsPage);
            runs->select_runs({run});
        }
    });
    QObject::connect(w.trainer(), &app::TrainingWorker::epochDone, &w, [&] { ++epochs_seen; });
    QString status;
    QObject::connect(w.trainer(), &app::TrainingWorker::runFinished, &w, [&](qint64, gafx::store::RunStatus st, const QString& m) {
        const QString s = QString::fromLatin1(gafx::store::to_string(st));
        status = m.isEmpty() ? s : s + ": " + m;
        app.quit();
    });

    std::vector<double> stalls; // ms beyond the interval, one per tick while training
    QElapsedTimer clock;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(5);
    // The GUI thread's own CPU time between ticks tells its work (a slow handler, a redraw)
    // from time the scheduler gave to the trainer's threads (a loaded machine).
    std::vector<double> busy; // ms of GUI-thread CPU between ticks
    qint64 last = 0;
    double last_cpu = thread_cpu_ms();
    double worst = -1, worst_at = 0, worst_busy = 0;
    int worst_step = 0;
    bool worst_on_runs = false;
    QObject::connect(&probe, &QTimer::timeout, [&] {
        ++app.ticks;
        const qint64 now = clock.nsecsElapsed();
        const double cpu = thread_cpu_ms();
        const double stall = std::max(0.0, double(now - last) / 1e6 - 5.0);
        stalls.push_back(stall);
        busy.push_back(cpu - last_cpu);
        if (stall > worst) { // where it happened
            worst = stall;
            worst_at = double(now) / 1e9;
            worst_step = steps;
            worst_on_runs = switched;
            worst_busy = cpu - last_cpu;
        }
        last = now;
        last_cpu = cpu;
    });
    QTimer::singleShot(0, [&] {
        app.recording = true;
        clock.start();
        probe.start();
        w.trainer()->enqueue({run});
    });
    QElapsedTimer wall;
    wall.start();
    app.exec();
    probe.stop();

    std::sort(stalls.begin(), stalls.end());
    const auto pct = [&](double q) { return stalls.empty() ? 0.0 : stalls[size_t(q * double(stalls.size() - 1))]; };
    std::printf("bench_gui_stall: run %lld %s, %d epochs, %lld steps, trainer threads %s, %.1f s, %zu runs in %s\n",
                (long long)run, status.toUtf8().constData(), epochs, (long long)total_steps,
                threads ? std::to_string(threads).c_str() : "one per core", double(wall.elapsed()) / 1000.0, listed,
                db.c_str());
    std::printf("workbench window open (every page built, the runs listed) and shown: %.0f ms (target < 2000 ms)\n",
                open_ms);
    std::printf("step updates received: %d, epoch reports: %d, loss plot redraws: %d\n", steps, epochs_seen,
                training->loss_plot()->replots());
    std::printf("event-loop stall beyond the 5 ms probe: max %.1f ms, p99 %.1f ms, p50 %.2f ms over %zu ticks "
                "(target: max < 50 ms)\n",
                stalls.empty() ? 0.0 : stalls.back(), pct(0.99), pct(0.5), stalls.size());
    std::printf("worst stall at %.2f s, after %d step updates, with the %s page shown; the GUI thread ran %.1f ms of it\n",
                worst_at, worst_step, worst_on_runs ? "Runs" : "Training", worst_busy);
    std::sort(busy.begin(), busy.end());
    std::printf("GUI-thread CPU between ticks (its own work, whatever the machine's load): max %.1f ms, p99 %.1f ms\n",
                busy.empty() ? 0.0 : busy.back(), busy.empty() ? 0.0 : busy[size_t(0.99 * double(busy.size() - 1))]);
    std::printf("the GUI thread's costliest events, in its CPU time (nested ones counted in their parent too):\n");
    for (const auto& e : app.slowest) std::printf("  %7.1f ms  %s\n", e.ms, e.what.c_str());
    return status.startsWith(QLatin1String("finished")) ? 0 : 1;
}
