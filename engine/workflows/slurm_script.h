#pragma once
// `gafx slurm EXP`: a Slurm batch script whose job array trains the N parts of a grid
// (`gafx train EXP --shard I/N`), each task into its own workspace beside the job's output, since
// SQLite over NFS is not safe for many writers; `gafx runs import` merges them afterwards. Every
// task starts from a copy of a workspace holding only the datasets (write_datasets_workspace).
#include <string>

namespace gafx::store {
class RunStore;
}

namespace gafx::workflows {

struct SlurmJob {
    std::string gafx;        // the binary the tasks run (absolute)
    std::string experiment;  // the experiment file (absolute)
    std::string name;        // the experiment's name: the job's
    std::string out_dir;     // absolute: the script, the tasks' output and workspaces
    std::string datasets_db; // the datasets-only workspace each task copies
    std::string main_db;     // where the parts are merged, for the command printed at the end
    int shards = 1;
    std::string partition, time; // empty: the cluster's defaults
    int gpus_per_task = 0;
    int cpus_per_task = 0;       // 0: the cluster's default
    // Data parallelism: each run of a task on nodes_per_run nodes x ranks_per_node ranks (srun
    // gafx resume RUN; the ranks find each other through Slurm's environment). 0: one process.
    int nodes_per_run = 0;
    int ranks_per_node = 1;
};

// The script's text. Each task: copies the datasets workspace to OUT/part-I-of-N/ws.db (a part
// whose workspace exists is refused, naming gafx resume: queueing it again would train it twice),
// then `gafx train EXP --shard I/N --db that` with --device cuda when it has GPUs, and torch
// threads from SLURM_CPUS_PER_TASK. With nodes_per_run, the task queues its part
// (--queue-only) and trains each run with `srun gafx resume RUN`, one rank per Slurm task.
std::string slurm_script(const SlurmJob& job);

// A workspace at `path` with every dataset, class, track and split of `from`, and no run: the
// start of each task's own workspace. Replaces a file there.
void write_datasets_workspace(store::RunStore& from, const std::string& path);

} // namespace gafx::workflows
