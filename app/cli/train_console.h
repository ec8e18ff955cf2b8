#pragma once
// Runs the trainer in the terminal for `gafx train` and `gafx resume`: a progress line, one line
// per epoch, and Ctrl-C (or SIGTERM) as a clean stop that leaves the run interrupted and
// resumable.
#include "train/trainer.h"

#include <set>
#include <string>
#include <vector>

namespace gafx::store {
class RunStore;
}

namespace gafx::cli {

struct TrainFlags {
    train::TrainOptions options; // options.world: from torchrun's or Slurm's environment, --backend
    std::string cache_dir;       // empty: no waveform cache
    int nproc = 1;               // --nproc: ranks this command starts for each run
};

// Parses --device, --threads, --loader-threads, --checkpoint-minutes, --cache DIR (or "none"),
// --nproc, --backend, and the data-parallel environment (train::world_from_env).
class Args;
TrainFlags train_flags(const Args& a);
// The option names train_flags reads, for Args.
const std::set<std::string>& train_flag_names();
extern const char* kTrainFlagsHelp;

// Trains one run; returns its result. The first Ctrl-C asks for a clean stop, a second one
// kills the process at once (the checkpoint on disk stays valid either way).
train::RunResult run_in_console(store::RunStore& store, int64_t run_id, const std::string& label,
                                const TrainFlags& flags);

// "run N finished: test track accuracy ... at epoch E selected on val ..." or why it did not
// finish, on stdout; true when it finished.
bool print_run_outcome(store::RunStore& store, int64_t run_id, const train::RunResult& result);

// The flags a `gafx resume` this process starts gets from it (--db, --cache, --loader-threads,
// --checkpoint-minutes), for --parallel and --nproc; and the folder their output goes to.
std::vector<std::string> child_flags(const store::RunStore& store, const TrainFlags& flags);
std::string child_log_dir(const store::RunStore& store);

// --nproc N: the run trained by N local ranks (each a gafx resume process), its outcome printed
// as print_run_outcome does; true when it finished. Ctrl-C stops every rank at one step.
bool train_with_ranks(store::RunStore& store, int64_t run_id, const TrainFlags& flags);

// True once Ctrl-C was pressed during run_in_console: callers stop starting further runs.
bool console_interrupted();
// Ctrl-C and SIGTERM only set console_interrupted(), for a process that trains in others
// (--parallel); a second one ends it at once.
void catch_stop_signals();

} // namespace gafx::cli
