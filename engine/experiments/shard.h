#pragma once
// Splitting a grid across machines (`gafx train EXP --shard I/N`, a Slurm job array): N disjoint
// parts that together hold every run once. A part is a function of the experiment files alone,
// never of a workspace, so every machine computes the same partition without talking to the others.
#include "experiments/experiment.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gafx::experiments {

// A run of a file set: files[file].runs[run].
struct RunRef {
    size_t file = 0;
    size_t run = 0;
    bool operator==(const RunRef& o) const { return file == o.file && run == o.run; }
    bool operator<(const RunRef& o) const { return file != o.file ? file < o.file : run < o.run; }
};

// The runs that must train in one workspace, in training order: a run that fine-tunes from another
// (pretrained_run named by experiment and seed) joins the run it resolves to when queued, the last
// run of that experiment with that seed in an earlier file (queue picks the newest). `files` in
// training order (workflows::read_files). Units come in the order of their first run.
std::vector<std::vector<RunRef>> training_units(const std::vector<Experiment>& files);

// The grid in `count` parts of whole units, balanced by estimated cost (experiments::run_cost):
// the dearest unit first, each to the part with the least cost so far (the lowest index on a
// tie), so no part exceeds another by more than one unit. Each part's runs in training order.
struct ShardPlan {
    std::vector<std::vector<RunRef>> parts;
    std::vector<int64_t> cost; // per part, run_cost's units
    int64_t total = 0;
    // `cost` as a percentage of the grid's (0 for a grid of no cost).
    double percent(int64_t cost) const { return total > 0 ? 100.0 * double(cost) / double(total) : 0.0; }
};
// Throws gafx::Error (field "shard") unless count >= 1.
ShardPlan plan_shards(const std::vector<Experiment>& files, int count);

// Part `index` (0-based) of plan_shards(files, count). Throws gafx::Error (field "shard") unless
// 0 <= index < count.
std::vector<RunRef> shard_runs(const std::vector<Experiment>& files, int index, int count);

// "I/N" as a user writes it, I from 1 to N: {I-1, N}. Throws gafx::Error (field "shard").
std::pair<int, int> parse_shard(const std::string& text);

} // namespace gafx::experiments
