#include "workflows/slurm_script.h"

#include "core/error.h"
#include "store/run_store.h"
#include "store/workspace_copy.h"

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

namespace gafx::workflows {
namespace {

// Single quotes for bash: a path with a space or a quote stays one word.
std::string quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

} // namespace

std::string slurm_script(const SlurmJob& job) {
    const std::string n = std::to_string(job.shards);
    std::string s = "#!/bin/bash\n"
                    "# Written by gafx slurm: trains the " + n + " part(s) of " + job.experiment + ",\n"
                    "# one array task each, every task into its own workspace (SQLite over NFS is not safe for\n"
                    "# many writers). When all have ended, merge them:\n"
                    "#   " + job.gafx + " runs import " + job.out_dir + "/part-*/ws.db --db " + job.main_db + "\n"
                    "#SBATCH --job-name=gafx-" + job.name + "\n"
                    "#SBATCH --array=1-" + n + "\n"
                    "#SBATCH --output=" + job.out_dir + "/%x-%A_%a.out\n";
    if (!job.partition.empty()) s += "#SBATCH --partition=" + job.partition + "\n";
    if (!job.time.empty()) s += "#SBATCH --time=" + job.time + "\n";
    if (job.gpus_per_task > 0) s += "#SBATCH --gpus-per-task=" + std::to_string(job.gpus_per_task) + "\n";
    if (job.cpus_per_task > 0) s += "#SBATCH --cpus-per-task=" + std::to_string(job.cpus_per_task) + "\n";
    if (job.nodes_per_run > 0)
        s += "#SBATCH --nodes=" + std::to_string(job.nodes_per_run) + "\n#SBATCH --ntasks-per-node=" +
             std::to_string(std::max(1, job.ranks_per_node)) + "\n";
    s += "set -euo pipefail\n"
         "I=${SLURM_ARRAY_TASK_ID:?run this with sbatch (or set SLURM_ARRAY_TASK_ID)}\n"
         "PART=" + quoted(job.out_dir) + "/part-$I-of-" + n + "\n"
         "mkdir -p \"$PART\"\n"
         "if [ -e \"$PART/ws.db\" ]; then\n"
         "  # Queuing the part again would train it twice; what is left continues with gafx resume.\n"
         "  echo \"$PART/ws.db exists: this part was started before; continue its runs with gafx resume RUN --db $PART/ws.db\" >&2\n"
         "  exit 1\n"
         "fi\n"
         "cp " + quoted(job.datasets_db) + " \"$PART/ws.db\"\n";
    const std::string device = job.gpus_per_task > 0 ? " --device cuda" : "";
    if (job.nodes_per_run <= 0)
        return s + "exec " + quoted(job.gafx) + " train " + quoted(job.experiment) + " --shard \"$I/" + n +
               "\" --db \"$PART/ws.db\" --threads \"${SLURM_CPUS_PER_TASK:-0}\"" + device + "\n";
    // Queued once here; every run then trains on all of the job's tasks, rank = SLURM_PROCID,
    // rank 0 on the first node of the job (train::world_from_env).
    return s + "IDS=$(" + quoted(job.gafx) + " train " + quoted(job.experiment) + " --shard \"$I/" + n +
           "\" --db \"$PART/ws.db\" --queue-only | cut -f1)\n"
           "FAILED=0\n"
           "for ID in $IDS; do\n"
           "  srun --kill-on-bad-exit=1 " + quoted(job.gafx) + " resume \"$ID\" --db \"$PART/ws.db\" --threads \"${SLURM_CPUS_PER_TASK:-0}\"" +
           device + " || FAILED=1\n"
           "done\n"
           "exit $FAILED\n";
}

void write_datasets_workspace(store::RunStore& from, const std::string& path) {
    std::error_code ec;
    for (const char* tail : {"", "-wal", "-shm"}) fs::remove(path + tail, ec);
    store::copy_datasets(from.path(), path);
}

} // namespace gafx::workflows
