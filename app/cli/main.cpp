#include "args.h"
#include "commands.h"
#include "core/build_info.h"
#include "core/cpu_tuning.h"
#include "core/error.h"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>

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
    gafx::tune_cpu_runtime(argv);
    // A file size limit (ulimit -f) is a write error with the path and the fix, not a core dump.
    std::signal(SIGXFSZ, SIG_IGN);
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::fputs(kUsage, args.empty() ? stderr : stdout);
        return args.empty() ? 2 : 0;
    }
    const std::map<std::string, std::function<int(const std::vector<std::string>&)>> nouns = {
        {"--version", cmd_version}, {"version", cmd_version}, {"dataset", cmd_dataset},
        {"models", cmd_models},     {"features", cmd_features}, {"train", cmd_train},
        {"runs", cmd_runs},         {"resume", cmd_resume},     {"cancel", cmd_cancel},
        {"report", cmd_report},     {"bench", cmd_bench},       {"weights", cmd_weights},
        {"tag", cmd_tag},           {"note", cmd_note},         {"diff", cmd_diff},
        {"embed", cmd_embed},       {"slurm", cmd_slurm}};
    auto it = nouns.find(args[0]);
    if (it == nouns.end()) {
        std::fprintf(stderr, "gafx: unknown command '%s'\n\n%s", args[0].c_str(), kUsage);
        return 2;
    }
    try {
        return it->second(std::vector<std::string>(args.begin() + 1, args.end()));
    } catch (const UsageError& e) {
        std::fprintf(stderr, "gafx %s: %s (see gafx %s --help)\n", args[0].c_str(), e.what(),
                     args[0].c_str());
        return 2;
    } catch (const gafx::Error& e) {
        std::fprintf(stderr, "gafx: error: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "gafx: error: %s\n", e.what());
        return 1;
    }
}
