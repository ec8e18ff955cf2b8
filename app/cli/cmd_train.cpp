#include "args.h"
#include "commands.h"
#include "train_console.h"

#include "core/error.h"
#include "experiments/experiment.h"
#include "experiments/queue.h"
#include "experiments/shard.h"
#include "store/run_store.h"
#include "workflows/parallel_train.h"
#include "workflows/queue_file.h"

#include <algorithm>
#include <cstdio>
#include <thread>
#include <tuple>


namespace gafx::cli {
namespace {

std::vector<std::string> split_commas(const std::string& text) {
    std::vector<std::string> out;
    for (size_t start = 0;;) {
        const size_t end = text.find(',', start);
        if (end > start && start < text.size()) out.push_back(text.substr(start, end - start));
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return out;
}

// --parallel N / --devices: each queued run in its own `gafx resume` process, N at once.
int train_parallel(store::RunStore& db, const std::vector<int64_t>& ids, const Args& a, const TrainFlags& flags,
                   int parallel) {
    workflows::ParallelPlan plan;
    plan.exe = this_gafx();
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    if (const auto devices = a.get("--devices")) {
        const auto list = split_commas(*devices);
        if (list.empty()) throw UsageError("--devices cuda:0,cuda:1,...");
        plan.slots = workflows::device_slots(list, flags.options.threads > 0 ? flags.options.threads
                                                                             : std::max(1, cores / int(list.size())));
    } else {
        plan.slots = workflows::cpu_slots(parallel, cores);
        if (flags.options.threads > 0)
            for (auto& slot : plan.slots) slot = {"--threads", std::to_string(flags.options.threads)};
        plan.common = {"--device", flags.options.device};
    }
    const auto common = child_flags(db, flags);
    plan.common.insert(plan.common.end(), common.begin(), common.end());
    plan.runs = ids;
    plan.log_dir = child_log_dir(db);
    std::fprintf(stderr, "%zu run(s), %zu at a time, output in %s\n", ids.size(), plan.slots.size(), plan.log_dir.c_str());
    catch_stop_signals();
    int failed = 0;
    workflows::train_in_processes(
        db, plan,
        [&](const workflows::ParallelEvent& e) {
            using K = workflows::ParallelEvent::Kind;
            if (e.kind == K::Started) {
                std::string flags_shown;
                for (const auto& f : plan.slots[size_t(e.slot)]) flags_shown += " " + f;
                std::fprintf(stderr, "run %lld started (pid %d,%s): %s\n", (long long)e.run, int(e.pid),
                             flags_shown.c_str(), e.log.c_str());
            } else if (e.kind == K::NotStarted) {
                std::fprintf(stderr, "run %lld not started: %s\n", (long long)e.run, e.reason.c_str());
                ++failed;
            } else {
                // A process that died mid-run (killed, out of memory) leaves it running: interrupted now.
                train::mark_dead_runs_interrupted(db);
                train::RunResult res;
                const auto r = db.run(e.run);
                res.status = r ? r->status : store::RunStatus::Failed;
                res.message = r ? r->error : std::string("the run is gone");
                if (e.exit_code != 0)
                    res.message += (res.message.empty() ? "" : "; ") + std::string("its process ended with code ") +
                                   std::to_string(e.exit_code) + ", see " + e.log;
                if (!print_run_outcome(db, e.run, res)) ++failed;
            }
        },
        [] { return console_interrupted(); });
    if (console_interrupted()) std::fprintf(stderr, "stopped: runs not finished wait for gafx resume RUN\n");
    return failed || console_interrupted() ? 1 : 0;
}

} // namespace

int cmd_train(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        std::printf("usage: gafx train EXPERIMENT.json [--dry-run] [options]\n\n"
                    "queues one run per config of the experiment's grid and trains them one after another,\n"
                    "after the experiment files it \"requires\" (pretraining its runs name), when those have no\n"
                    "run queued, running or finished yet.\n"
                    "with a progress line on stderr. Ctrl-C stops cleanly: the current run is checkpointed and\n"
                    "marked interrupted (gafx resume RUN continues it), the rest stay queued.\n"
                    "Exit 0 when every run finished, 1 when any failed, diverged or was stopped.\n\n"
                    "  --dry-run                 list the runs the file expands to; change nothing\n"
                    "  --shard I/N               train only the I-th of N disjoint parts of the grid (with the files it\n"
                    "                            requires): one part per machine, each into its own workspace, merged\n"
                    "                            later with gafx runs import. A run and the pretraining it starts from\n"
                    "                            stay in one part. Parts are balanced by each run's estimated cost (its\n"
                    "                            models, epochs and clips; --dry-run shows the shares). The same on every\n"
                    "                            machine: it depends on the files only\n"
                    "  --parallel N              train N runs at once, one process each (gafx resume RUN), the cores\n"
                    "                            split among them (--threads: per process); output in logs/ beside the\n"
                    "                            workspace. The dearest runs start first; a run starts after the\n"
                    "                            pretraining run it starts from\n"
                    "  --devices D1,D2,...       one process per device at once (cuda:0,cuda:1); --threads per process\n"
                    "  --queue-only              queue the runs, print their ids, train nothing (then: gafx resume RUN,\n"
                    "                            e.g. in each rank that torchrun --no-python or srun starts)\n%s",
                    kTrainFlagsHelp);
        return 0;
    }
    std::set<std::string> valued = train_flag_names();
    valued.insert({"--shard", "--parallel", "--devices"});
    Args a(argv, valued, {"--dry-run", "--queue-only"});
    a.expect_positional(1, "EXPERIMENT.json");
    const TrainFlags flags = train_flags(a);
    const std::string file = a.positional()[0];
    workflows::Shard shard;
    if (const auto s = a.get("--shard")) std::tie(shard.index, shard.count) = experiments::parse_shard(*s);

    if (a.has("--dry-run") && shard.count > 1) {
        const auto exs = workflows::experiments_of(workflows::read_files(file));
        size_t total = 0;
        for (const auto& e : exs) total += e.runs.size();
        const auto plan = experiments::plan_shards(exs, shard.count);
        const auto& part = plan.parts[size_t(shard.index)];
        std::printf("shard %d/%d: %zu run(s) of %zu, %.1f %% of the grid's estimated cost (the largest part %.1f %%; "
                    "from each run's model, epochs and clips, not its dataset's size)\n",
                    shard.index + 1, shard.count, part.size(), total, plan.percent(plan.cost[size_t(shard.index)]),
                    plan.percent(*std::max_element(plan.cost.begin(), plan.cost.end())));
        for (const auto& ref : part)
            std::printf("%s run %zu of %zu: %s\n", exs[ref.file].name.c_str(), ref.run + 1, exs[ref.file].runs.size(),
                        experiments::describe(exs[ref.file].runs[ref.run], exs[ref.file].axes).c_str());
        return 0;
    }
    if (a.has("--dry-run")) {
        const auto ex = experiments::read_experiment(file);
        std::printf("%s: %zu run(s)\n", ex.name.c_str(), ex.runs.size());
        for (const auto& req : ex.required_files) std::printf("requires %s (queued first unless already trained)\n", req.c_str());
        for (size_t i = 0; i < ex.runs.size(); ++i) {
            const auto& r = ex.runs[i];
            std::printf("%3zu  dataset=%s %s\n", i + 1, r.dataset.c_str(),
                        experiments::describe(r, ex.axes).c_str());
        }
        try {
            experiments::check_weights(ex);
        } catch (const Error& e) {
            std::printf("weights missing: %s\n", e.detail().c_str());
        }
        return 0;
    }

    if (flags.options.world.world_size > 1 && !a.has("--queue-only"))
        throw UsageError("this process is rank " + std::to_string(flags.options.world.rank) + " of " +
                         std::to_string(flags.options.world.world_size) + " (" + flags.options.world.source +
                         "'s environment), and every rank would queue the grid again: queue it once with gafx train " +
                         file + " --queue-only, then start the ranks with gafx resume RUN");
    store::RunStore db(workspace_db(a));
    const auto queued = workflows::queue_file(db, file, shard);
    if (queued.empty()) {
        std::fprintf(stderr, "shard %d/%d of %s has no runs: the grid has fewer parts that must train together\n",
                     shard.index + 1, shard.count, file.c_str());
        return 0;
    }
    struct Item {
        int64_t id;
        std::string factors;
    };
    std::vector<Item> items;
    for (const auto& q : queued) {
        const auto& ids = q.queued.run_ids;
        std::fprintf(stderr, "%s: %zu run(s) queued (ids %lld-%lld) in %s\n", q.experiment.name.c_str(), ids.size(),
                     (long long)ids.front(), (long long)ids.back(), db.path().c_str());
        for (size_t i = 0; i < ids.size(); ++i)
            items.push_back({ids[i], q.experiment.name + ": " +
                                         (q.experiment.axes.empty() ? std::string("base config")
                                                                    : experiments::describe(q.experiment.runs[i],
                                                                                            q.experiment.axes))});
    }

    if (a.has("--queue-only")) {
        for (const auto& item : items) std::printf("%lld\t%s\n", (long long)item.id, item.factors.c_str());
        return 0;
    }
    const long long parallel = a.get_int("--parallel", 1);
    if (parallel < 1 || parallel > 256) throw UsageError("--parallel N with 1 <= N <= 256");
    if (flags.nproc > 1 && (parallel > 1 || a.has("--devices")))
        throw UsageError("--nproc trains one run at a time with N ranks; --parallel and --devices train several "
                         "runs at once: choose one");
    if (parallel > 1 || a.has("--devices")) {
        std::vector<int64_t> ids;
        for (const auto& item : items) ids.push_back(item.id);
        return train_parallel(db, ids, a, flags, int(parallel));
    }

    int failed = 0;
    for (size_t i = 0; i < items.size(); ++i) {
        if (console_interrupted()) break;
        const std::string label = "run " + std::to_string(items[i].id) + " (" + std::to_string(i + 1) + "/" +
                                  std::to_string(items.size()) + ")";
        std::fprintf(stderr, "%s: %s\n", label.c_str(), items[i].factors.c_str());
        if (flags.nproc > 1) {
            if (!train_with_ranks(db, items[i].id, flags)) ++failed;
            continue;
        }
        const auto res = run_in_console(db, items[i].id, label, flags);
        if (!print_run_outcome(db, items[i].id, res)) ++failed;
    }
    if (console_interrupted())
        std::fprintf(stderr, "stopped by Ctrl-C; queued runs wait for gafx resume RUN\n");
    return failed || console_interrupted() ? 1 : 0;
}

} // namespace gafx::cli
