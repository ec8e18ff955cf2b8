#pragma once
// Splitting a grid across machines (`gafx train EXP --shard I/N`, a Slurm job array): N disjoint
// parts that together hold every run once. A part is a function of the experiment files alone,
// never of a workspace, so every machine computes the same partition without talking to the others.
#include "experiments/experiment.h"

#include <cstddef>
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

// Shard `index` (0-based) of `count`: whole units, each given in turn to the part with the fewest
// runs so far (the lowest index on a tie). Sorted in training order. Throws gafx::Error (field
// "shard") unless 0 <= index < count.
std::vector<RunRef> shard_runs(const std::vector<Experiment>& files, int index, int count);

// "I/N" as a user writes it, I from 1 to N: {I-1, N}. Throws gafx::Error (field "shard").
std::pair<int, int> parse_shard(const std::string& text);

} // namespace gafx::experiments
