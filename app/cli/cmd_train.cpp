#include "args.h"
#include "commands.h"
#include "train_console.h"

#include "core/error.h"
#include "experiments/experiment.h"
#include "experiments/queue.h"
#include "store/run_store.h"

#include <cstdio>

namespace gafx::cli {

int cmd_train(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        std::printf("usage: gafx train EXPERIMENT.json [--dry-run] [options]\n\n"
                    "queues one run per config of the experiment's grid and trains them one after another,\n"
                    "with a progress line on stderr. Ctrl-C stops cleanly: the current run is checkpointed and\n"
                    "marked interrupted (gafx resume RUN continues it), the rest stay queued.\n"
                    "Exit 0 when every run finished, 1 when any failed, diverged or was stopped.\n\n"
                    "  --dry-run                 list the runs the file expands to; change nothing\n%s",
                    kTrainFlagsHelp);
        return 0;
    }
    std::set<std::string> valued = train_flag_names();
    Args a(argv, valued, {"--dry-run"});
    a.expect_positional(1, "EXPERIMENT.json");
    const TrainFlags flags = train_flags(a);
    const std::string file = a.positional()[0];

    if (a.has("--dry-run")) {
        const auto ex = experiments::read_experiment(file);
        std::printf("%s: %zu run(s)\n", ex.name.c_str(), ex.runs.size());
        for (size_t i = 0; i < ex.runs.size(); ++i) {
            const auto& r = ex.runs[i];
            std::printf("%3zu  dataset=%s %s\n", i + 1, r.dataset.c_str(),
                        experiments::describe(r, ex.axes).c_str());
        }
        return 0;
    }

    store::RunStore db(workspace_db(a));
    const auto ex = experiments::read_experiment(file, [&](const std::string& name) { return db.has_dataset(name); });
    const std::vector<int64_t> ids = experiments::queue(db, ex).run_ids;
    std::fprintf(stderr, "%s: %zu run(s) queued (ids %lld-%lld) in %s\n", ex.name.c_str(), ids.size(),
                 (long long)ids.front(), (long long)ids.back(), db.path().c_str());

    int failed = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
        if (console_interrupted()) break;
        const std::string factors = experiments::describe(ex.runs[i], ex.axes);
        const std::string label = "run " + std::to_string(ids[i]) + " (" + std::to_string(i + 1) + "/" +
                                  std::to_string(ids.size()) + ")";
        std::fprintf(stderr, "%s: %s\n", label.c_str(), factors.empty() ? "base config" : factors.c_str());
        const auto res = run_in_console(db, ids[i], label, flags);
        if (!print_run_outcome(db, ids[i], res)) ++failed;
    }
    if (console_interrupted())
        std::fprintf(stderr, "stopped by Ctrl-C; queued runs wait for gafx resume RUN\n");
    return failed || console_interrupted() ? 1 : 0;
}

} // namespace gafx::cli
