#pragma once
// Several runs of a grid at once on one machine (`gafx train EXP --parallel N`, `--devices
// cuda:0,cuda:1`): one process per run (`gafx resume RUN` with that slot's flags), all writing
// into one workspace (WAL; each write waits for the others' locks). A run that starts from another
// (pretrained_run) starts once that one has finished.
#include "store/run_store.h"

#include <functional>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace gafx::workflows {

struct ParallelPlan {
    std::string exe;                             // the gafx binary
    std::vector<std::string> common;             // flags every process gets (--db, --cache, ...)
    std::vector<std::vector<std::string>> slots; // one per process at once: its own flags (--device, --threads)
    std::vector<int64_t> runs;                   // queued runs, in training order
    std::string log_dir;                         // each process's output: <log_dir>/run-<id>.log
};

struct ParallelEvent {
    enum class Kind { Started, Ended, NotStarted } kind = Kind::Started;
    int64_t run = 0;
    int slot = 0;
    pid_t pid = 0;
    int exit_code = 0;  // Ended: the process's (128 + signal when killed)
    std::string log;    // its output
    std::string reason; // NotStarted: why
};

// Splits `cores` among `n` processes: each gets cores / n torch threads (at least 1).
std::vector<std::vector<std::string>> cpu_slots(int n, int cores);
// One process per device ("cuda:0,cuda:1" as a list), each with `threads` torch threads.
std::vector<std::vector<std::string>> device_slots(const std::vector<std::string>& devices, int threads);

// The order the runs start in: the longest chain first (a run's experiments::run_cost plus the
// dearest chain of runs that start from it, through `starts_from`: run -> its pretrained_run),
// `runs`' order among equals. With runs of unequal cost this ends a grid sooner than training
// order, which can leave the dearest run for last, alone in one slot; a pretraining run goes
// ahead of what waits for it. A run without a cost counts 0.
std::vector<int64_t> start_order(const std::vector<int64_t>& runs, const std::map<int64_t, int64_t>& starts_from,
                                 const std::map<int64_t, int64_t>& cost);

// Runs the plan, starting runs in start_order; `on_event` hears each start and end on this thread. Once `stop()` turns true, no
// run starts, and each process is sent SIGTERM once (a trainer's clean stop: checkpointed,
// interrupted, resumable); the call returns when all have ended. The processes get their own
// process group, so a terminal's Ctrl-C reaches only this one, which passes it on once. A run
// whose pretraining run ended other than finished, or is queued with no one training it, is not
// started (NotStarted, left queued). Throws gafx::Error when a process cannot be started.
void train_in_processes(store::RunStore& db, const ParallelPlan& plan,
                        const std::function<void(const ParallelEvent&)>& on_event, const std::function<bool()>& stop);

} // namespace gafx::workflows
