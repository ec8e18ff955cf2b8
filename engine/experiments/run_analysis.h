#pragma once
// What the Runs page and `gafx report` compute from stored runs: per-epoch curves of a run, the
// mean ± std band of several runs' curves, a run's track-level confusion matrix from its stored
// predictions, and runs grouped by config factors with mean ± sample std and the runs left out.
// report.cpp builds the paper's tables on the same counting, so every front end shows one number.
#include "experiments/confusion.h"
#include "store/run_store.h"

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace gafx::experiments {

// Mean, sample std (n - 1) and the 95 % Student t interval of the mean over the values that
// are not NaN; NaN where there is none to show (n = 0, or std and interval with n < 2).
struct MeanStd {
    int n = 0;
    double mean = std::numeric_limits<double>::quiet_NaN();
    double std = std::numeric_limits<double>::quiet_NaN();
    double ci_low = std::numeric_limits<double>::quiet_NaN(), ci_high = std::numeric_limits<double>::quiet_NaN();
};
MeanStd mean_std(const std::vector<double>& values);

// ---- Curves

struct Series {
    std::vector<double> x, y;
};

// Per epoch: test track accuracy (a fraction) and the train loss (the epoch's mean, `epoch_loss`).
// Also what the x-axis may be instead of the epoch: the step each epoch ended at, and the
// training time by then (epoch_seconds summed, so pauses and restarts do not count), plus the
// loss of every step.
struct RunCurves {
    Series track_accuracy, train_loss;
    std::map<int64_t, std::pair<int64_t, double>> epoch_end; // epoch -> (step, seconds of training)
    Series step_loss;                                         // x: step
};
RunCurves epoch_curves(const std::vector<store::MetricRow>& rows);

enum class CurveAxis { Epoch, Step, Seconds };
// A per-epoch series with its x moved to `axis` (epochs with no end recorded are dropped).
Series along(const Series& per_epoch, const RunCurves& c, CurveAxis axis);
// The train loss on `axis`: per step on Step (finer than per epoch), else per epoch.
Series train_loss_along(const RunCurves& c, CurveAxis axis);
// TensorBoard's smoothing: an exponential moving average with `weight` in [0, 1) (0: none),
// debiased so the first points are not pulled towards zero. NaN points pass through and do not
// enter the average.
Series smooth_ema(const Series& s, double weight);
// Reads the runs' metrics through a connection of its own, so a worker thread can call it.
// Throws gafx::Error, naming the run when one does not exist.
std::map<int64_t, RunCurves> load_curves(const std::string& db_path, const std::vector<int64_t>& runs);

// Per x present in any series: how many series have a (non-NaN) point there, their mean and
// sample std.
struct Band {
    std::vector<double> x, mean, std;
    std::vector<int> n;
};
Band mean_band(const std::vector<const Series*>& series);
// The band on `axis`: on Epoch and Step the series share their x values (runs of one config end
// epochs at the same steps), so it is mean_band; on Seconds every run has its own times, so
// each series is interpolated linearly at `points` evenly spaced times, within its own first and
// last point only (n counts the runs that reached that time).
Band mean_band_along(const std::vector<const Series*>& series, CurveAxis axis, int points = 60);

// ---- Which runs count, and groups

// Which number of a run the tables, groups and plots show. ValSelected: test track accuracy at
// the epoch chosen on val (the headline; nothing chosen on test). Final: test track accuracy at
// the last evaluated epoch (what a run without early selection would report). BestVal: the val
// track accuracy at that chosen epoch: the score the selection itself saw, optimistic for val,
// and never a test number.
enum class RunStatistic { ValSelected, Final, BestVal };
const char* to_string(RunStatistic s); // "val-selected" | "final" | "best-val"
// Throws gafx::Error naming the three when `text` is none of them.
RunStatistic parse_statistic(const std::string& text);
// For captions and notes: "test track accuracy at the epoch selected on val", ...
std::string describe(RunStatistic s);
// The run's track accuracy as `s` reads it (a fraction); NaN when it has none.
double track_statistic(const store::RunRecord& run, RunStatistic s);

struct ReportOptions {
    // What the track column is (clip accuracy and macro-F1 follow it where stored: val-selected
    // both, final clip accuracy only, best-val neither; per-class only val-selected).
    RunStatistic statistic = RunStatistic::ValSelected;
    // Also count runs that are not finished (running, paused, interrupted, cancelled, failed,
    // diverged) but evaluated at least once; each row lists them as unfinished.
    bool include_unfinished = false;
    // Datasets that are AudioSet (multi-label): runs on them are pretraining runs, never a row.
    std::set<std::string> pretraining_datasets;
    // The paper's tables count only runs on this (GTZAN-kind) dataset at preset "paper"; every
    // other run is listed as left out, with why. Grouping ignores it.
    std::string dataset = "gtzan";
    // The majority-class baseline of that dataset in % (majority_class_accuracy), shown as a row
    // of every paper table; NaN: none.
    double majority_track_accuracy = std::numeric_limits<double>::quiet_NaN();
    std::string dataset_note; // why there is no such dataset or baseline, for the tables' notes
    // Per run on that dataset: test track accuracy per class (%, NaN for a class with no test
    // track) from its stored predictions at the selected epoch; class_names index them. Filled
    // by report_options when asked; empty: no per-class columns.
    std::map<int64_t, std::vector<double>> per_class;
    std::vector<std::string> class_names;
};

// The options every front end reports with: the workspace's AudioSet datasets as pretraining,
// the paper tables on `paper_dataset` with its majority-class baseline (or a note saying why none).
// With `per_class`, also each evaluated run's per-class accuracy on that dataset (reads every such
// run's stored predictions).
ReportOptions report_options(store::RunStore& store, bool include_unfinished, const std::string& paper_dataset = "gtzan",
                             bool per_class = false);

// The simplest baseline: every test track given the class most frequent among the training
// tracks, scored on test (%). K-fold: the mean over folds. NaN for multi-label data or no split.
double majority_class_accuracy(const store::StoredDataset& dataset);

enum class LeftOutReason {
    UnreadableConfig, // its stored config does not parse (detail: why)
    Pretraining,      // trained on an AudioSet dataset
    Diverged,         // stopped on a NaN loss
    NotEvaluated,     // no epoch evaluated yet
    NoValidation,     // evaluated, but trained before validation splits: no epoch was chosen on val
    OtherDataset,     // a paper table, and the run is on another dataset (detail: its dataset)
    NotPaperPreset,   // a paper table, and the run is at another model preset (detail: it)
    Unfinished,       // evaluated but not finished, without include_unfinished (detail: its status)
};
const char* to_string(LeftOutReason reason);

struct LeftOut {
    int64_t run = 0;
    LeftOutReason reason = LeftOutReason::NotEvaluated;
    std::string detail;
};

// A run whose config parses, with every RunConfig key (in to_json order) and its value as JSON
// text ("mel", 8, 0.0005, true), defaults filled in.
using ConfigValues = std::vector<std::pair<std::string, std::string>>;
struct AnalysedRun {
    const store::RunRecord* run = nullptr;
    // Shared with every run of the same config text: parsed once per process (config_values).
    std::shared_ptr<const ConfigValues> values;
    const ConfigValues& config() const { return *values; }
    const std::string& value(const std::string& key) const; // throws std::out_of_range
};
// A stored config's keys and values, parsed once and remembered by its text (thread-safe; up to
// 100 000 texts, then forgotten and parsed again): the Runs page regroups 10 000 runs at every
// commit. Throws what parse_run_config throws.
std::shared_ptr<const ConfigValues> config_values(const std::string& config_json);

// Every RunConfig key, in to_json order: the factors grouping accepts.
std::vector<std::string> factor_names();
// Throws gafx::Error naming the allowed factors when `factors` is empty or has an unknown one.
void check_factors(const std::vector<std::string>& factors);

// The runs that can be grouped at all; the others (config unreadable, pretraining) go to
// `left_out`, in the order of `runs`.
std::vector<AnalysedRun> analysable_runs(const std::vector<store::RunRecord>& runs, const ReportOptions& options,
                                         std::vector<LeftOut>& left_out);

// The statistics of a set of matching runs. Statistics are in percent.
struct GroupStats {
    int n = 0;
    MeanStd track, clip, f1; // test track accuracy at the selected epoch, clip accuracy and macro-F1 there
    std::vector<MeanStd> per_class; // over counted runs with ReportOptions::per_class; empty when none has it
    // Counted runs' test track accuracy (%) by "seed=S fold=F": what paired tests pair on.
    std::map<std::string, double> track_by_pairing;
    std::vector<int64_t> run_ids, unfinished_run_ids; // counted runs; the unfinished among them
    std::vector<LeftOut> left_out;   // matching runs not counted, and why
    std::vector<std::string> mixed;  // factors other than seed in which the counted runs differ
    int diverged() const;
};
// A run counts when it evaluated and is finished (or include_unfinished).
GroupStats count_runs(const std::vector<const AnalysedRun*>& matched, const ReportOptions& options);

struct RunGroup {
    std::vector<std::string> values; // one per factor, as JSON text without string quotes
    std::string label;               // "extractor=mel classifier=ast-tiny"
    GroupStats stats;
};
struct Grouping {
    std::vector<std::string> factors;
    std::vector<RunGroup> groups;  // one per distinct combination, sorted by value (numbers as numbers)
    std::vector<LeftOut> left_out; // runs in no group: unreadable config, pretraining
};
// Checks `factors` as check_factors does.
Grouping group_runs(const std::vector<std::string>& factors, const std::vector<store::RunRecord>& runs,
                    const ReportOptions& options);

} // namespace gafx::experiments
