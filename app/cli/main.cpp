#include "commands.h"
#include "dispatch.h"
#include "torch_part.h"

#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

namespace {

const char* kUsage =
    "usage: gafx <command> [args] [--db FILE] [--help]\n"
    "\n"
    "commands:\n"
    "  dataset demo DIR             write the built-in synthetic demo dataset\n"
    "  dataset import gtzan DIR     catalogue, validate and split a GTZAN-layout folder\n"
    "  dataset import audioset DIR|FILE.json\n"
    "                               catalogue an AudioSet release folder or AST JSON list\n"
    "  dataset list | show NAME     what the workspace holds\n"
    "  models [--json]              extractors and classifiers: parameters and shapes\n"
    "  features AUDIO --extractor E --out FILE.npy [--weights FILE]\n"
    "                               the (frames x 128) feature map of one file\n"
    "  train EXPERIMENT.json [--device cpu|cuda] [--threads N] [--dry-run] [--shard I/N]\n"
    "                               queue and run every config of an experiment\n"
    "  runs [--where FILTER] [--json]\n"
    "                               every run (or those a filter keeps): status, factors, accuracy\n"
    "  runs import OTHER.db...      merge other workspaces' runs (shards, Slurm tasks) by uuid\n"
    "  slurm EXPERIMENT.json [--submit]\n"
    "                               a Slurm job array training the grid's parts, one workspace each\n"
    "  tag TAGS RUN...|--where F    label runs (--remove, --list) | note RUN [TEXT]: a run's note\n"
    "  diff RUN_A RUN_B [--all]     the settings two runs differ in (config, split, versions)\n"
    "  embed RUN --out FILE.npy [--kind pooled|features] [--project pca|tsne --out2d F]\n"
    "                               per-track embeddings of a run (and a 2-D layout of them)\n"
    "  resume RUN | cancel RUN      continue a run from its checkpoint | stop it\n"
    "  bench train --extractor E --classifier C [--frames N] [--batch B] [--steps S]\n"
    "                               median seconds per training step on this machine\n"
    "  report [--table 3..7 | --group-by F,...] [--format md|csv|json]\n"
    "                               the paper's tables 3-7 (or any grouping) from the stored runs\n"
    "  weights list | fetch NAME | add FILE --name N\n"
    "                               pretrained weights (DeiT, Hybrid Demucs) runs start from\n"
    "  --version                    versions of gafx, libtorch, BLAS, Qt, SQLite, libsndfile\n";

} // namespace

int main(int argc, char** argv) {
    using namespace gafx::cli;
    // A file size limit (ulimit -f) is a write error with the path and the fix, not a core dump.
    std::signal(SIGXFSZ, SIG_IGN);
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::fputs(kUsage, args.empty() ? stderr : stdout);
        return args.empty() ? 2 : 0;
    }
    // The commands that run models are gafx-torch's (torch_part.h says why): gafx becomes it.
    const Command torch_part = [argv](const std::vector<std::string>&) -> int { exec_torch_part(argv); };
    return dispatch({{"dataset", cmd_dataset},
                     {"runs", cmd_runs},
                     {"cancel", cmd_cancel},
                     {"report", cmd_report},
                     {"tag", cmd_tag},
                     {"note", cmd_note},
                     {"diff", cmd_diff},
                     {"slurm", cmd_slurm},
                     {"--version", torch_part},
                     {"version", torch_part},
                     {"models", torch_part},
                     {"features", torch_part},
                     {"train", torch_part},
                     {"resume", torch_part},
                     {"bench", torch_part},
                     {"weights", torch_part},
                     {"embed", torch_part}},
                    args, kUsage);
}
