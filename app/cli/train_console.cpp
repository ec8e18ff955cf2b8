#include "train_console.h"

#include "args.h"
#include "progress_line.h"

#include "data/waveform_cache.h"
#include "store/run_store.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>

namespace gafx::cli {
namespace {

std::atomic<train::TrainControl*> g_control{nullptr};
std::atomic<bool> g_interrupted{false};

extern "C" void on_signal(int sig) {
    if (g_interrupted.exchange(true)) {
        std::signal(sig, SIG_DFL);
        std::raise(sig);
        return;
    }
    if (auto* c = g_control.load()) c->request(train::TrainControl::Interrupt);
}

std::string duration(double s) {
    char buf[32];
    const long t = long(s + 0.5);
    if (t >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
    return buf;
}

} // namespace

const char* kTrainFlagsHelp =
    "  --device cpu|cuda[:N]     where to train (default cpu)\n"
    "  --threads N               torch threads (default: one per core; results are reproducible for\n"
    "                            the same config, seed and thread count)\n"
    "  --loader-threads N        audio decode workers (default 2)\n"
    "  --checkpoint-minutes M    a mid-epoch checkpoint this often (default 10; one per epoch anyway)\n"
    "  --cache DIR|none          decoded-waveform cache (default ~/.cache/gafx/waveforms)\n"
    "  --db FILE                 the workspace database\n";

const std::set<std::string>& train_flag_names() {
    static const std::set<std::string> n = {"--device", "--threads", "--loader-threads", "--checkpoint-minutes",
                                            "--cache", "--db"};
    return n;
}

TrainFlags train_flags(const Args& a) {
    TrainFlags f;
    f.options.device = a.get_or("--device", "cpu");
    f.options.threads = int(a.get_int("--threads", 0));
    f.options.loader_threads = int(a.get_int("--loader-threads", 2));
    f.options.checkpoint_seconds = a.get_double("--checkpoint-minutes", 10.0) * 60.0;
    f.cache_dir = a.get_or("--cache", data::WaveformCache::default_dir());
    if (f.cache_dir == "none") f.cache_dir.clear();
    if (f.options.threads < 0 || f.options.loader_threads < 1) throw UsageError("--threads >= 0, --loader-threads >= 1");
    return f;
}

bool console_interrupted() { return g_interrupted.load(); }

void catch_stop_signals() {
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
}

train::RunResult run_in_console(store::RunStore& store, int64_t run_id, const std::string& label,
                                const TrainFlags& flags) {
    train::TrainOptions options = flags.options;
    std::unique_ptr<data::WaveformCache> cache;
    if (!flags.cache_dir.empty()) cache = std::make_unique<data::WaveformCache>(flags.cache_dir);
    options.cache = cache.get();

    train::TrainControl control;
    g_control.store(&control);
    if (g_interrupted.load()) control.request(train::TrainControl::Interrupt);
    auto old_int = std::signal(SIGINT, on_signal);
    auto old_term = std::signal(SIGTERM, on_signal);

    ProgressLine progress(label);
    train::TrainCallbacks cb;
    cb.on_status = [&](store::RunStatus status, const std::string& message) {
        progress.finish();
        using store::RunStatus;
        if (status == RunStatus::Running && !message.empty())
            std::fprintf(stderr, "%s: %s\n", label.c_str(), message.c_str());
        else if (status != RunStatus::Running && status != RunStatus::Finished)
            std::fprintf(stderr, "%s: %s%s%s\n", label.c_str(), store::to_string(status), message.empty() ? "" : ": ",
                         message.c_str());
    };
    cb.on_step = [&](const train::StepProgress& p) {
        char item[160];
        std::snprintf(item, sizeof item, "epoch %d/%d loss %.4f lr %.2g %.1f clips/s ETA %s", p.epoch, p.epochs,
                      p.loss, p.lr, p.clips_per_second, duration(p.eta_seconds).c_str());
        progress.update(p.step, p.total_steps, item);
    };
    cb.on_epoch = [&](const train::EpochReport& r) {
        progress.finish();
        char val_map[32] = "", test_map[32] = "";
        if (r.multi_label) {
            std::snprintf(val_map, sizeof val_map, " mAP %.3f", r.val.map);
            std::snprintf(test_map, sizeof test_map, " mAP %.3f", r.test.map);
        }
        std::fprintf(stderr,
                     "%s: epoch %d: train loss %.4f acc %.3f | val loss %.4f track acc %.3f%s%s | test loss %.4f "
                     "clip acc %.3f track acc %.3f%s | %s, data wait %.1f%%\n",
                     label.c_str(), r.epoch, r.train_loss, r.train_accuracy, r.val.loss, r.val.track_accuracy, val_map,
                     r.best ? " (best on val)" : "", r.test.loss, r.test.accuracy, r.test.track_accuracy, test_map,
                     duration(r.seconds).c_str(), r.seconds > 0 ? 100.0 * r.data_wait_seconds / r.seconds : 0.0);
    };
    const train::RunResult result = train::train_run(store, run_id, options, control, cb);
    progress.finish();
    g_control.store(nullptr);
    std::signal(SIGINT, old_int);
    std::signal(SIGTERM, old_term);
    return result;
}

bool print_run_outcome(store::RunStore& store, int64_t run_id, const train::RunResult& result) {
    const bool finished = result.status == store::RunStatus::Finished;
    const auto rec = store.run(run_id);
    if (finished && rec)
        std::printf("run %lld finished: test track accuracy %.4f at epoch %lld (selected on val, %.4f); "
                    "last epoch %.4f\n",
                    (long long)run_id, rec->test_track_accuracy, (long long)rec->selected_epoch, rec->val_score,
                    rec->final_test_track_accuracy);
    else
        std::printf("run %lld %s: %s\n", (long long)run_id, store::to_string(result.status), result.message.c_str());
    return finished;
}

} // namespace gafx::cli
