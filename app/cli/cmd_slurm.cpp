#include "args.h"
#include "commands.h"

#include "core/atomic_file.h"
#include "core/error.h"
#include "experiments/shard.h"
#include "store/run_store.h"
#include "workflows/queue_file.h"
#include "workflows/slurm_script.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sys/wait.h>

namespace fs = std::filesystem;

namespace gafx::cli {

int cmd_slurm(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        std::printf("usage: gafx slurm EXPERIMENT.json [--shards N] [--partition P] [--gpus-per-task G]\n"
                    "                  [--cpus-per-task C] [--time T] [--nodes-per-run K [--ranks-per-node R]]\n"
                    "                  [--out DIR] [--submit] [--db FILE]\n\n"
                    "writes a Slurm batch script whose job array trains the grid in N parts (gafx train --shard I/N),\n"
                    "each task into its own workspace under DIR (SQLite over NFS is not safe for many writers),\n"
                    "starting from a copy of this workspace's datasets (DIR/datasets.db). Their audio must be at the\n"
                    "same paths on the nodes (a shared filesystem); else import them on the cluster and run gafx slurm\n"
                    "there. When the job has ended: gafx runs import DIR/part-*/ws.db merges the parts here.\n\n"
                    "  --shards N          tasks in the array (default: one per part of the grid that must train\n"
                    "                      together, a pretraining run with the runs that start from it)\n"
                    "  --gpus-per-task G   GPUs per task; the tasks train on cuda (default: none, cpu)\n"
                    "  --cpus-per-task C   cores per task, also its torch threads (default: the cluster's)\n"
                    "  --partition P, --time T   passed to #SBATCH as given\n"
                    "  --out DIR           where the script, datasets.db, the tasks' output and parts go\n"
                    "                      (default: ./gafx-slurm-NAME)\n"
                    "  --submit            run sbatch on the script and print the job id (else print the command)\n"
                    "  --nodes-per-run K   each run data-parallel on K nodes (a K-node job per task; srun gafx resume RUN,\n"
                    "                      one rank per Slurm task, rank 0 on the job's first node). The workspace folder\n"
                    "                      must be shared by the nodes: every rank reads its checkpoint\n"
                    "  --ranks-per-node R  ranks on each of those nodes (default 1; with GPUs, one per GPU)\n");
        return 0;
    }
    Args a(argv,
           {"--shards", "--partition", "--gpus-per-task", "--cpus-per-task", "--time", "--out", "--db", "--nodes-per-run",
            "--ranks-per-node"},
           {"--submit"});
    a.expect_positional(1, "EXPERIMENT.json");
    const std::string file = fs::absolute(a.positional()[0]).string();
    store::RunStore db(workspace_db(a));
    // The tasks get this workspace's datasets: each run's must be here.
    const auto files = workflows::read_files(file, [&db](const std::string& name) { return db.has_dataset(name); });
    const auto exs = workflows::experiments_of(files);
    const long long units = (long long)experiments::training_units(exs).size();
    const long long shards = a.get_int("--shards", units);
    if (shards < 1 || shards > 100000) throw UsageError("--shards N with 1 <= N <= 100000");
    if (shards > units)
        std::fprintf(stderr, "note: %lld task(s) for %lld part(s) that must train together: %lld will find nothing to do\n",
                     shards, units, shards - units);

    workflows::SlurmJob job;
    job.gafx = this_gafx();
    job.experiment = file;
    job.name = files.back().experiment.name;
    job.out_dir = fs::absolute(a.get_or("--out", "gafx-slurm-" + job.name)).lexically_normal().string();
    job.main_db = fs::absolute(db.path()).string();
    job.shards = int(shards);
    job.partition = a.get_or("--partition", "");
    job.time = a.get_or("--time", "");
    job.gpus_per_task = int(a.get_int("--gpus-per-task", 0));
    job.cpus_per_task = int(a.get_int("--cpus-per-task", 0));
    if (job.gpus_per_task < 0 || job.cpus_per_task < 0) throw UsageError("--gpus-per-task and --cpus-per-task >= 0");
    job.nodes_per_run = int(a.get_int("--nodes-per-run", 0));
    job.ranks_per_node = int(a.get_int("--ranks-per-node", 1));
    if (job.nodes_per_run < 0 || job.nodes_per_run > 4096 || job.ranks_per_node < 1 || job.ranks_per_node > 256)
        throw UsageError("--nodes-per-run K with 1 <= K <= 4096, --ranks-per-node R with 1 <= R <= 256");
    if (a.has("--ranks-per-node") && job.nodes_per_run == 0) job.nodes_per_run = 1;
    fs::create_directories(job.out_dir);
    job.datasets_db = job.out_dir + "/datasets.db";
    workflows::write_datasets_workspace(db, job.datasets_db);
    const std::string script = job.out_dir + "/job.sh";
    const std::string text = workflows::slurm_script(job);
    write_file_atomic(script, [&](const auto& write) { write(text.data(), text.size()); });
    fs::permissions(script, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add);
    size_t runs = 0;
    for (const auto& e : exs) runs += e.runs.size();
    std::printf("wrote %s: %lld task(s) for %zu run(s), datasets in %s\n", script.c_str(), shards, runs,
                job.datasets_db.c_str());
    // --time must fit the dearest task: say how far apart the parts are.
    const auto plan = experiments::plan_shards(exs, int(shards));
    const auto [lo, hi] = std::minmax_element(plan.cost.begin(), plan.cost.end());
    if (plan.total > 0 && shards > 1)
        std::printf("parts by estimated cost: the largest %.1f %% of the grid, the smallest %.1f %% (give --time for "
                    "the largest)\n",
                    plan.percent(*hi), plan.percent(*lo));
    const std::string submit = "sbatch " + script;
    if (!a.has("--submit")) {
        std::printf("submit it with: %s\nthen merge the parts here: gafx runs import %s/part-*/ws.db --db %s\n",
                    submit.c_str(), job.out_dir.c_str(), job.main_db.c_str());
        return 0;
    }
    std::fflush(stdout);
    const int rc = std::system(submit.c_str());
    if (rc != 0) {
        std::fprintf(stderr, "gafx: error: %s failed (exit %d): is Slurm installed and its controller reachable?\n",
                     submit.c_str(), WIFEXITED(rc) ? WEXITSTATUS(rc) : rc);
        return 1;
    }
    std::printf("when the job has ended, merge the parts here: gafx runs import %s/part-*/ws.db --db %s\n",
                job.out_dir.c_str(), job.main_db.c_str());
    return 0;
}

} // namespace gafx::cli
