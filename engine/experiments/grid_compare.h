#pragma once
// Comparing a grid at a glance, on the runs group_runs counts (same rules: finished and
// evaluated, AudioSet runs are pretraining) and the statistic chosen (ReportOptions::statistic):
// - factor_effect: one point per run at its level of one factor, each level's mean with the 95 %
//   t interval, and the runs of one seed (and fold) joined across levels, so a reader sees
//   whether a factor wins on every seed or only on average;
// - parallel_coordinates: one axis per config key whose value varies among those runs (seed and
//   fold left out: they are repetitions, not factors), plus the statistic, one line per run.
#include "experiments/run_analysis.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gafx::experiments {

struct FactorLevel {
    std::string value;            // as group_runs prints it ("mel", "0.0005")
    MeanStd stat;                 // of the runs' statistic, in %
    std::vector<int64_t> runs;    // counted, in run order
    std::vector<double> values;   // their statistic, in %, aligned with runs
    std::vector<std::string> pairing; // "seed=S fold=F" of each, aligned with runs
};

struct FactorEffect {
    std::string factor;
    RunStatistic statistic = RunStatistic::ValSelected;
    std::vector<FactorLevel> levels; // sorted as group_runs sorts them (numbers as numbers)
    // Per "seed=S fold=F" present at two or more levels: its value (%) at each level, NaN where
    // that pairing has no run. What the plot joins with a line.
    std::map<std::string, std::vector<double>> paired;
    std::vector<LeftOut> left_out; // runs not counted, and why
};
// Throws gafx::Error naming the allowed factors when `factor` is unknown.
FactorEffect factor_effect(const std::string& factor, const std::vector<store::RunRecord>& runs,
                           const ReportOptions& options);

struct ParallelAxis {
    std::string name;                // a config key, or the statistic's name last
    bool numeric = false;            // every value a number: placed by value, else by level
    bool log = false;                // numeric, positive and spanning more than 20x (lr): placed by log
    std::vector<std::string> levels; // categorical: the values in sorted order
    double min = 0, max = 0;         // numeric: the range shown
};

struct ParallelLine {
    int64_t run = 0;
    std::vector<std::string> values; // per axis, as text (the statistic with two decimals)
    std::vector<double> position;    // per axis in [0, 1]: where the line crosses it
    double statistic = 0;            // in %
};

struct ParallelCoordinates {
    RunStatistic statistic = RunStatistic::ValSelected;
    std::vector<ParallelAxis> axes; // the varying factors, then the statistic
    std::vector<ParallelLine> lines;
    std::vector<LeftOut> left_out;
};
ParallelCoordinates parallel_coordinates(const std::vector<store::RunRecord>& runs, const ReportOptions& options);

// The config keys (in to_json order) whose values differ among `configs`, seed and fold left out.
std::vector<std::string> varying_keys(const std::vector<const ConfigValues*>& configs);
// For runs shown together (the embedding explorer's panels): each config's values of the keys
// that vary among them, "extractor=gafx-a lr=0.0005"; "" for all when only seeds and folds
// differ; "(config unreadable)" for a config that does not parse (left out of the comparison).
std::vector<std::string> varying_levels(const std::vector<std::string>& config_jsons);

} // namespace gafx::experiments
