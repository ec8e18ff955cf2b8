#include "args.h"
#include "commands.h"
#include "train_console.h"

#include "core/error.h"
#include "store/run_store.h"
#include "train/trainer.h"

#include <cstdio>

namespace gafx::cli {

int cmd_resume(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        std::printf("usage: gafx resume RUN [options]\n\n"
                    "continues a run that was interrupted (Ctrl-C, kill -9, power loss), paused, cancelled or\n"
                    "never started, from its last checkpoint: metric rows logged after that checkpoint are\n"
                    "dropped and recomputed, so the run ends with the history an uninterrupted run has (same\n"
                    "--threads). A failed or diverged run continues only with --retry: the same config tends\n"
                    "to end the same way, so fix the cause first.\n\n"
                    "  --retry                   also continue a failed or diverged run\n%s",
                    kTrainFlagsHelp);
        return 0;
    }
    Args a(argv, train_flag_names(), {"--retry"});
    const int64_t id = run_id_arg(a);
    const TrainFlags flags = train_flags(a);
    store::RunStore db(workspace_db(a));
    if (flags.options.world.rank > 0) {
        // A rank other than 0 of a data-parallel run: rank 0 decides whether the run trains and
        // writes everything; this one follows it and writes nothing.
        const auto res = run_in_console(db, id, "run " + std::to_string(id) + " rank " +
                                                    std::to_string(flags.options.world.rank), flags);
        return res.status == store::RunStatus::Finished ? 0 : 1;
    }
    train::mark_dead_runs_interrupted(db);
    const auto r = existing_run(db, id);
    switch (store::decide_resume(r.status, a.has("--retry"))) {
    case store::ResumeDecision::AlreadyRunning:
        throw Error(db.path(), "run " + std::to_string(id) + " is running (pid " + std::to_string(r.pid) + " on " +
                                   r.host + ")",
                    "wait for it, or stop it with gafx cancel " + std::to_string(id));
    case store::ResumeDecision::AlreadyFinished:
        std::printf("run %lld already finished\n", (long long)id);
        return 0;
    case store::ResumeDecision::NeedsRetryFlag:
        throw Error(db.path(), store::resume_refusal(id, r.status, r.error, "gafx resume --retry " + std::to_string(id)));
    case store::ResumeDecision::Resume:
    case store::ResumeDecision::Retry:
        break;
    }
    if (flags.nproc > 1) return train_with_ranks(db, id, flags) ? 0 : 1;
    const auto res = run_in_console(db, id, "run " + std::to_string(id), flags);
    return print_run_outcome(db, id, res) ? 0 : 1;
}

} // namespace gafx::cli
