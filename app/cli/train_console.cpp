#include "train_console.h"

#include "args.h"
#include "progress_line.h"

#include "data/waveform_cache.h"
#include "store/run_store.h"
#include "train/distributed.h"
#include "workflows/rank_launch.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>
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
    "  --device cpu|cuda[:N]     where to train (default: cuda where this build sees a GPU, else cpu)\n"
    "  --cuda-graph on|off       on a GPU, replay each full batch's step as one CUDA graph after 3 eager\n"
    "                            steps (default on; the run's notes say whether it was)\n"
    "  --threads N               torch and OpenBLAS threads (default: one per core; results are\n"
    "                            reproducible for the same config, seed and thread count)\n"
    "  --loader-threads N        audio decode workers (default 2)\n"
    "  --checkpoint-minutes M    a mid-epoch checkpoint this often (default 10; one per epoch anyway)\n"
    "  --cache DIR|none          decoded-waveform cache (default ~/.cache/gafx/waveforms)\n"
    "  --nproc N                 train each run with N data-parallel ranks on this machine (one process\n"
    "                            each, the cores split among them; batch_size stays the global batch).\n"
    "                            torchrun's and Slurm's environment (RANK, WORLD_SIZE, SLURM_PROCID, ...)\n"
    "                            make this process one rank of such a run\n"
    "  --backend auto|gloo|nccl  the ranks' c10d backend (default auto: NCCL for ranks on CUDA, one GPU\n"
    "                            each, where this gafx has it; else Gloo)\n"
    "  --db FILE                 the workspace database\n";

const std::set<std::string>& train_flag_names() {
    static const std::set<std::string> n = {"--device", "--threads", "--loader-threads", "--checkpoint-minutes",
                                            "--cache", "--db", "--nproc", "--backend", "--cuda-graph"};
    return n;
}

TrainFlags train_flags(const Args& a) {
    TrainFlags f;
    f.options.device = a.get_or("--device", train::default_device());
    f.options.threads = int(a.get_int("--threads", 0));
    f.options.loader_threads = int(a.get_int("--loader-threads", 2));
    f.options.checkpoint_seconds = a.get_double("--checkpoint-minutes", 10.0) * 60.0;
    const std::string graphs = a.get_or("--cuda-graph", "on");
    if (graphs != "on" && graphs != "off") throw UsageError("--cuda-graph on|off, not '" + graphs + "'");
    f.options.cuda_graphs = graphs == "on";
    f.cache_dir = a.get_or("--cache", data::WaveformCache::default_dir());
    if (f.cache_dir == "none") f.cache_dir.clear();
    if (f.options.threads < 0 || f.options.loader_threads < 1) throw UsageError("--threads >= 0, --loader-threads >= 1");
    f.options.world = train::world_from_env();
    f.nproc = int(a.get_int("--nproc", 1));
    if (f.nproc < 1 || f.nproc > 256) throw UsageError("--nproc N with 1 <= N <= 256");
    f.options.world.backend = a.get_or("--backend", "auto");
    if (f.nproc > 1 || f.options.world.world_size > 1)
        f.options.world.backend = train::resolve_backend(f.options.world.backend, f.options.device,
                                                         f.nproc > 1 ? f.nproc : f.options.world.local_world_size);
    if (f.nproc > 1 && f.options.world.world_size > 1)
        throw UsageError("--nproc starts ranks itself; this process is already rank " +
                         std::to_string(f.options.world.rank) + " of " + std::to_string(f.options.world.world_size) +
                         " (" + f.options.world.source + "'s environment)");
    return f;
}

bool console_interrupted() { return g_interrupted.load(); }

std::vector<std::string> child_flags(const store::RunStore& store, const TrainFlags& flags) {
    return {"--db", std::filesystem::absolute(store.path()).string(), "--cache",
            flags.cache_dir.empty() ? "none" : flags.cache_dir, "--loader-threads",
            std::to_string(flags.options.loader_threads), "--checkpoint-minutes",
            std::to_string(flags.options.checkpoint_seconds / 60.0), "--cuda-graph",
            flags.options.cuda_graphs ? "on" : "off"};
}

std::string child_log_dir(const store::RunStore& store) {
    return (std::filesystem::absolute(store.path()).parent_path() / "logs").string();
}

bool train_with_ranks(store::RunStore& store, int64_t run_id, const TrainFlags& flags) {
    workflows::RankPlan plan;
    plan.exe = this_gafx();
    plan.run = run_id;
    plan.nproc = flags.nproc;
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    const int threads = flags.options.threads > 0 ? flags.options.threads : std::max(1, cores / flags.nproc);
    plan.flags = child_flags(store, flags);
    plan.flags.insert(plan.flags.end(), {"--device", flags.options.device, "--threads", std::to_string(threads),
                                         "--backend", flags.options.world.backend});
    plan.log_dir = child_log_dir(store);
    std::fprintf(stderr, "run %lld: %d ranks (%s, %d threads each); ranks 1.. write to %s\n", (long long)run_id,
                 flags.nproc, flags.options.world.backend.c_str(), threads, plan.log_dir.c_str());
    catch_stop_signals();
    const auto exits = workflows::train_ranks(plan, [] { return console_interrupted(); });
    // Rank 0 killed mid-run leaves the run marked running: interrupted now.
    train::mark_dead_runs_interrupted(store);
    train::RunResult res;
    const auto r = store.run(run_id);
    res.status = r ? r->status : store::RunStatus::Failed;
    res.message = r ? r->error : std::string("the run is gone");
    // Exit 0 or 1: the rank ended by itself, and rank 0 printed the run's outcome on this
    // terminal. Anything else (killed, crashed) is named here with its log.
    bool abnormal = false;
    for (const auto& e : exits)
        if (e.exit_code != 0 && e.exit_code != 1) {
            abnormal = true;
            res.message += (res.message.empty() ? "" : "; ") + std::string("rank ") + std::to_string(e.rank) +
                           " ended with code " + std::to_string(e.exit_code) + (e.log.empty() ? "" : ", see " + e.log);
        }
    if (!abnormal) return res.status == store::RunStatus::Finished;
    return print_run_outcome(store, run_id, res);
}

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
