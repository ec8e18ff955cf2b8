#include "args.h"
#include "commands.h"
#include "train_console.h"

#include "core/error.h"
#include "experiments/experiment.h"
#include "experiments/queue.h"
#include "experiments/shard.h"
#include "store/run_store.h"
#include "workflows/queue_file.h"

#include <cstdio>
#include <tuple>

namespace gafx::cli {

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
                    "                            stay in one part. The same on every machine: it depends on the files only\n%s",
                    kTrainFlagsHelp);
        return 0;
    }
    std::set<std::string> valued = train_flag_names();
    valued.insert("--shard");
    Args a(argv, valued, {"--dry-run"});
    a.expect_positional(1, "EXPERIMENT.json");
    const TrainFlags flags = train_flags(a);
    const std::string file = a.positional()[0];
    workflows::Shard shard;
    if (const auto s = a.get("--shard")) std::tie(shard.index, shard.count) = experiments::parse_shard(*s);

    if (a.has("--dry-run") && shard.count > 1) {
        const auto files = workflows::read_files(file);
        std::vector<experiments::Experiment> exs;
        size_t total = 0;
        for (const auto& f : files) {
            exs.push_back(f.experiment);
            total += f.experiment.runs.size();
        }
        const auto part = experiments::shard_runs(exs, shard.index, shard.count);
        std::printf("shard %d/%d: %zu run(s) of %zu\n", shard.index + 1, shard.count, part.size(), total);
        for (const auto& ref : part)
            std::printf("%s run %zu of %zu: %s\n", exs[ref.file].name.c_str(), ref.run + 1, exs[ref.file].runs.size(),
                        experiments::describe(exs[ref.file].runs[ref.run], exs[ref.file].axes).c_str());
        return 0;
    }
    if (a.has("--dry-run")) {
        const auto ex = experiments::read_experiment(file);
        std::printf("%s: %zu run(s)\n", ex.name.c_str(), ex.runs.size());
        for (const auto& req : ex.requires) std::printf("requires %s (queued first unless already trained)\n", req.c_str());
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

    int failed = 0;
    for (size_t i = 0; i < items.size(); ++i) {
        if (console_interrupted()) break;
        const std::string label = "run " + std::to_string(items[i].id) + " (" + std::to_string(i + 1) + "/" +
                                  std::to_string(items.size()) + ")";
        std::fprintf(stderr, "%s: %s\n", label.c_str(), items[i].factors.c_str());
        const auto res = run_in_console(db, items[i].id, label, flags);
        if (!print_run_outcome(db, items[i].id, res)) ++failed;
    }
    if (console_interrupted())
        std::fprintf(stderr, "stopped by Ctrl-C; queued runs wait for gafx resume RUN\n");
    return failed || console_interrupted() ? 1 : 0;
}

} // namespace gafx::cli
